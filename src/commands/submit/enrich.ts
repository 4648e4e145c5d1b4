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
import { count, countTerminal, seconds, sleep } from '../../core/util';
import { formatByExtension, type Row } from '../../io/formats';
import { Progress } from '../../io/progress';
import { stdoutError } from '../../io/output';
import { RunIndex } from '../../io/runIndex';
import { checkJoinTarget, TempOutput } from '../../io/tempOutput';
import { makeDir } from '../../io/durable';
import { outputFields, writeEnriched, type RowJoin } from '../../flows/enriched';
import { inputDelimiter, openTable, tableFormat } from '../../flows/tables';
import { retryPass } from './retry';
import { escalatePass, type EscalationReport } from './escalate';
import { itemOf } from './validate';
import { rowsOf } from './input';
import type { Job, SubmitOptions } from './job';

/**
 * The results format of `submit --watch`: --output-format, else the -o extension's; JSONL (the
 * results stream of `tg watch`) by default. Any other format is the enriched table.
 */
export function watchFormat(o: SubmitOptions): string {
  return o.outputFormat ?? (o.output ? formatByExtension(o.output)?.name : undefined) ?? 'jsonl';
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

/** What the enriched CSV holds (and what escalation did), for the --json summary. */
export interface EnrichedReport extends EscalationReport {
  rows?: number;
  with_run?: number;
  failed?: number;
  not_finished?: number;
}

/** After the send pass: wait, retry, wait (escalate, wait, retry, wait), then write the enriched CSV. Returns the exit status. */
export async function finishEnriched(job: Job, client: ApiClient, group: string, out: string | null, report: EnrichedReport = {}): Promise<number> {
  const deadline = job.o.timeout === undefined ? Infinity : job.ctx.clock.now() + job.o.timeout;
  let timedOut = await retryRounds(job, client, group, deadline);
  if (job.o.escalate !== undefined && !timedOut) {
    const esc = await escalatePass(job, client, group);
    Object.assign(report, esc);
    if (esc.escalated) timedOut = await retryRounds(job, client, group, deadline);
  }
  const code = await writeResults(job, client, group, out, report);
  if (timedOut) {
    job.ctx.warn(
      `tg: still waiting for results after --timeout ${seconds(job.o.timeout)}; rows without a finished run are blank. Run the same command again to resume.`,
    );
    return EXIT.PENDING;
  }
  return code;
}

/** Wait, then retry (if asked) and wait again, up to --max-attempts (true: the deadline came first). */
async function retryRounds(job: Job, client: ApiClient, group: string, deadline: number): Promise<boolean> {
  let timedOut = await waitDone(job, client, group, deadline);
  const retrying = job.o.retryFailed || job.o.retryCancelled;
  for (let pass = 1; retrying && !timedOut && pass < (job.o.maxAttempts ?? 2); pass++) {
    if (!(await retryPass(job, client, group))) break;
    timedOut = await waitDone(job, client, group, deadline);
  }
  return timedOut;
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
      progress.update(countTerminal(g.status), failed ? ` | failed runs ${failed}` : '');
    }
    return false;
  } finally {
    progress.stop();
  }
}

async function writeResults(job: Job, client: ApiClient, group: string, out: string | null, report: EnrichedReport): Promise<number> {
  const { ctx } = job;
  const format = tableFormat(watchFormat(job.o), job.o.output, ctx);
  const index = new RunIndex(true);
  let target: TempOutput | null = null;
  try {
    const idleMs = Math.min(ctx.giveUpMs, 60_000);
    await index.load(client.streamRuns(group, { includeInput: true, includeOutput: true, signal: ctx.signal, giveUpMs: ctx.giveUpMs, idleMs }));
    target = out ? TempOutput.create(out) : null;
    const sink = target ? target.stream : ctx.io.stdout;
    const r = await writeEnriched(rowsOf(job), index, {
      fields: outputFields(job.cfg.spec?.spec ?? null, index.outNames),
      spec: job.cfg.spec?.spec ?? null,
      reasoning: Boolean(job.o.reasoning),
      raw: Boolean(job.o.rawCsv),
      processor: job.o.escalate !== undefined,
      join: joiner(job),
      open: (columns, src) => openTable(format, sink, columns, { bom: job.o.bom, delimiter: job.o.delimiter ?? inputDelimiter(src) }),
    });
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

/**
 * How the input's rows join: a valid row by its key, meant to have a run within --limit; a row
 * --skip-invalid left out has no run, whatever run its key may find (another row's): "rejected".
 */
function joiner(job: Job): (row: Row) => RowJoin {
  const limit = job.o.limit ?? Infinity;
  let valid = 0;
  return (row) => {
    let reason: string | null = null;
    const item = itemOf(job, row, (issues) => (reason = issues[0]));
    if (!item) return { key: null, expected: false, rejected: reason };
    return { key: item.key, expected: valid++ < limit };
  };
}
