// `tg watch`: one JSON line per run that reached a terminal state, exactly once, resumable.
//
// Events are taken in stream order; outputs of completed runs are fetched concurrently (bounded
// window) but lines are written in event order, so the saved cursor never passes an event whose
// line is not durable.
import path from 'node:path';
import { setMaxListeners } from 'node:events';
import type { Context } from '../context';
import { EXIT, TgError, InterruptedError, ApiError } from '../errors';
import { failedCount, sleep, TERMINAL_STATUSES } from '../core/util';
import { FileSink, StdoutSink, type OutputSink } from '../io/output';
import { Progress } from '../io/progress';
import { parseTimeout } from './status';
import type { ApiClient } from '../api/client';
import type { TaskRunEvent, TaskGroupStatus } from '../api/types';

export interface WatchOptions {
  group: string;
  output?: string;
  timeout?: string;
  follow?: boolean;
}

export interface WatchHooks {
  /** Resolves when a concurrent submit has finished sending (watch must not end before). */
  submitting?: Promise<unknown>;
  /** Rows being submitted (progress total while the group is still growing). */
  expected?: () => number | undefined;
  /** Extra progress text (e.g. rows sent). */
  extra?: () => string;
}

const WINDOW = 64;
const FLUSH_MS = 200;

class Deadline extends Error {}

