// The emulator's state: groups, runs, event logs and the run lifecycle. Time-driven and lazy:
// each group keeps a heap of pending transitions that is applied, in time order, whenever the
// group is read or a timer fires for a listener. Nothing here does network I/O.
import { unit } from './rng';
import {
  ACTION_REQUIRED,
  CANCEL_MS,
  CANCELLED,
  CANCELLING,
  COMPLETED,
  FAILED,
  FATE_CANCELLED,
  FATE_NEEDS_ACTION,
  FATE_NORMAL,
  QUEUED,
  RUNNING,
  STATUS_NAMES,
  groupEventId,
  heapPop,
  heapPush,
  hex,
  iso,
  isActiveStatus,
  runEventId,
  type Group,
  type Run,
  type RunExtras,
  type StoreOptions,
} from './model';

export * from './model';

export class Store {
  readonly groups = new Map<string, Group>();
  /** Every run, by seq - 1 (a run's id holds its seq: no map keyed by a million ids). */
  private readonly bySeq: Run[] = [];
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

  /** The run with this id, if this store made it. */
  run(id: string): Run | undefined {
    const prefix = `trun_${this.salt}`;
    if (id.length !== prefix.length + 16 || !id.startsWith(prefix)) return undefined;
    const digits = id.slice(prefix.length);
    if (!/^[0-9a-f]{16}$/.test(digits)) return undefined;
    const run = this.bySeq[parseInt(digits, 16) - 1];
    return run?.id === id ? run : undefined;
  }

  createGroup(metadata: unknown): Group {
    const n = ++this.groupSeq;
    const id = `tgrp_${this.salt}${hex(n, 16)}`;
    const t = this.now();
    const g: Group = {
      id,
      createdAt: t,
      metadata: metadata ?? null,
      runs: [],
      counts: [0, 0, 0, 0, 0, 0, 0],
      modifiedAt: t,
      cachedStatus: null,
      events: [],
      heap: [],
      listeners: new Set(),
      timer: null,
      timerAt: 0,
    };
    this.groups.set(id, g);
    return g;
  }

