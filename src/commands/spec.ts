// `tg spec`: the TaskSpec JSON that --field options imply (with --input, its input_schema from the
// file's columns), to keep, edit and pass to `tg submit --spec`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../context';
import { EXIT, usageError } from '../errors';
import { detectFormat, spoolStdin } from '../io/rows';
import type { SpecOptions } from '../options';
import { fieldSpec } from './submit/fieldspec';

export async function spec(o: SpecOptions, ctx: Context): Promise<number> {
  if (!o.field?.length)
    throw usageError('tg spec needs at least one --field', "Example: tg spec --field 'ceo_name: full name of the CEO' --input companies.csv > spec.json");
  if (!o.input) return print(await fieldSpec(o.field), ctx);
  const format = detectFormat(o.input, o.format);
  if (o.input !== '-') return print(await fieldSpec(o.field, { file: path.resolve(ctx.io.cwd, o.input), format, shown: o.input }), ctx);
  // stdin: spooled to a private temp directory, read, removed
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-spec-'));
  try {
    const file = await spoolStdin(ctx.io.stdin, dir);
    return print(await fieldSpec(o.field, { file, format, shown: '<stdin>' }), ctx);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function print(s: unknown, ctx: Context): number {
  ctx.io.stdout.write(JSON.stringify(s, null, 2) + '\n');
  return EXIT.OK;
}
