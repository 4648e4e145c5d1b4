// `tg spec`: the TaskSpec JSON that --field options imply (with --input, its input_schema from the
// file's columns), to keep, edit and pass to `tg submit --spec`.
import path from 'node:path';
import type { Context } from '../context';
import { EXIT, usageError } from '../errors';
import { detectFormat } from '../io/rows';
import type { SpecOptions } from '../options';
import { fieldSpec } from './submit/fieldspec';

export async function spec(o: SpecOptions, ctx: Context): Promise<number> {
  if (!o.field?.length)
    throw usageError('tg spec needs at least one --field', "Example: tg spec --field 'ceo_name: full name of the CEO' --input companies.csv > spec.json");
  const input = o.input ? { file: path.resolve(ctx.io.cwd, o.input), format: detectFormat(o.input, o.format), shown: o.input } : undefined;
  const s = await fieldSpec(o.field, input);
  ctx.io.stdout.write(JSON.stringify(s, null, 2) + '\n');
  return EXIT.OK;
}
