// `tg submit rows.csv --field … --watch -o enriched.csv`: after sending, wait for the group's runs,
// retry failed rows if asked, then write the input rows in their order with the output columns
// and each field's basis appended (core/columns). The rows are matched to runs by the verified
// join of `fetch --join` (key and stored input), the latest attempt of each row wins, and the file
// is written to an exclusive temporary file renamed into place: a rerun after a kill writes the
// same file again, from the group, never a duplicated row. Only a file tg wrote is replaced.
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context';
import { beforeWork, ClosedPipeError, EXIT } from '../../errors';
import type { ApiClient } from '../../api/client';
import { csvLine } from '../../core/flatten';
import { outputCells, outputColumns, type OutputColumn, type RunResult } from '../../core/columns';
import { count, countTerminal, seconds, sleep, TERMINAL_STATUSES } from '../../core/util';
import { JoinTally, runOf } from '../../core/join';
import { readRows, type Row } from '../../io/rows';
import { Progress } from '../../io/progress';
import { stdoutError, writeOut } from '../../io/output';
import { RunIndex } from '../../io/runIndex';
import { checkJoinTarget, TempOutput } from '../../io/tempOutput';
import { makeDir } from '../../io/durable';
import { retryPass } from './retry';
import { itemOf, readOptions } from './validate';
import type { Job, SubmitOptions } from './job';

/** The results format of `submit --watch`: --output-format, else by the -o extension (JSONL by default). */
export function watchFormat(o: SubmitOptions): 'csv' | 'jsonl' {
  return (o.outputFormat as 'csv' | 'jsonl' | undefined) ?? (o.output && /\.csv$/i.test(o.output) ? 'csv' : 'jsonl');
}

/** Checks before anything is sent: -o must be in a writable directory (made if missing, as for watch -o) and a file tg may replace (never the input). */
export function checkEnrichedTarget(o: SubmitOptions, ctx: Context): string | null {
  if (!o.output) return null;
  const out = path.resolve(ctx.io.cwd, o.output);
  const dir = path.dirname(out);
  try {
    makeDir(dir);
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw beforeWork(e);
  }
  checkJoinTarget(out, o.input === '-' ? out + '\0' : path.resolve(ctx.io.cwd, o.input), Boolean(o.force), 'submit --watch');
  return out;
}

/** What the enriched CSV holds, for the --json summary. */
export interface EnrichedReport {
  rows?: number;
  with_run?: number;
  failed?: number;
  not_finished?: number;
}

/** After the send pass: wait, retry, wait, then write the enriched CSV. Returns the exit status. */
export async function finishEnriched(job: Job, client: ApiClient, group: string, out: string | null, report: EnrichedReport = {}): Promise<number> {
  const deadline = job.o.timeout === undefined ? Infinity : job.ctx.clock.now() + job.o.timeout;
  let timedOut = await waitDone(job, client, group, deadline);
  const retrying = job.o.retryFailed || job.o.retryCancelled;
  for (let pass = 1; retrying && !timedOut && pass < (job.o.maxAttempts ?? 2); pass++) {
    if (!(await retryPass(job, client, group))) break;
    timedOut = await waitDone(job, client, group, deadline);
  }
  const code = await writeEnriched(job, client, group, out, report);
  if (timedOut) {
    job.ctx.warn(
      `tg: still waiting for results after --timeout ${seconds(job.o.timeout)}; rows without a finished run are blank. Run the same command again to resume.`,
    );
    return EXIT.PENDING;
  }
  return code;
}

/** Poll the group until no run is active (true: the deadline came first). */
async function waitDone(job: Job, client: ApiClient, group: string, deadline: number): Promise<boolean> {
  const { ctx } = job;
  let g = await client.getGroup(group, ctx.signal);
  const progress = await Progress.start(ctx, { label: 'results', unit: 'runs', total: g.status.num_task_runs, done: countTerminal(g.status) });
  try {
    for (let delay = 200; g.status.is_active; delay = Math.min(delay * 1.5, 2000)) {
      const left = deadline - ctx.clock.now();
      if (left <= 0) return true;
      await sleep(Math.min(delay, left), ctx.signal);
      g = await client.getGroup(group, ctx.signal);
      progress.setTotal(g.status.num_task_runs);
      const failed = (g.status.task_run_status_counts as Record<string, number>).failed ?? 0;
      progress.update(countTerminal(g.status), failed ? ` | failed ${failed}` : '');
    }
    return false;
  } finally {
    progress.stop();
  }
}

