// The emulator's state: groups, runs, event logs and the run lifecycle. Time-driven and lazy:
// each group keeps a heap of pending transitions that is applied, in time order, whenever the
// group is read or a timer fires for a listener. Nothing here does network I/O.
import { unit } from './rng';

export const STATUS_NAMES = ['queued', 'running', 'completed', 'failed'] as const;
export const Q = 0;
export const R = 1;
export const C = 2;
export const F = 3;

export interface Run {
  id: string;
  seq: number; // global creation number (drives latency, failure and output)
  group: Group | null;
  idx: number; // index within its group (run stream position)
  input: Record<string, unknown>; // the TaskRunInput as submitted
  spec: unknown; // effective task spec (run's own, else the default), or null
  specJson: string | null; // cached JSON of spec
  processor: string;
  metadata: Record<string, unknown> | null;
  createdAt: number;
  startAt: number;
  finishAt: number;
  fails: boolean;
  status: number;
  modifiedAt: number;
  nextAt: number; // heap key
}

export interface GroupEventRec {
  kind: 0 | 1; // 0 = task_group_status snapshot, 1 = task_run.state for runIdx
  runIdx: number;
  snapshot?: string; // JSON of TaskGroupStatus at that moment
}

export interface Group {
  id: string;
  createdAt: number;
  metadata: unknown;
  runs: Run[];
  counts: number[]; // by STATUS_NAMES index
  modifiedAt: number;
  events: GroupEventRec[];
  heap: Run[];
  listeners: Set<() => void>;
  timer: NodeJS.Timeout | null;
  timerAt: number;
}

export interface StoreOptions {
  seed: number;
  latencyMs: [number, number];
  failRate: number;
  now?: () => number;
}

export function iso(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.slice(0, -1) + '000Z';
}

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, '0').slice(-width);
}

export class Store {
  readonly groups = new Map<string, Group>();
  readonly runs = new Map<string, Run>();
  private runSeq = 0;
  private groupSeq = 0;
  private readonly salt: string;
  readonly opts: StoreOptions;
  readonly now: () => number;

  constructor(opts: StoreOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.salt = hex(Math.floor(unit(opts.seed, 0, 99) * 2 ** 32), 8) + hex(Math.floor(unit(opts.seed, 1, 99) * 2 ** 32), 8);
  }

  createGroup(metadata: unknown): Group {
    const n = ++this.groupSeq;
    const id = `tgrp_${this.salt}${hex(n, 16)}`;
    const t = this.now();
    const g: Group = { id, createdAt: t, metadata: metadata ?? null, runs: [], counts: [0, 0, 0, 0], modifiedAt: t, events: [], heap: [], listeners: new Set(), timer: null, timerAt: 0 };
    this.groups.set(id, g);
    return g;
  }

  private newRun(group: Group | null, input: Record<string, unknown>, spec: unknown, specJson: string | null): Run {
    const seq = ++this.runSeq;
    const t = this.now();
    const [lo, hi] = this.opts.latencyMs;
    const dur = lo + unit(this.opts.seed, seq, 1) * (hi - lo);
    const startAt = t + Math.min(dur * 0.2, 250 + unit(this.opts.seed, seq, 2) * 250);
    const run: Run = {
      id: `trun_${this.salt}${hex(seq, 16)}`,
      seq,
      group,
      idx: group ? group.runs.length : 0,
      input,
      spec,
      specJson,
      processor: String(input.processor),
      metadata: (input.metadata as Record<string, unknown>) ?? null,
      createdAt: t,
      startAt,
      finishAt: t + dur,
      fails: unit(this.opts.seed, seq, 3) < this.opts.failRate,
      status: Q,
      modifiedAt: t,
      nextAt: startAt,
    };
    this.runs.set(run.id, run);
    return run;
  }

  /** Adds runs to a group; returns the new runs and the cursors of the last items before them. */
  addRuns(g: Group, inputs: Record<string, unknown>[], defaultSpec: unknown): { runs: Run[]; runCursor: string | null; eventCursor: string | null } {
    this.advance(g);
    const runCursor = g.runs.length ? runEventId(g.runs.length - 1) : null;
    const eventCursor = g.events.length ? groupEventId(g.events.length - 1) : null;
    const defJson = defaultSpec ? JSON.stringify(defaultSpec) : null;
    const out: Run[] = [];
    for (const inp of inputs) {
      const own = inp.task_spec ?? null;
      const run = own ? this.newRun(g, inp, own, JSON.stringify(own)) : this.newRun(g, inp, defaultSpec ?? null, defJson);
      g.runs.push(run);
      g.counts[Q]++;
      heapPush(g.heap, run);
      out.push(run);
    }
    g.modifiedAt = this.now();
    this.pushStatus(g);
    this.schedule(g);
    this.notify(g);
    return { runs: out, runCursor, eventCursor };
  }

