// `tg watch`: one JSON line per distinct run that reached a terminal state (completed, failed,
// cancelled), exactly once, resumable.
//
// Catch-up first: the runs already finished when watch starts are read in bulk from the group's
// run list with their inputs and outputs (one stream, its texts copied as lines, not a result GET
// a run), in the list's order, behind a runs cursor (`extra.runs` of the -o cursor) that stops
// before the first unfinished run. Then events: taken in stream order; outputs of completed runs
// are fetched concurrently through an OrderedWindow, which writes lines in event order, so the
// saved cursor never passes an event whose line is not durable. Lines are keyed by run_id (a
// compact set of the ids written, rebuilt from the -o file on resume), so a run listed at
// catch-up and then seen in an event, or a re-sent event, never writes a second line. When the
// group is inactive but some finished runs have no line (their events never came), they are
// filled from the run list again (from the runs cursor) instead of waiting for events that will
// not come.
import path from 'node:path';
import { setMaxListeners } from 'node:events';
import type { Context } from '../context';
import { ClosedPipeError, EXIT, TgError, InterruptedError, withHint } from '../errors';
import { count, countTerminal, failedCount, seconds, sleep, TERMINAL_STATUSES } from '../core/util';
import { OrderedWindow } from '../core/orderedWindow';
import { RunIdSet } from '../core/runIdSet';
import { FileSink, StdoutSink, pacer, type OutputSink } from '../io/output';
import { Progress, type ProgressOptions } from '../io/progress';
import type { ApiClient } from '../api/client';
import type { WatchOptions } from '../options';
import type { TaskRunEvent, TaskGroupStatus, GroupEvent } from '../core/wire';
import { WORKER_MIN_RUNS } from '../api/lineParser';
import { lineFor, RunList, writtenRunIds, type WindowLine } from './runList';

export type { WatchOptions };

export interface WatchHooks {
  /** Resolves when a concurrent submit has finished sending (watch must not end before). */
  submitting?: Promise<unknown>;
  /** Rows being submitted (progress total while the group is still growing). */
  expected?: () => number | undefined;
  /** Extra progress text (e.g. rows sent). */
  extra?: () => string;
  /** The budget rows are still being sent at: results cannot come faster (for the ETA). */
  budget?: ProgressOptions['budget'];
  /** Fields the summary (--json) starts with: what submit did. */
  summary?: () => Record<string, unknown>;
}

const WINDOW = 64;
const FLUSH_MS = 200;

class Deadline extends Error {}

export async function watch(o: WatchOptions, ctx: Context, hooks: WatchHooks = {}): Promise<number> {
  const timeoutMs = o.timeout;
  const out = o.output ? path.resolve(ctx.io.cwd, o.output) : null;
  if (out) FileSink.check(out, 'watch', o.group); // a bad -o fails before any request
  const client = await ctx.client();
  const t0 = ctx.clock.now();
  // Group check before the file is opened: a wrong id or key fails here, with nothing written.
  const status = (await client.getGroup(o.group, ctx.signal)).status;
  const sink: OutputSink = out
    ? FileSink.open(out, 'watch', o.group, undefined, ctx.global.emulator ? 'emulator' : undefined)
    : new StdoutSink(ctx.io.stdout, 'watch', o.group);
  const written = out ? await writtenRunIds(out, status.num_task_runs) : new RunIdSet(status.num_task_runs);
  if (o.output && (sink as FileSink).resumed) ctx.info(`tg: resuming ${o.output}: ${sink.state.lines} results already there`);
  const w = new Watcher(o, ctx, hooks, client, sink, written, status, t0);
  await w.start(timeoutMs);
  try {
    return await w.run();
  } catch (e) {
    return await w.fail(e);
  } finally {
    w.dispose();
  }
}

/** The state of one `watch`: the stream passes, the window of lines, the end or the failure. */
class Watcher {
  private readonly ac = new AbortController();
  private readonly signal = this.ac.signal;
  private readonly onAbort = () => this.ac.abort(this.ctx.signal.reason);
  private timer: NodeJS.Timeout | null = null;
  private progress!: Progress;
  private readonly window: OrderedWindow<WindowLine>;
  private submitDone: boolean;
  private idleMs = 100;

  constructor(
    private readonly o: WatchOptions,
    private readonly ctx: Context,
    private readonly hooks: WatchHooks,
    private readonly client: ApiClient,
    private readonly sink: OutputSink,
    private readonly written: RunIdSet,
    private status: TaskGroupStatus,
    private readonly t0: number,
  ) {
    this.submitDone = !hooks.submitting;
    const done = () => (this.submitDone = true);
    hooks.submitting?.then(done, done);
    setMaxListeners(2 * WINDOW + 16, this.signal); // up to two listeners (request, retry sleep) per result fetch in the window
    this.window = new OrderedWindow<WindowLine>(
      {
        write: (it) => {
          if (it.text !== null) this.sink.line(it.text, it.status);
          this.sink.setEventId(it.eventId);
        },
        flush: () => this.sink.flush(),
      },
      { size: WINDOW, flushMs: FLUSH_MS, now: () => ctx.clock.now(), onFlush: () => this.showProgress() },
    );
  }