export async function watch(o: WatchOptions, ctx: Context, hooks: WatchHooks = {}): Promise<number> {
  const timeoutMs = parseTimeout(o.timeout);
  const out = o.output ? path.resolve(ctx.io.cwd, o.output) : null;
  if (out) FileSink.check(out, 'watch', o.group); // a bad -o fails before any request
  const client = await ctx.client();
  const t0 = ctx.clock.now();
  // Group check before the file is opened: a wrong id or key fails here, with nothing written.
  let status: TaskGroupStatus = (await client.getGroup(o.group, ctx.signal)).status;
  const sink: OutputSink = out ? FileSink.open(out, 'watch', o.group) : new StdoutSink(ctx.io.stdout, 'watch', o.group);
  if (o.output && (sink as FileSink).resumed) ctx.info(`tg: resuming ${o.output}: ${sink.state.lines} results already there`);
  let submitDone = !hooks.submitting;
  hooks.submitting?.then(
    () => (submitDone = true),
    () => (submitDone = true),
  );
  const total = () => Math.max(status.num_task_runs, hooks.expected?.() ?? 0);
  const progress = await Progress.start(ctx, { label: 'results', unit: 'runs', total: total(), done: sink.state.lines });
  const deadlineAc = new AbortController();
  setMaxListeners(0, deadlineAc.signal); // one listener per in-flight result fetch
  const onAbort = () => deadlineAc.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | null = null;
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => deadlineAc.abort(new Deadline()), Math.max(0, timeoutMs - (ctx.clock.now() - t0)));
  }
  const signal = deadlineAc.signal;
  let lastFlush = ctx.clock.now();
  const showProgress = () => {
    const c = sink.state.counts;
    progress.setTotal(total());
    progress.update(sink.state.lines + sink.pendingLines(), `${c.failed ? ` | failed ${c.failed}` : ''}${hooks.extra?.() ?? ''}`);
  };

  // Ordered window of pending lines, written by one drainer in event order.
  type Slot = { eventId: string | null; line: Promise<{ text: string; status: string } | null> };
  const window: Slot[] = [];
  let wakeDrainer = null as (() => void) | null;
  let wakeProducer = null as (() => void) | null;
  let drainError: unknown = null;
  let stopping = false;
  const drainer = (async () => {
    try {
      for (;;) {
        if (!window.length) {
          await sink.flush(); // idle: make everything durable now
          lastFlush = ctx.clock.now();
          showProgress();
          wakeProducer?.();
          if (stopping) return;
          await new Promise<void>((r) => (wakeDrainer = r));
          wakeDrainer = null;
          continue;
        }
        const slot = window[0];
        const r = await slot.line;
        window.shift();
        if (r) sink.line(r.text, r.status);
        sink.setEventId(slot.eventId);
        wakeProducer?.();
        if (ctx.clock.now() - lastFlush >= FLUSH_MS) {
          await sink.flush();
          lastFlush = ctx.clock.now();
          showProgress();
        }
      }
    } catch (e) {
      drainError = e;
      deadlineAc.abort(e);
      wakeProducer?.();
    }
  })();
  const push = async (slot: Slot) => {
    window.push(slot);
    wakeDrainer?.();
    while (window.length >= WINDOW && !drainError) await new Promise<void>((r) => (wakeProducer = r));
    wakeProducer = null;
    if (drainError) throw drainError;
  };
  /** Wait until every queued line is written and flushed. */
  const settle = async () => {
    while ((window.length || sink.pendingLines()) && !drainError) {
      wakeDrainer?.();
      await new Promise<void>((r) => (wakeProducer = r));
    }
    wakeProducer = null;
    if (drainError) throw drainError;
  };

  try {
    for (;;) {
      for await (const ev of client.streamEvents(o.group, {
        lastEventId: sink.state.last_event_id,
        signal,
        giveUpMs: ctx.giveUpMs,
        onReconnect: (e) => ctx.info(`tg: stream interrupted (${(e as Error).message.slice(0, 120)}); reconnecting`),
      })) {
        const eventId = (ev as { event_id?: string | null }).event_id ?? null;
        if (ev.type === 'task_group_status') {
          status = (ev as { status: TaskGroupStatus }).status;
          await push({ eventId, line: Promise.resolve(null) });
        } else if (ev.type === 'task_run.state') {
          const re = ev as TaskRunEvent;
          if (!TERMINAL_STATUSES.has(re.run.status)) {
            await push({ eventId, line: Promise.resolve(null) });
          } else {
            const p = lineFor(client, re, signal);
            p.catch(() => undefined);
            await push({ eventId, line: p });
          }
        } else if (ev.type === 'error') {
          const err = (ev as { error?: { message?: string } }).error;
          ctx.warn(`tg: the event stream reported an error: ${err?.message ?? 'unknown'}`);
          await push({ eventId, line: Promise.resolve(null) });
        } else {
          await push({ eventId, line: Promise.resolve(null) }); // unknown event types are tolerated
        }
      }
      await settle();
      // The server closed the stream: done, or reconnect?
      status = (await client.getGroup(o.group, signal)).status;
      const terminal = countTerminal(status);
      if (!status.is_active && submitDone && sink.state.lines >= terminal && !o.follow) break;
      await sleep(status.is_active || !submitDone ? 200 : 2000, signal);
    }
    stopping = true;
    wakeDrainer?.();
    await drainer;
    if (drainError) throw drainError;
    progress.stop();
    await sink.close();
    const failed = failedCount(sink.state.counts);
    ctx.info(`tg: ${o.group}: ${sink.state.lines} results${failed ? `, ${failed} failed or cancelled` : ''}${o.output ? ` in ${o.output}` : ''} (${Math.round((ctx.clock.now() - t0) / 1000)}s)`);
    return failed ? EXIT.RUNS_FAILED : EXIT.OK;
  } catch (e) {
    progress.stop(false);
    // Keep whatever is complete: the drainer writes resolved lines in order, then stops.
    stopping = true;
    for (const slot of window) slot.line.catch(() => undefined);
    wakeDrainer?.();
    // At most 2 s for the drainer; the timer must not keep the process alive after it is done.
    await Promise.race([drainer, new Promise((r) => setTimeout(r, 2000).unref())]);
    try {
      await sink.close();
    } catch {
      /* the original error matters more */
    }
    const hint = `Run the same command again to resume${o.output ? ` from ${o.output}` : ''}.`;
    if (signal.reason instanceof Deadline || e instanceof Deadline) {
      throw new TgError('timeout', `still waiting for results after --timeout ${o.timeout}s (${sink.state.lines} of ${total()} so far)`, EXIT.PENDING, hint);
    }
    if (ctx.signal.aborted || e instanceof InterruptedError) throw new InterruptedError(hint);
    if (e instanceof TgError && e.exitCode === EXIT.API) throw new TgError(e.code, e.message, e.exitCode, hint);
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

export function countTerminal(s: TaskGroupStatus): number {
  const c = s.task_run_status_counts as Record<string, number>;
  return (c.completed ?? 0) + (c.failed ?? 0) + (c.cancelled ?? 0);
}

/** The line for a terminal run event: the event with `output` filled in for completed runs. */
async function lineFor(client: ApiClient, ev: TaskRunEvent, signal: AbortSignal): Promise<{ text: string; status: string }> {
  const out: TaskRunEvent = { type: 'task_run.state', event_id: ev.event_id, input: ev.input ?? null, run: ev.run, output: ev.output ?? null };
  if (ev.run.status === 'completed' && !out.output) {
    for (let attempt = 0; ; attempt++) {
      const r = await client.getResult(ev.run.run_id, 30, signal);
      if (r) {
        out.output = r.output;
        out.run = r.run;
        break;
      }
      if (attempt >= 3) throw new ApiError('missing_result', `run ${ev.run.run_id} completed but its result is not available`, 404, EXIT.API);
      await sleep(500 * (attempt + 1), signal);
    }
  }
  return { text: JSON.stringify(out), status: out.run.status };
}

