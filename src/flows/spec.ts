// The spec of --field options: output fields from the options, input_schema from the input's
// columns (its header, or its first JSON row's keys), read from the file itself. And the spec of
// --intent: the output fields and processor the API suggests, kept so that a rerun sends the very
// same rows (see intentSpec).
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { RowSource } from '../io/formats';
import { makeDir, writeFileAtomic } from '../io/durable';
import { fieldSchema, parseField, parseFields, specFromFields, type Field } from '../core/fields';
import { fieldOption, fieldsFromSuggestion, pickProcessor, plainInputSchema, shellQuote, warningLines } from '../core/suggest';
import { PROCESSORS } from '../core/processors';
import { shownPath } from '../core/util';
import { atPath, inputError, usageError } from '../errors';
import type { TaskSpec } from '../core/wire';
import type { Context } from '../context';
import { apiOrigin } from './state';

/** The columns of an input: its header (the first row's keys); null for rows that are not objects. */
export async function inputColumns(src: RowSource): Promise<string[] | null> {
  for await (const batch of src.batches) {
    await src.batches.return(undefined); // only the header (the first row's keys) matters
    const v = batch[0]?.value;
    if (src.info.columns) return src.info.columns;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : null;
  }
  return src.info.columns ?? null;
}

/** An input whose columns make the input_schema: how to read its header, and whether its cells are text. */
export interface SpecInput {
  columns: () => RowSource;
  textCells: boolean;
  /** --input-column: runs are sent one column's text, so no input_schema. */
  inputColumn?: string;
}

/** The TaskSpec of --field options. With an input, its columns make the input_schema. */
export async function fieldSpec(raw: string[], input?: SpecInput): Promise<TaskSpec> {
  const fields = parseFields(raw);
  if (!input || input.inputColumn !== undefined) return specFromFields(fields);
  const columns = await inputColumns(input.columns());
  return specFromFields(fields, columns ? { columns, csv: input.textCells } : undefined);
}

// ----- --intent -----

export interface IntentOptions {
  intent: string;
  field?: string[];
  spec?: string;
  processor?: string;
  /** --processor was given on the command line (it then wins over the suggested one). */
  processorGiven?: boolean;
  /** Say the whole suggestion even when it was kept from an earlier run (`tg spec`); else one line then. */
  fullReport?: boolean;
}

export interface IntentSpec {
  spec: TaskSpec;
  /** The processor to run: --processor when given, else the suggested one (else --processor's default). */
  processor: string | undefined;
  fields: Field[];
}

/** What is kept of a suggestion, in `<state dir>/suggestions/<key>.json`. */
interface Kept {
  v: 1;
  origin: string;
  intent: string;
  columns: string[] | null;
  asked_at: string;
  title: string;
  fields: Field[];
  notes: string[];
  warnings: string[];
  processor: string | null;
  recommended_processors: string[];
}

/**
 * --intent: the spec (and processor) the API suggests for the intent and the input's columns.
 * The first answer for an (API, intent, columns) is kept in `<dir>/suggestions/` and used by every
 * later run, so a rerun of the same command sends the very same rows (the suggest endpoint need not
 * answer the same twice); `dir` null keeps nothing (the in-process emulator). Nothing is paid here.
 */
export async function intentSpec(o: IntentOptions, ctx: Context, input: SpecInput | undefined, dir: string | null): Promise<IntentSpec> {
  if (o.field?.length || o.spec)
    throw usageError(
      `--intent and --${o.spec ? 'spec' : 'field'} cannot go together`,
      'Use one: --intent asks the API for the fields; --field or --spec gives them (`tg spec --intent … > spec.json` writes the suggested spec to edit).',
    );
  const intent = o.intent.trim();
  if (!intent) throw usageError('--intent is empty', 'Say what to find for each row, e.g. --intent "the CEO and the founding year"');
  const csv = input?.textCells ?? false;
  const columns = input && input.inputColumn === undefined ? await inputColumns(input.columns()) : null;
  const origin = apiOrigin(ctx);
  const key = createHash('sha256')
    .update(JSON.stringify([origin, intent, columns, csv]))
    .digest('hex')
    .slice(0, 16);
  const file = dir === null ? null : path.join(dir, 'suggestions', `${key}.json`);
  const read = file ? readKept(file, ctx) : null;
  let kept: Kept;
  const where = file && shownPath(file, ctx.io.cwd, ctx.io.env.HOME);
  if (read && read !== 'damaged') {
    kept = read;
    ctx.info(`tg: --intent: the API's suggestion of ${kept.asked_at}, kept in ${where} (delete it to ask again)`);
  } else {
    kept = await ask(ctx, { origin, intent, columns, csv });
    if (file) kept = keep(file, kept, read === 'damaged');
    if (file) ctx.info(`tg: --intent: the API's suggestion, kept in ${where}: a rerun with the same intent and columns uses it`);
  }
  if (o.fullReport || !read || read === 'damaged') report(ctx, kept, o);
  else ctx.info(`tg: --intent: fields ${kept.fields.map((f) => f.name).join(', ')}; ${processorText(kept, o)}`);
  const processor = o.processorGiven ? o.processor : (kept.processor ?? o.processor);
  return { spec: specFromFields(kept.fields, columns ? { columns, csv } : undefined), processor, fields: kept.fields };
}