  async start(timeoutMs: number | undefined) {
    const toStdout = !this.o.output;
    const budget = this.hooks.budget;
    const done = this.sink.state.lines;
    this.progress = await Progress.start(this.ctx, { label: 'results', unit: 'runs', total: this.total(), done, toStdout, budget });
    if (!this.hooks.submitting) this.ctx.display.phase('watching');
    this.ctx.signal.addEventListener('abort', this.onAbort, { once: true });
    if (this.ctx.signal.aborted) this.onAbort();
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(() => this.ac.abort(new Deadline()), Math.max(0, timeoutMs - (this.ctx.clock.now() - this.t0)));
    }
  }

  dispose() {
    if (this.timer) clearTimeout(this.timer);
    this.ctx.signal.removeEventListener('abort', this.onAbort);
  }

  private total() {
    return Math.max(this.status.num_task_runs, this.hooks.expected?.() ?? 0);
  }

  private showProgress() {
    const c = this.sink.state.counts;
    this.progress.setTotal(this.total());
    this.progress.update(this.sink.state.lines + this.sink.pendingLines(), `${c.failed ? ` | failed ${c.failed}` : ''}${this.hooks.extra?.() ?? ''}`);
  }

  /** Catch-up, then stream passes until the group is inactive, submit is done and every finished run has a line. */
  async run(): Promise<number> {
    await this.listFinished();
    this.status = (await this.client.getGroup(this.o.group, this.signal)).status;
    if (!this.status.is_active && this.submitDone && !this.o.follow && this.written.size >= countTerminal(this.status)) return this.finish();
    for (;;) {
      const events = await this.pass();
      await this.window.settle();
      // The server closed the stream: done, or reconnect?
      this.status = (await this.client.getGroup(this.o.group, this.signal)).status;
      if (this.status.is_active || !this.submitDone) {
        await this.betweenPasses(events > 0);
        continue;
      }
      if (this.written.size < countTerminal(this.status)) await this.fill();
      if (this.o.follow) {
        await sleep(2000, this.signal);
        continue;
      }
      if (this.written.size >= countTerminal(this.status)) return this.finish();
      this.ctx.info(`tg: ${count(countTerminal(this.status) - this.written.size, 'finished run')} still without a result line; retrying`);
      await sleep(2000, this.signal);
    }
  }

  /**
   * The stream closed while runs are active: reconnect soon. While submit is still sending to a
   * group with nothing active (the runs so far are done): wait twice as long each time nothing new
   * came (up to 2 s), or until submit ends — not a request every 200 ms.
   */
  private async betweenPasses(gotEvents: boolean) {
    if (this.status.is_active || gotEvents) {
      this.idleMs = 100;
      return sleep(200, this.signal);
    }
    this.idleMs = Math.min(this.idleMs * 2, 2000);
    const wake = new AbortController();
    const stop = () => wake.abort();
    this.hooks.submitting?.then(stop, stop);
    await sleep(this.idleMs, AbortSignal.any([this.signal, wake.signal])).catch((e: unknown) => {
      if (this.signal.aborted) throw e;
    });
  }

  /** One connection's worth of events (reconnecting through breaks), each pushed into the window; returns how many. */
  private async pass(): Promise<number> {
    let n = 0;
    for await (const ev of this.client.streamEvents(this.o.group, {
      lastEventId: this.sink.state.last_event_id,
      signal: this.signal,
      giveUpMs: this.ctx.giveUpMs,
      onReconnect: (e) => this.ctx.info(`tg: stream interrupted (${(e as Error).message.slice(0, 120)}); reconnecting`),
    })) {
      const eventId = (ev as { event_id?: string | null }).event_id ?? null;
      await this.window.push(this.itemFor(ev, eventId));
      n++;
    }
    return n;
  }

  /** The window item of one event: a line for a run's first terminal event, else only the cursor. */
  private itemFor(ev: GroupEvent, eventId: string | null): WindowLine | Promise<WindowLine> {
    if (ev.type === 'task_group_status') this.status = (ev as { status: TaskGroupStatus }).status;
    else if (ev.type === 'error') {
      const err = (ev as { error?: { message?: string } }).error;
      this.ctx.warn(`tg: the event stream reported an error: ${err?.message ?? 'unknown'}`);
    } else if (ev.type === 'task_run.state') {
      const re = ev as TaskRunEvent;
      // queued, action_required, running, cancelling: not yet; a run already written: a re-send.
      if (TERMINAL_STATUSES.has(re.run.status) && this.written.add(re.run.run_id)) return lineFor(this.client, re, eventId, this.signal);
    }
    return { eventId, text: null, status: '' }; // unknown event types are tolerated
  }

  /** Lines for finished runs whose events never came, from the run list. */
  private async fill() {
    const n = await this.listFinished();
    if (n) this.ctx.info(`tg: ${count(n, 'finished run')} had no event; ${n === 1 ? 'its result was' : 'their results were'} taken from the group's run list`);
  }

  /**
   * A line for each finished run of the group's run list that has none yet, from the runs cursor
   * on; the cursor moves up to the first unfinished run. Returns how many lines were added.
   */
  private async listFinished(): Promise<number> {
    const list = new RunList(this.sink, this.written, (text) => this.resultLine(text));
    const idleMs = Math.min(this.ctx.giveUpMs, 60_000); // a snapshot stream that only sends keep-alives is stalled
    const opts = { lastEventId: list.from, includeInput: true, includeOutput: true, signal: this.signal, giveUpMs: this.ctx.giveUpMs, idleMs };
    const paced = pacer(
      this.sink,
      () => this.ctx.clock.now(),
      () => this.showProgress(),
    );
    for await (const b of this.client.streamRunLines(this.o.group, { ...opts, worker: this.status.num_task_runs >= WORKER_MIN_RUNS })) {
      await list.take(b);
      const full = paced();
      if (full) await full;
    }
    await this.sink.flush();
    return list.added;
  }

  /** The line of a completed run the list gave without its output: the output fetched as for an event. */
  private async resultLine(text: string): Promise<string> {
    const ev = JSON.parse(text) as TaskRunEvent;
    return (await lineFor(this.client, ev, null, this.signal)).text!;
  }

  private async finish(): Promise<number> {
    this.ctx.display.phase(''); // done: the last progress line says what was, not "watching"
    this.progress.stop();
    await this.sink.close();
    const failed = failedCount(this.sink.state.counts);
    const c = this.status.task_run_status_counts as Record<string, number>;
    const open = ['queued', 'action_required', 'running', 'cancelling'].filter((s) => c[s]);
    const secs = Math.round((this.ctx.clock.now() - this.t0) / 1000);
    const sc = this.sink.state.counts as Record<string, number>;
    const bad = ['failed', 'cancelled'].filter((k) => sc[k]).map((k) => `, ${sc[k]} ${k}`);
    this.ctx.info(`tg: ${this.o.group}: ${this.sink.state.lines} results${bad.join('')}${this.o.output ? ` in ${this.o.output}` : ''} (${secs}s)`);
    const summary = { taskgroup_id: this.o.group, results: this.sink.state.lines, counts: this.sink.state.counts, output: this.o.output ?? null };
    this.ctx.summary({ ...(this.hooks.summary?.() ?? {}), ...summary, elapsed_s: secs }, Boolean(this.o.output));
    if (open.length) {
      const what = open.map((s) => `${c[s]} ${s}`).join(', ');
      throw new TgError('pending', `${this.o.group} is inactive but runs have not finished (${what})`, { hint: this.resumeHint() });
    }
    return failed ? EXIT.RUNS_FAILED : EXIT.OK;
  }

  private resumeHint() {
    return `Run the same command again to resume${this.o.output ? ` from ${this.o.output}` : ''}.`;
  }

  /** Keep whatever is complete (in order), close the file, and map the error to the contract. */
  async fail(e: unknown): Promise<number> {
    this.progress.stop(false);
    // Result fetches still in flight are of no use now: cancel them, or the process would wait
    // for their long polls (up to 30 s each) before it could exit.
    if (!this.ac.signal.aborted) this.ac.abort(e);
    await this.window.stop();
    const closeErr = await this.sink.close().then(
      () => null,
      (ce: unknown) => ce,
    );
    if (e instanceof ClosedPipeError || closeErr instanceof ClosedPipeError || this.window.error instanceof ClosedPipeError) return EXIT.CLOSED_PIPE;
    if (e instanceof TgError && e.code === 'pending') throw e;
    const hint = this.resumeHint();
    if (this.signal.reason instanceof Deadline || e instanceof Deadline) {
      const msg = `still waiting for results after --timeout ${seconds(this.o.timeout)} (${this.sink.state.lines} of ${this.total()} so far)`;
      throw new TgError('timeout', msg, { hint });
    }
    if (this.ctx.signal.aborted || e instanceof InterruptedError) throw new InterruptedError(hint);
    if (e instanceof TgError && e.exitCode === EXIT.API) throw withHint(e, hint, 'replace');
    throw e;
  }
}