/** The output fields, in order: the spec's output properties, else those the runs hold. */
function outputFields(job: Job, index: RunIndex): string[] {
  const os = job.cfg.spec?.spec.output_schema as { type?: string; json_schema?: { properties?: object } } | string | undefined;
  if (os && typeof os === 'object' && os.json_schema?.properties) return Object.keys(os.json_schema.properties);
  if (typeof os === 'string' || (os && os.type === 'text')) return ['output'];
  return index.outNames.filter((n) => n === 'output' || n.startsWith('output.')).map((n) => (n === 'output' ? n : n.slice('output.'.length)));
}

async function writeEnriched(job: Job, client: ApiClient, group: string, out: string | null, report: EnrichedReport): Promise<number> {
  const { ctx } = job;
  const index = new RunIndex(true);
  let target: TempOutput | null = null;
  try {
    const idleMs = Math.min(ctx.giveUpMs, 60_000);
    await index.load(client.streamRuns(group, { includeInput: true, includeOutput: true, signal: ctx.signal, giveUpMs: ctx.giveUpMs, idleMs }));
    target = out ? TempOutput.create(out) : null;
    const r = await enrichedRows(job, index, outputFields(job, index), target ? target.stream : ctx.io.stdout);
    r.check(index, { join: job.shown, group, key: job.o.key });
    if (target) await target.commit({ tg: 'join', group, input: job.file, by: 'submit' });
    const shown = job.o.output ?? 'stdout';
    const open = r.openCount ? `, ${r.openCount} not finished` : '';
    ctx.info(`tg: wrote ${shown}: ${count(r.rows, 'row')}, ${r.matched} with a run (${r.failed} failed or cancelled${open})`);
    Object.assign(report, { rows: r.rows, with_run: r.matched, failed: r.failed, not_finished: r.openCount });
    return r.openCount ? EXIT.PENDING : r.failed ? EXIT.RUNS_FAILED : EXIT.OK;
  } catch (e) {
    if (stdoutError(e) instanceof ClosedPipeError) return EXIT.CLOSED_PIPE; // `… | head`: a quiet end
    throw e;
  } finally {
    target?.discard();
    index.close();
  }
}

/** Every input row in order, its cells, then its latest run's output and basis columns. */
/** A row --skip-invalid left out: status "rejected", the reason as its error. */
function rejected(job: Job, row: Row): RunResult {
  let reason: string | null = null;
  itemOf(job, row, (issues) => (reason = issues[0]));
  return { run_id: '', status: 'rejected', error: reason, output: null };
}

async function enrichedRows(job: Job, index: RunIndex, fields: string[], out: NodeJS.WritableStream): Promise<JoinTally> {
  const r = new JoinTally();
  const safe = !job.o.rawCsv;
  const limit = job.o.limit ?? Infinity;
  let header: string[] | null = null;
  let cols: OutputColumn[] = [];
  let valid = 0;
  for await (const row of readRows(job.file, job.cfg.format, job.shown, readOptions(job))) {
    const v = (row.value && typeof row.value === 'object' && !Array.isArray(row.value) ? row.value : { input: row.value }) as Record<string, unknown>;
    if (!header) {
      header = Object.keys(v);
      cols = outputColumns(header, fields, Boolean(job.o.reasoning));
      await writeOut(out, csvLine([...header, ...cols.map((c) => c.name)]) + '\n');
    }
    // A row --skip-invalid left out has no run, whatever run its key may find (another row's).
    const item = itemOf(job, row);
    const left = item ? null : rejected(job, row);
    const { run, keyed } = item ? runOf(row.value, item.key, index) : { run: null, keyed: false };
    r.add(row.line, item !== null && valid++ < limit, run, keyed);
    const status = String(run?.flat.status ?? '');
    const res = run
      ? { run_id: String(run.flat.run_id), status, error: (run.flat.error as string | null) ?? null, output: TERMINAL_STATUSES.has(status) ? run.output : null }
      : left;
    await writeOut(out, csvLine([...header.map((c) => v[c]), ...outputCells(cols, res)], safe) + '\n');
  }
  return r;
}