/** Ask the API: the fields for the intent, then the processors for the spec they make. */
async function ask(ctx: Context, q: { origin: string; intent: string; columns: string[] | null; csv: boolean }): Promise<Kept> {
  const client = await ctx.client();
  const inputSchema = q.columns ? plainInputSchema(q.columns, q.csv) : undefined;
  ctx.display.phase('asking the API for the fields of --intent');
  try {
    const answer = await client.suggestTask({ user_intent: q.intent, ...(inputSchema ? { previous_task: { input_schema: inputSchema } } : {}) }, ctx.signal);
    const { fields, notes } = fieldsFromSuggestion(answer.output_schema);
    if (!fields.length)
      throw inputError(
        `--intent: the API suggested no output fields for "${q.intent}"`,
        "Say what to find for each row in other words, or give the fields with --field 'NAME: DESCRIPTION'.",
      );
    const properties = Object.fromEntries(fields.map((f) => [f.name, fieldSchema(f)]));
    const task_spec = { input_schema: inputSchema ?? answer.input_schema, output_schema: { type: 'object', properties, required: fields.map((f) => f.name) } };
    ctx.display.phase('asking the API for a processor for --intent');
    const { recommended_processors } = await client.suggestProcessors({ task_spec }, ctx.signal);
    const recommended = Array.isArray(recommended_processors) ? recommended_processors.filter((p) => typeof p === 'string') : [];
    return {
      v: 1,
      origin: q.origin,
      intent: q.intent,
      columns: q.columns,
      asked_at: new Date(ctx.clock.now()).toISOString(),
      title: typeof answer.title === 'string' ? answer.title : '',
      fields,
      notes,
      warnings: warningLines(answer.warnings),
      processor: pickProcessor(recommended, PROCESSORS).processor,
      recommended_processors: recommended,
    };
  } finally {
    ctx.display.phase('');
  }
}

/** The suggestion on stderr: its fields (as the --field options that give them), the processor, what tg changed, the API's warnings. */
function report(ctx: Context, k: Kept, o: IntentOptions) {
  ctx.info(`tg: --intent: ${k.title ? `"${k.title}": ` : ''}${k.fields.length} output field${k.fields.length === 1 ? '' : 's'}`);
  for (const f of k.fields) ctx.info(`tg:   ${f.name} (${f.type}): ${f.description}`);
  ctx.info(`tg: as --field options: ${k.fields.map((f) => `--field ${shellQuote(fieldOption(f))}`).join(' ')}`);
  if (o.processorGiven || k.processor) ctx.info(`tg: --intent: ${processorText(k, o)}`);
  else
    ctx.warn(
      `tg: warning: --intent: no processor tg knows among those the API recommends (${k.recommended_processors.join(', ') || 'none'}); using ${o.processor ? `--processor ${o.processor}` : "submit's default processor"}`,
    );
  for (const n of k.notes) ctx.warn(`tg: warning: --intent: ${n}`);
  for (const w of k.warnings) ctx.warn(`tg: warning: the API's suggestion: ${w}`);
}

function processorText(k: Kept, o: IntentOptions): string {
  const rec = k.recommended_processors.length ? `the API recommends ${k.recommended_processors.join(', then ')}` : 'the API recommended no processor';
  if (o.processorGiven) return `processor ${o.processor} (--processor; ${rec})`;
  return `processor ${k.processor ?? o.processor ?? 'base'} (${rec}; --processor on submit overrides it)`;
}

/** A kept suggestion; null when there is none; 'damaged' (said) when it cannot be used. */
function readKept(file: string, ctx: Context): Kept | null | 'damaged' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const k = JSON.parse(text) as Kept;
    if (k.v !== 1 || !Array.isArray(k.fields) || !k.fields.length || !Array.isArray(k.recommended_processors)) throw new Error('not a kept suggestion');
    k.fields = k.fields.map((f) => parseField(fieldOption(f)));
    if (k.processor !== null && !PROCESSORS.has(k.processor)) throw new Error(`unknown processor ${k.processor}`);
    return { ...k, notes: k.notes ?? [], warnings: k.warnings ?? [], title: k.title ?? '' };
  } catch {
    ctx.warn(`tg: warning: --intent: the kept suggestion ${shownPath(file, ctx.io.cwd, ctx.io.env.HOME)} is damaged; asking the API again`);
    return 'damaged';
  }
}

/**
 * Keep a suggestion: created exclusively (a link of a complete temp file), so when two tg ask at
 * once the first kept wins and both use it; a damaged one is replaced. Returns the one kept.
 */
function keep(file: string, k: Kept, replace: boolean): Kept {
  makeDir(path.dirname(file), 0o700);
  const text = JSON.stringify(k, null, 2) + '\n';
  if (replace) {
    writeFileAtomic(file, text);
    return k;
  }
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    try {
      fs.writeFileSync(tmp, text, { mode: 0o600, flag: 'wx', flush: true });
      fs.linkSync(tmp, file);
    } catch (e) {
      throw (e as NodeJS.ErrnoException).code === 'EEXIST' ? e : atPath(e, file, true); // the failure is the kept file's
    }
    return k;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      const other = JSON.parse(fs.readFileSync(file, 'utf8')) as Kept; // another tg kept its answer first
      return { ...other, fields: other.fields.map((f) => parseField(fieldOption(f))) };
    } catch {
      writeFileAtomic(file, text);
      return k;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