  private newRun(group: Group | null, input: Record<string, unknown>, spec: unknown, specJson: string | null, extras: RunExtras): Run {
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
      metaJson: null,
      createdAt: t,
      startAt,
      finishAt: t + dur,
      fails: unit(this.opts.seed, seq, 3) < this.opts.failRate,
      fate: this.fateOf(seq),
      midAt: startAt + (t + dur - startAt) / 2,
      warnings: extras.warnings ?? null,
      status: QUEUED,
      modifiedAt: t,
      nextAt: startAt,
    };
    this.bySeq.push(run);
    return run;
  }

  private fateOf(seq: number): number {
    const { actionRequiredRate = 0, cancelRate = 0 } = this.opts;
    if (actionRequiredRate > 0 && unit(this.opts.seed, seq, 4) < actionRequiredRate) return FATE_NEEDS_ACTION;
    if (cancelRate > 0 && unit(this.opts.seed, seq, 5) < cancelRate) return FATE_CANCELLED;
    return FATE_NORMAL;
  }

  /** Apply a run's next transition (due at run.nextAt) and schedule the one after. */
  private step(run: Run) {
    const at = run.nextAt;
    let next = Infinity;
    if (run.status === QUEUED) {
      run.status = RUNNING;
      next = run.fate === FATE_NORMAL ? run.finishAt : run.midAt;
    } else if (run.status === RUNNING && run.fate === FATE_NEEDS_ACTION) {
      run.status = ACTION_REQUIRED;
      const hold = this.opts.actionRequiredMs;
      if (hold !== undefined) next = at + hold;
    } else if (run.status === ACTION_REQUIRED) {
      // The action was taken: run on for the rest of the run's time.
      run.status = RUNNING;
      run.fate = FATE_NORMAL;
      run.finishAt += at - run.midAt;
      next = run.finishAt;
    } else if (run.status === RUNNING && run.fate === FATE_CANCELLED) {
      run.status = CANCELLING;
      next = at + CANCEL_MS;
    } else if (run.status === CANCELLING) run.status = CANCELLED;
    else run.status = run.fails ? FAILED : COMPLETED;
    run.modifiedAt = at;
    run.nextAt = next;
  }

  /** Adds runs to a group; returns the new runs and the cursors of the last items before them. */
  addRuns(
    g: Group,
    inputs: Record<string, unknown>[],
    defaultSpec: unknown,
    extras: (i: number) => RunExtras = () => ({}),
  ): { runs: Run[]; runCursor: string | null; eventCursor: string | null } {
    this.advance(g);
    const runCursor = g.runs.length ? runEventId(g.runs.length - 1) : null;
    const eventCursor = g.events.length ? groupEventId(g.events.length - 1) : null;
    const defJson = defaultSpec ? JSON.stringify(defaultSpec) : null;
    const out: Run[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const inp = inputs[i];
      const own = inp.task_spec ?? null;
      const x = extras(i);
      const run = own ? this.newRun(g, inp, own, JSON.stringify(own), x) : this.newRun(g, inp, defaultSpec ?? null, defJson, x);
      g.runs.push(run);
      g.counts[QUEUED]++;
      heapPush(g.heap, run);
      out.push(run);
    }
    g.modifiedAt = this.now();
    this.pushStatus(g);
    this.schedule(g);
    this.notify(g);
    return { runs: out, runCursor, eventCursor };
  }

  createSingleRun(input: Record<string, unknown>, extras: RunExtras = {}): Run {
    const spec = input.task_spec ?? null;
    return this.newRun(null, input, spec, spec ? JSON.stringify(spec) : null, extras);
  }

  /** Status of a run outside a group is computed from time alone. */
  runStatus(run: Run): number {
    if (run.group) {
      this.advance(run.group);
      return run.status;
    }
    const t = this.now();
    while (run.nextAt <= t) this.step(run);
    return run.status;
  }

  /**
   * Apply every transition due by now, in time order, and wake the group's listeners if any
   * happened (whoever advanced it: a GET of the group or a result consumes transitions that an
   * /events stream must hear of, or it sleeps until its next ping).
   */
  advance(g: Group): boolean {
    const now = this.now();
    let changed = false;
    const h = g.heap;
    while (h.length && h[0].nextAt <= now) {
      const run = heapPop(h)!;
      g.counts[run.status]--;
      this.step(run);
      g.counts[run.status]++;
      // task_run.state events mark transitions to a non-active status.
      if (!isActiveStatus(run.status)) g.events.push({ kind: 1, runIdx: run.idx, status: run.status, at: run.modifiedAt });
      if (run.nextAt !== Infinity) heapPush(h, run);
      if (run.modifiedAt > g.modifiedAt) g.modifiedAt = run.modifiedAt;
      changed = true;
    }
    if (changed) {
      this.pushStatus(g);
      this.notify(g);
    }
    return changed;
  }

  isActive(g: Group): boolean {
    return g.counts[QUEUED] + g.counts[RUNNING] + g.counts[CANCELLING] > 0;
  }

  statusJson(g: Group): string {
    const counts: Record<string, number> = {};
    for (let i = 0; i < STATUS_NAMES.length; i++) if (g.counts[i]) counts[STATUS_NAMES[i]] = g.counts[i];
    const active = this.isActive(g);
    const done = g.counts[COMPLETED] + g.counts[FAILED] + g.counts[CANCELLED];
    const msg = g.runs.length === 0 ? 'No runs yet' : active ? `${done} of ${g.runs.length} runs finished` : `All ${g.runs.length} runs finished`;
    g.cachedStatus = JSON.stringify({
      num_task_runs: g.runs.length,
      task_run_status_counts: counts,
      is_active: active,
      status_message: msg,
      modified_at: iso(g.modifiedAt),
    });
    return g.cachedStatus;
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
      this.advance(g);
      this.schedule(g);
    }, at - this.now());
    g.timer.unref?.();
  }

  stopTimers() {
    for (const g of this.groups.values()) if (g.timer) clearTimeout(g.timer);
  }
}