  createSingleRun(input: Record<string, unknown>): Run {
    const spec = input.task_spec ?? null;
    return this.newRun(null, input, spec, spec ? JSON.stringify(spec) : null);
  }

  /** Status of a run outside a group is computed from time alone. */
  runStatus(run: Run): number {
    if (run.group) {
      this.advance(run.group);
      return run.status;
    }
    const t = this.now();
    if (t >= run.finishAt) {
      run.status = run.fails ? F : C;
      run.modifiedAt = run.finishAt;
    } else if (t >= run.startAt) {
      run.status = R;
      run.modifiedAt = run.startAt;
    }
    return run.status;
  }

  /** Apply every transition due by now, in time order. */
  advance(g: Group): boolean {
    const now = this.now();
    let changed = false;
    const h = g.heap;
    while (h.length && h[0].nextAt <= now) {
      const run = heapPop(h)!;
      g.counts[run.status]--;
      if (run.status === Q) {
        run.status = R;
        run.modifiedAt = run.startAt;
        run.nextAt = run.finishAt;
        g.counts[R]++;
        heapPush(h, run);
      } else {
        run.status = run.fails ? F : C;
        run.modifiedAt = run.finishAt;
        g.counts[run.status]++;
        g.events.push({ kind: 1, runIdx: run.idx });
      }
      if (run.modifiedAt > g.modifiedAt) g.modifiedAt = run.modifiedAt;
      changed = true;
    }
    if (changed) this.pushStatus(g);
    return changed;
  }

  isActive(g: Group): boolean {
    return g.counts[Q] + g.counts[R] > 0;
  }

  statusJson(g: Group): string {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 4; i++) if (g.counts[i]) counts[STATUS_NAMES[i]] = g.counts[i];
    const active = this.isActive(g);
    const done = g.counts[C] + g.counts[F];
    const msg = g.runs.length === 0 ? 'No runs yet' : active ? `${done} of ${g.runs.length} runs finished` : `All ${g.runs.length} runs finished`;
    return JSON.stringify({ num_task_runs: g.runs.length, task_run_status_counts: counts, is_active: active, status_message: msg, modified_at: iso(g.modifiedAt) });
  }

  private pushStatus(g: Group) {
    g.events.push({ kind: 0, runIdx: -1, snapshot: this.statusJson(g) });
  }

  // ----- listeners (open /events streams and /result waits) -----
  listen(g: Group, fn: () => void): () => void {
    g.listeners.add(fn);
    this.schedule(g);
    return () => {
      g.listeners.delete(fn);
    };
  }

  private notify(g: Group) {
    for (const fn of [...g.listeners]) fn();
  }

  private schedule(g: Group) {
    if (!g.listeners.size || !g.heap.length) return;
    const at = Math.max(g.heap[0].nextAt, this.now() + 20);
    if (g.timer && g.timerAt <= at) return;
    if (g.timer) clearTimeout(g.timer);
    g.timerAt = at;
    g.timer = setTimeout(() => {
      g.timer = null;
      if (this.advance(g)) this.notify(g);
      this.schedule(g);
    }, at - this.now());
    g.timer.unref?.();
  }

  stopTimers() {
    for (const g of this.groups.values()) if (g.timer) clearTimeout(g.timer);
  }
}

export const runEventId = (idx: number) => `r.${idx + 1}`;
export const groupEventId = (idx: number) => `e.${idx + 1}`;

/** Position after which to resume: -1 for from the start, null if the id is malformed. */
export function parseCursor(id: string | null | undefined, prefix: 'r' | 'e'): number | null {
  if (id === undefined || id === null || id === '') return -1;
  const m = /^([re])\.(\d{1,12})$/.exec(id);
  if (!m || m[1] !== prefix) return null;
  return Number(m[2]) - 1;
}

// ----- a binary min-heap on nextAt, then seq -----
function less(a: Run, b: Run) {
  return a.nextAt < b.nextAt || (a.nextAt === b.nextAt && a.seq < b.seq);
}
function heapPush(h: Run[], r: Run) {
  h.push(r);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!less(h[i], h[p])) break;
    [h[i], h[p]] = [h[p], h[i]];
    i = p;
  }
}
function heapPop(h: Run[]): Run | undefined {
  if (!h.length) return undefined;
  const top = h[0];
  const last = h.pop()!;
  if (h.length) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l], h[m])) m = l;
      if (r < h.length && less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
  return top;
}
