// Every check that needs no input row and no request: made before anything is read or sent, so a
// bad option never costs a run.
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context';
import { inputError, usageError } from '../../errors';
import type { Rate, RateUnit } from '../../core/rateBudget';
import { count, errnoText } from '../../core/util';
import { PROCESSORS } from '../../core/processors';
import { pricePer1k } from '../../core/pricing';
import { resolveRunOptions, runOptionsKey, type RunOptions } from '../../core/runOptions';
import type { SubmitOptions } from './job';
import { watchFormat } from './enrich';

export interface Preflight {
  rate: Rate | null;
  rateText: string;
  batchSize: number;
  runOptions: RunOptions;
  betas: string[];
  optionsKey: string;
}

/** Every check of the options that the parser cannot make alone (combinations, files); and what follows from them. */
export function preflight(o: SubmitOptions, ctx: Context): Preflight {
  if (o.output && !o.watch) throw usageError('-o/--output goes with --watch on submit', 'Add --watch, or use `tg watch <group> -o file` afterwards.');
  if (o.timeout !== undefined && !o.watch)
    throw usageError('--timeout goes with --watch on submit', 'Add --watch, or use `tg watch <group> --timeout s` afterwards.');
  enrichPreflight(o);
  const rate: Rate | null = o.rate ? { ...o.rate, unit: o.rateUnit as RateUnit } : null;
  if (!PROCESSORS.has(o.processor) && !o.unlistedProcessor)
    throw usageError(
      `--processor "${o.processor}" is not one the API lists: ${[...PROCESSORS].join(', ')}`,
      'Check the spelling; to send a processor tg does not know yet, add --unlisted-processor.',
    );
  escalatePreflight(o);
  if (o.input !== '-') statInput(o.input, ctx);
  const batchSize = rate?.unit === 'runs' ? Math.min(o.batchSize, Math.floor(rate.limit)) : o.batchSize;
  if (batchSize < o.batchSize) ctx.info(`tg: batch size lowered to ${batchSize} to fit the --rate budget`);
  const rateText = rate ? `${count(rate.limit, rate.unit === 'runs' ? 'run' : 'request')}/${rate.windowMs / 1000}s` : 'off';
  const { options: runOptions, betas } = runOptionsOf(o, ctx);
  return { rate, rateText, batchSize, runOptions, betas, optionsKey: runOptionsKey(runOptions, betas) };
}

/** --run-options, --mcp-servers and the run option flags, checked (exit 2 names the flag and rule). */
function runOptionsOf(o: SubmitOptions, ctx: Context) {
  const read = (flag: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return { name: file, text: fs.readFileSync(path.resolve(ctx.io.cwd, file), 'utf8') };
    } catch (e) {
      throw usageError(`${flag} ${file}: cannot read it (${errnoText((e as NodeJS.ErrnoException).code)})`);
    }
  };
  return resolveRunOptions(o, { runOptions: read('--run-options', o.runOptions), mcpServers: read('--mcp-servers', o.mcpServers) });
}

function statInput(input: string, ctx: Context) {
  let st: fs.Stats;
  try {
    st = fs.statSync(path.resolve(ctx.io.cwd, input));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(`${input}: cannot read the input (${errnoText(code)})`, code === 'ENOENT' ? 'Check the path; use - to read stdin.' : undefined);
  }
  if (st.isDirectory()) throw inputError(`${input}: is a directory, not an input file`, 'Pass a .csv, .json or .jsonl file (optionally .gz), or - for stdin.');
}

/** The enrichment, cost and retry options: combinations that cannot work are usage errors. */
function enrichPreflight(o: SubmitOptions) {
  if (o.field?.length && o.spec)
    throw usageError('--field and --spec cannot go together', 'Use one: --field options, or a spec file (`tg spec --field … > spec.json` writes one).');
  for (const [flag, on] of [
    ['--output-format', o.outputFormat],
    ['--reasoning', o.reasoning],
    ['--raw-csv', o.rawCsv],
    ['--force', o.force],
    ['--bom', o.bom],
  ] as const)
    if (on !== undefined && on !== false && !o.watch) throw usageError(`${flag} goes with --watch on submit`, 'Add --watch (and -o enriched.csv).');
  const table = watchFormat(o) !== 'jsonl'; // an enriched table, not the JSONL results stream
  if (o.bom && !(o.watch && ['csv', 'tsv'].includes(watchFormat(o)))) throw usageError('--bom goes with --watch -o <file>.csv or .tsv (an enriched CSV/TSV)');
  if (o.force && !table)
    throw usageError(
      '--force goes with --watch -o <file>.csv (an enriched CSV): a JSONL results file is resumed, never replaced',
      'Drop --force, or pick another -o file.',
    );
  if ((o.retryFailed || o.retryCancelled) && o.watch && !table)
    throw usageError(
      '--retry-failed/--retry-cancelled with --watch write an enriched CSV: pass -o <file>.csv (or --output-format csv)',
      'Or retry without --watch, then `tg watch <group>`.',
    );
  if (o.maxAttempts !== undefined && o.maxAttempts !== 2 && !o.retryFailed && !o.retryCancelled)
    throw usageError('--max-attempts goes with --retry-failed or --retry-cancelled');
}

/** --escalate: a processor checked as --processor is, not the job's own; like --retry-failed, an enriched table with --watch. */
function escalatePreflight(o: SubmitOptions) {
  if (o.escalateOn !== undefined && o.escalate === undefined) throw usageError('--escalate-on goes with --escalate <processor>');
  if (o.escalate === undefined) return;
  if (!PROCESSORS.has(o.escalate) && !o.unlistedProcessor)
    throw usageError(
      `--escalate "${o.escalate}" is not a processor the API lists: ${[...PROCESSORS].join(', ')}`,
      'Check the spelling; to send a processor tg does not know yet, add --unlisted-processor.',
    );
  if (o.escalate === o.processor && (o.processorGiven || o.intent === undefined))
    throw usageError(
      `--escalate ${o.escalate} is the job's own processor: its rows are answered there already`,
      'Escalate to a stronger processor (e.g. core, pro).',
    );
  if (o.watch && watchFormat(o) === 'jsonl')
    throw usageError(
      '--escalate with --watch writes an enriched table: pass -o <file>.csv (or --output-format csv)',
      'Or escalate without --watch, then `tg watch <group>`.',
    );
  if (o.maxCost !== undefined && pricePer1k(o.escalate) === null)
    throw usageError(
      `--max-cost: no price is known for --escalate ${o.escalate}; nothing was sent`,
      'Drop --max-cost, or escalate to a processor tg knows the price of.',
    );
}
