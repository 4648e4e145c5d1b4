// `tg fetch G [-o file] [--format jsonl|csv] [--status s]`: the group's runs with their inputs and
// outputs. With -o only finished runs are written, behind a cursor that never passes an unfinished
// one: a rerun adds exactly the runs that finished since.
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context';
import { ClosedPipeError, EXIT, InterruptedError, TgError, usageError, withHint } from '../../errors';
import { FileSink, StdoutSink, pacer, type OutputSink } from '../../io/output';
import { Progress } from '../../io/progress';
import { writtenRunIds } from '../runList';
import { csvLine, flatten, orderColumns } from '../../core/flatten';
import { readRows } from '../../io/rows';
import { count, failedCount, TERMINAL_STATUSES } from '../../core/util';
import { RunIdSet } from '../../core/runIdSet';
import type { TaskRunEvent } from '../../core/wire';
import type { ApiClient } from '../../api/client';
import { WORKER_MIN_RUNS } from '../../api/lineParser';
import { META, M_EVENT, M_RUN, M_STATUS, M_TYPE } from '../../api/runLines';
import type { FetchOptions } from '../../options';

/** The format of a run listing: --format, else CSV for an -o ending in .csv, else JSONL (xlsx, Parquet: with --join). */
function runsFormat(o: FetchOptions): 'jsonl' | 'csv' {
  const f = o.format ?? (o.output && /\.csv$/i.test(o.output) ? 'csv' : 'jsonl');
  if (f !== 'jsonl' && f !== 'csv')
    throw usageError(`tg fetch writes a group's runs as jsonl or csv, not ${f}`, `For your rows with their answers as ${f}, add --join <input>.`);
  return f;
}

/** CSV: runs held back to choose the header columns from (a wider header than the first run's). */
const PEEK = 1000;
const PENDING_NOTE = 'not finished yet';

/** CSV lines of runs: the header is chosen from the first PEEK runs, later new columns are left out. */
class CsvWriter {
  private columns: string[] | null;
  private readonly peek: TaskRunEvent[] = [];
  readonly extraKeys = new Set<string>();
  constructor(
    private readonly sink: OutputSink,
    private readonly safe: boolean,
  ) {
    this.columns = (sink.state.extra?.columns as string[] | undefined) ?? null;
  }
  /** True once the header is written (lines can be flushed). */
  get ready() {
    return this.columns !== null;
  }
  write(ev: TaskRunEvent) {
    if (this.columns) return this.line(ev);
    this.peek.push(ev);
    if (this.peek.length >= PEEK) this.start();
  }
  end() {
    if (!this.columns) this.start();
  }
  private line(ev: TaskRunEvent) {
    const flat = flatten(ev);
    for (const k of Object.keys(flat)) if (!this.columns!.includes(k)) this.extraKeys.add(k);
    this.sink.line(
      csvLine(
        this.columns!.map((c) => flat[c]),
        this.safe,
      ),
      ev.run.status,
    );
  }
  private start() {
    const names: string[] = [];
    for (const ev of this.peek) names.push(...Object.keys(flatten(ev)));
    this.columns = orderColumns(names.length ? names : ['run_id', 'status', 'error']);
    this.sink.setExtra({ columns: this.columns });
    this.sink.line(csvLine(this.columns));
    for (const ev of this.peek) this.line(ev);
    this.peek.length = 0;
  }
}

/** The run ids already in a resumed -o file (JSONL lines or CSV rows). */
async function writtenIds(file: string, format: 'jsonl' | 'csv', runs: number): Promise<RunIdSet> {
  if (format === 'jsonl') return writtenRunIds(file, runs);
  const set = new RunIdSet(runs);
  if (fs.statSync(file).size > 0) {
    for await (const row of readRows(file, 'csv')) {
      const id = (row.value as Record<string, unknown>)?.run_id;
      if (typeof id === 'string' && id) set.add(id);
    }
  }
  return set;
}

/**
 * The group's runs as JSONL or CSV. With -o (and no --status) only finished runs are written:
 * runs still queued, running, action_required or cancelling are counted on stderr, the cursor
 * stops before the first of them (later finished runs are written and recognised by run_id on
 * the rerun), and the exit status is 5 — a rerun adds exactly the runs that finished since.
 * To stdout every run is shown with its status (exit 5 too while any is unfinished).
 */
export async function fetchRuns(o: FetchOptions & { group: string }, ctx: Context): Promise<number> {
  const format = runsFormat(o);
  const kind = `fetch-${format}${o.status ? `-${o.status}` : ''}`;
  const out = o.output ? path.resolve(ctx.io.cwd, o.output) : null;
  if (out) FileSink.check(out, kind, o.group); // a bad -o fails before any request
  const client = await ctx.client();
  const group = await client.getGroup(o.group, ctx.signal);
  const sink: OutputSink = out ? FileSink.open(out, kind, o.group) : new StdoutSink(ctx.io.stdout, kind, o.group);
  const seen = out ? await writtenIds(out, format, group.status.num_task_runs) : null;
  const onlyDone = out !== null && !o.status;
  const csv = format === 'csv' ? new CsvWriter(sink, !o.rawCsv) : null;
  const progress = await Progress.start(ctx, { label: 'fetch', unit: 'runs', total: group.status.num_task_runs, done: sink.state.lines, toStdout: !out });
  const t0 = ctx.clock.now();
  const pending: Record<string, number> = {};
  const pass: Pass = { onlyDone, seen, frontier: true, pending };
  try {
    if (csv) await csvPass(client, o, ctx, sink, csv, progress, pass);
    else await jsonlPass(client, o, ctx, sink, progress, pass, group.status.num_task_runs);
    csv?.end();
    await sink.close();
    progress.stop();
    if (csv?.extraKeys.size)
      ctx.warn(`tg: ${[...csv.extraKeys].slice(0, 5).join(', ')}: columns seen after the header was written were left out; use --format jsonl for every field`);
    return summarise(o, ctx, sink, pending, (ctx.clock.now() - t0) / 1000, csv !== null);
  } catch (e) {
    progress.stop(false);
    const closeErr = await sink.close().then(
      () => null,
      (ce: unknown) => ce,
    );
    if (e instanceof ClosedPipeError || closeErr instanceof ClosedPipeError) return EXIT.CLOSED_PIPE;
    const hint = `Run the same command again to resume${o.output ? ` into ${o.output}` : ''}.`;
    if (ctx.signal.aborted) throw new InterruptedError(hint);
    if (e instanceof TgError && e.exitCode === EXIT.API) throw withHint(e, hint, 'replace');
    throw e;
  }
}

