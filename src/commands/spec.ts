// `tg spec`: the TaskSpec JSON that --field options imply (with --input, its input_schema from the
// file's columns), to keep, edit and pass to `tg submit --spec`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../context';
import { EXIT, usageError } from '../errors';
import { spoolStdin } from '../io/rows';
import { formatOf, openRows, sniffFile, type Format } from '../io/formats';
import type { SpecOptions } from '../options';
import { fieldSpec } from './submit/fieldspec';

export async function spec(o: SpecOptions, ctx: Context): Promise<number> {
  if (!o.field?.length)
    throw usageError('tg spec needs at least one --field', "Example: tg spec --field 'ceo_name: full name of the CEO' --input companies.csv > spec.json");
  if (!o.input) return print(await fieldSpec(o.field), ctx);
  if (o.input !== '-') return print(await specOf(o, path.resolve(ctx.io.cwd, o.input), o.input, formatOf(o.input, o.format)), ctx);
  // stdin: spooled to a private temp directory, read, removed
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-spec-'));
  try {
    const file = await spoolStdin(ctx.io.stdin, dir);
    const sniffed = o.format ? null : await sniffFile(file);
    if (sniffed) ctx.info(`tg: stdin ${sniffed.says} (--format chooses)`);
    return print(await specOf(o, file, '<stdin>', sniffed?.format ?? formatOf('-', o.format)), ctx);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function specOf(o: SpecOptions, file: string, shown: string, format: Format) {
  const columns = () => openRows(file, { format: format.name, shown, delimiter: o.delimiter, encoding: o.encoding, sheet: o.sheet, ragged: true });
  return fieldSpec(o.field!, { columns, textCells: format.textCells });
}

function print(s: unknown, ctx: Context): number {
  ctx.io.stdout.write(JSON.stringify(s, null, 2) + '\n');
  return EXIT.OK;
}
