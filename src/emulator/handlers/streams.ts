// The group SSE streams: /runs (a snapshot of the group's runs, resumable by run cursor) and
// /events (status snapshots and run completions, live until the group is idle or the timeout).
import { randomUUID } from 'node:crypto';
import { HttpFail, SseWriter, v, type Reply } from '../http';
import { findGroup, inputJson, outputJson, runJson, runJsonAs, type Call, type EmulatorState } from '../state';
import { STATUS_NAMES, COMPLETED, runEventId, groupEventId, parseCursor, type Group, type Run } from '../store';
import { hash32, unit } from '../rng';

const STATUSES = ['queued', 'action_required', 'running', 'completed', 'failed', 'cancelling', 'cancelled'];

function openSse(c: Call): SseWriter {
  const { st } = c;
  const w = new SseWriter(c.res, st.opts.dropStreamsAfter ?? 0, () => st.stats.streamsDropped++);
  st.openStreams.add(c.res);
  return w;
}

/** streamErrorAfter: after that many events, an `error` event (the spec's ErrorEvent) ends the
 * stream; returns true when it did. */
function errorEvent(st: EmulatorState, w: SseWriter): boolean {
  const n = st.opts.streamErrorAfter ?? 0;
  if (n <= 0 || w.sent < n) return false;
  st.stats.errorEvents++;
  const error = { ref_id: randomUUID(), message: 'Internal error while streaming; resume with last_event_id (emulated by --stream-error-after)', detail: null };
  void w.event('error', JSON.stringify({ type: 'error', error })); // the stream ends right after
  w.end();
  w.dead = true;
  return true;
}

export async function streamRuns(c: Call): Promise<Reply> {
  const { st } = c;
  const g = findGroup(st, c.params.gid);
  const q = c.url.searchParams;
  const after = parseCursor(q.get('last_event_id'), 'r');
  if (after === null) throw new HttpFail(422, 'Invalid last_event_id for the run stream', [v(['query', 'last_event_id'], 'Invalid cursor')]);
  const status = q.get('status') || null;
  if (status !== null && !STATUSES.includes(status))
    throw new HttpFail(422, 'Invalid status filter', [
      v(['query', 'status'], `Input should be 'queued', 'action_required', 'running', 'completed', 'failed', 'cancelling' or 'cancelled'`, 'enum'),
    ]);
  const withInput = q.get('include_input') === 'true';
  const withOutput = q.get('include_output') === 'true';
  st.store.advance(g);
  const end = g.runs.length;
  const w = openSse(c);
  try {
    for (let i = after + 1; i < end && !w.dead; i++) {
      const run = g.runs[i];
      const s = run.status;
      if (status !== null && STATUS_NAMES[s] !== status) continue;
      if (errorEvent(st, w)) return null;
      const out = withOutput && s === COMPLETED ? outputJson(st.store, run) : 'null';
      const inp = withInput ? inputJson(run) : 'null';
      const p = w.event(
        'task_run.state',
        `{"type":"task_run.state","event_id":"${runEventId(i)}","input":${inp},"run":${runJson(st.store, run)},"output":${out}}`,
      );
      if (p) await p;
    }
    w.end();
  } finally {
    st.openStreams.delete(c.res);
  }
  return null;
}

function eventsTimeout(q: URLSearchParams): number {
  const tq = q.get('timeout');
  if (tq === null || tq === '') return 3600;
  const n = Number(tq);
  if (!Number.isFinite(n) || n < 0) throw new HttpFail(422, 'Invalid timeout', [v(['query', 'timeout'], 'Input should be a valid number', 'float_parsing')]);
  return Math.min(n, 3600);
}

