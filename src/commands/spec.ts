// `tg spec`: the TaskSpec JSON that --field options imply (with --input, its input_schema from the
// file's columns), to keep, edit and pass to `tg submit --spec`. With --intent, the output fields
// are the API's suggestion (its processor and warnings on stderr): the very spec `tg submit
// --intent` with the same intent and input sends.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../context';
import { EXIT, usageError } from '../errors';
import { spoolStdin } from '../io/rows';
import { formatOf, openRows, sniffFile, type Format } from '../io/formats';
import type { SpecOptions } from '../options';
import type { TaskSpec } from '../core/wire';
import { fieldSpec, intentSpec, type SpecInput } from '../flows/spec';
import { stateDir } from '../flows/state';

export async function spec(o: SpecOptions, ctx: Context): Promise<number> {
  if (!o.field?.length && o.intent === undefined)
    throw usageError(
      'tg spec needs at least one --field, or --intent',
      `Example: tg spec --field 'ceo_name: full name of the CEO' --input companies.csv > spec.json (or --intent "the CEO of each company")`,
    );
  // The in-process emulator's suggestions are not kept (its groups vanish with it).
  const make = (input?: SpecInput): Promise<TaskSpec> =>
    o.intent !== undefined
      ? intentSpec({ intent: o.intent, field: o.field, fullReport: true }, ctx, input, ctx.global.emulator ? null : stateDir(ctx)).then((r) => r.spec)
      : fieldSpec(o.field ?? [], input);
  if (!o.input) return print(await make(), ctx);
  if (o.input !== '-') return print(await make(inputOf(o, path.resolve(ctx.io.cwd, o.input), o.input, formatOf(o.input, o.format))), ctx);
  // stdin: spooled to a private temp directory, read, removed
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-spec-'));
  try {
    const file = await spoolStdin(ctx.io.stdin, dir);
    const sniffed = o.format ? null : await sniffFile(file);
    if (sniffed) ctx.info(`tg: stdin ${sniffed.says} (--format chooses)`);
    return print(await make(inputOf(o, file, '<stdin>', sniffed?.format ?? formatOf('-', o.format))), ctx);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The input whose header makes the input_schema, read with the reading options given. */
function inputOf(o: SpecOptions, file: string, shown: string, format: Format): SpecInput {
  const columns = () => openRows(file, { format: format.name, shown, delimiter: o.delimiter, encoding: o.encoding, sheet: o.sheet, ragged: true });
  return { columns, textCells: format.textCells };
}

function print(s: unknown, ctx: Context): number {
  ctx.io.stdout.write(JSON.stringify(s, null, 2) + '\n');
  return EXIT.OK;
}