/** What a pass over the listing keeps: which runs to write, whether the cursor may still move, the unfinished runs by status. */
interface Pass {
  onlyDone: boolean;
  seen: RunIdSet | null;
  frontier: boolean;
  pending: Record<string, number>;
}

/** Whether the run (of this status) gets a line; counts it when unfinished, and stops the cursor at the first unfinished one (with -o). */
function take(pass: Pass, runId: string, st: string): boolean {
  const done = TERMINAL_STATUSES.has(st);
  if (!done) pass.pending[st] = (pass.pending[st] ?? 0) + 1;
  if (pass.onlyDone && !done) return (pass.frontier = false);
  return !pass.seen || pass.seen.add(runId);
}

/**
 * JSONL: each run's line is the event's text as the server sent it (parsed to know the run, in a
 * worker thread for a large group), not parsed and stringified again.
 */
async function jsonlPass(client: ApiClient, o: FetchOptions & { group: string }, ctx: Context, sink: OutputSink, progress: Progress, pass: Pass, runs: number) {
  const paced = pacer(
    sink,
    () => ctx.clock.now(),
    () => progress.update(sink.state.lines + sink.pendingLines()),
  );
  for await (const b of client.streamRunLines(o.group, { ...streamOptions(o, sink, ctx), worker: runs >= WORKER_MIN_RUNS })) {
    const m = b.meta;
    for (let i = 0, k = 0; i < b.texts.length; i++, k += META) {
      if (m[k + M_TYPE] !== 'task_run.state') continue;
      if (take(pass, m[k + M_RUN], m[k + M_STATUS])) sink.line(b.texts[i], m[k + M_STATUS]);
      if (pass.frontier) sink.setEventId(m[k + M_EVENT] || null);
    }
    const full = paced();
    if (full) await full;
  }
}

/** CSV: the runs parsed and flattened; the header waits for the first runs (CsvWriter). */
async function csvPass(client: ApiClient, o: FetchOptions & { group: string }, ctx: Context, sink: OutputSink, csv: CsvWriter, progress: Progress, pass: Pass) {
  const paced = pacer(
    sink,
    () => ctx.clock.now(),
    () => progress.update(sink.state.lines + sink.pendingLines()),
  );
  for await (const ev of client.streamRuns(o.group, streamOptions(o, sink, ctx))) {
    if (ev.type !== 'task_run.state') continue;
    if (take(pass, ev.run.run_id, ev.run.status)) csv.write(ev);
    if (pass.frontier) sink.setEventId(ev.event_id);
    if (!csv.ready) continue; // nothing is written before the header
    const full = paced();
    if (full) await full;
  }
}

function streamOptions(o: FetchOptions, sink: OutputSink, ctx: Context) {
  return {
    lastEventId: sink.state.last_event_id,
    includeInput: true,
    includeOutput: true,
    status: o.status,
    signal: ctx.signal,
    giveUpMs: ctx.giveUpMs,
    idleMs: Math.min(ctx.giveUpMs, 60_000), // a snapshot stream that only sends keep-alives is stalled
  };
}

/** The closing line on stderr and the exit status: 5 while runs are unfinished, 1 if any failed. */
function summarise(o: FetchOptions, ctx: Context, sink: OutputSink, pending: Record<string, number>, secs: number, csv: boolean): number {
  const lines = sink.state.lines - (csv ? 1 : 0);
  const c = sink.state.counts;
  const counts =
    Object.entries(c)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  ctx.info(`tg: ${o.group}: ${count(lines, 'run')}${o.output ? ` in ${o.output}` : ''} (${counts}) in ${secs.toFixed(1)}s`);
  const open = Object.entries(pending);
  const unfinished = o.status ? {} : pending;
  ctx.summary(
    { taskgroup_id: o.group, runs: lines, counts: c, unfinished, output: o.output ?? null, elapsed_s: Math.round(secs * 10) / 10 },
    Boolean(o.output),
  );
  if (open.length && !o.status) {
    const n = open.reduce((a, [, v]) => a + v, 0);
    const what = open.map(([k, v]) => `${k} ${v}`).join(', ');
    ctx.warn(`tg: ${count(n, 'run')} ${PENDING_NOTE} (${what})${o.output ? ': not written; run the same command again later to add them' : ''}`);
    return EXIT.PENDING;
  }
  return failedCount(c) > 0 ? EXIT.RUNS_FAILED : EXIT.OK;
}