export async function streamEvents(c: Call): Promise<Reply> {
  const { st } = c;
  const g = findGroup(st, c.params.gid);
  const after = parseCursor(c.url.searchParams.get('last_event_id'), 'e');
  if (after === null) throw new HttpFail(422, 'Invalid last_event_id for the event stream', [v(['query', 'last_event_id'], 'Invalid cursor')]);
  const timeoutMs = eventsTimeout(c.url.searchParams) * 1000;
  const lifetimeMs = st.opts.streamLifetimeMs;
  const deadline = Date.now() + Math.min(timeoutMs, lifetimeMs);
  const w = openSse(c);
  let wake: (() => void) | null = null;
  // A change (or the client leaving) while this loop awaits a write has no waiter to wake: it is
  // remembered, so the loop goes round again instead of sleeping until the next ping.
  let changed = false;
  const poke = () => {
    changed = true;
    wake?.();
  };
  const unlisten = st.store.listen(g, poke);
  c.res.on('close', poke);
  try {
    let pos = after + 1;
    for (;;) {
      changed = false;
      pos = await sendEvents(st, g, w, pos, after + 1);
      if (w.dead) return null;
      const fl = w.flush();
      if (fl) await fl;
      if (!st.store.isActive(g) && pos >= g.events.length) break;
      const left = deadline - Date.now();
      if (left <= 0) {
        if (lifetimeMs < timeoutMs) st.stats.streamsExpired++;
        break;
      }
      if (changed) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(
          () => {
            wake = null;
            w.comment('ping');
            resolve();
          },
          Math.min(left, 15_000),
        );
        wake = () => {
          clearTimeout(t);
          wake = null;
          resolve();
        };
      });
    }
    w.end();
  } finally {
    unlisten();
    st.openStreams.delete(c.res);
  }
  return null;
}

/** Write the group's events from pos on; returns the next position. `first` is the first
 * position this connection sent (a re-sent event is one this connection already sent). */
async function sendEvents(st: EmulatorState, g: Group, w: SseWriter, pos: number, first: number): Promise<number> {
  st.store.advance(g);
  while (pos < g.events.length && !w.dead) {
    if (errorEvent(st, w)) break;
    const e = g.events[pos];
    let p;
    if (e.kind === 0) p = w.event('task_group_status', `{"type":"task_group_status","event_id":"${groupEventId(pos)}","status":${e.snapshot}}`);
    else if (!withheld(st, g.runs[e.runIdx])) {
      p = runEvent(g, w, pos);
      const again = resent(st, g, first, pos);
      if (again >= 0 && !w.dead) {
        if (p) await p;
        st.stats.eventsResent++;
        p = runEvent(g, w, again);
      }
    }
    pos++;
    if (p) await p;
  }
  return pos;
}

/** The task_run.state event at pos: the run as it was then (a replay shows each change as it happened). */
function runEvent(g: Group, w: SseWriter, pos: number) {
  const e = g.events[pos];
  const run = runJsonAs(g.runs[e.runIdx], e.status!, e.at!);
  return w.event('task_run.state', `{"type":"task_run.state","event_id":"${groupEventId(pos)}","input":null,"run":${run},"output":null}`);
}

/** dropEvents: this run's task_run.state events never go out, on any connection (seeded by run). */
function withheld(st: EmulatorState, run: Run): boolean {
  const p = st.opts.dropEvents ?? 0;
  if (p <= 0 || unit(st.seed, hash32(run.id), 0xd7) >= p) return false;
  if (!st.droppedRuns.has(run.id)) {
    st.droppedRuns.add(run.id);
    st.stats.eventsDropped++;
  }
  return true;
}

/** resendEvents: after the run event at pos, one of the last few this connection sent goes out
 * again, with its own event_id; returns its position, or -1. */
function resent(st: EmulatorState, g: Group, first: number, pos: number): number {
  const p = st.opts.resendEvents ?? 0;
  if (p <= 0 || st.faults() >= p) return -1;
  for (let j = Math.max(first, pos - 1 - Math.floor(st.faults() * 4)); j <= pos; j++) {
    const e = g.events[j];
    if (e.kind === 1 && !withheld(st, g.runs[e.runIdx])) return j;
  }
  return -1;
}
