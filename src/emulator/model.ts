// The emulator's data model: run states and fates, runs and groups, timestamps as the API writes
// them, event ids and cursors, and the binary heap of pending transitions. Pure.
export const STATUS_NAMES = ['queued', 'running', 'completed', 'failed', 'action_required', 'cancelling', 'cancelled'] as const;
export const QUEUED = 0;
export const RUNNING = 1;
export const COMPLETED = 2;
export const FAILED = 3;
export const ACTION_REQUIRED = 4; // action_required: not active (the spec), waits for the user
export const CANCELLING = 5; // cancelling: active
export const CANCELLED = 6; // cancelled

/** Active statuses, as the spec defines is_active: queued, running, cancelling. */
export const isActiveStatus = (s: number) => s === QUEUED || s === RUNNING || s === CANCELLING;

/** What happens to a run after it starts (chosen per run from the seed). */
export const FATE_NORMAL = 0;
export const FATE_NEEDS_ACTION = 1;
export const FATE_CANCELLED = 2;
export const CANCEL_MS = 200; // time spent in `cancelling`

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
  metaJson: string | null; // JSON of metadata, made on the first listing that shows the run
  createdAt: number;
  startAt: number;
  finishAt: number;
  fails: boolean;
  fate: number; // FATE_NORMAL, FATE_NEEDS_ACTION or FATE_CANCELLED
  midAt: number; // when a FATE_NEEDS_ACTION run stops for action, or a FATE_CANCELLED run starts cancelling
  warnings: string | null; // JSON of TaskRun.warnings
  status: number;
  modifiedAt: number;
  nextAt: number; // heap key; Infinity when nothing more will happen
}

export interface GroupEventRec {
  kind: 0 | 1; // 0 = task_group_status snapshot, 1 = task_run.state for runIdx
  runIdx: number;
  snapshot?: string; // JSON of TaskGroupStatus at that moment
  /** kind 1: the run's status and modified time when the event happened (a replay shows them). */
  status?: number;
  at?: number;
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
  cachedStatus: string | null; // the status last computed (refresh_status=false answers it)
}

export interface StoreOptions {
  seed: number;
  latencyMs: [number, number];
  failRate: number;
  /** Share of runs that stop in action_required half-way through. */
  actionRequiredRate?: number;
  /** How long they stay there before running on; undefined = for good. */
  actionRequiredMs?: number;
  /** Share of runs cancelled half-way through (cancelling, then cancelled). */
  cancelRate?: number;
  now?: () => number;
}

/** Per-run extras decided by the request, not by the seed. */
export interface RunExtras {
  warnings?: string | null;
}

// Two seconds' prefixes, most recent first: a run's created_at and modified_at alternate.
const isoSeconds = [NaN, NaN];
const isoPrefixes = ['', ''];

/**
 * The API's timestamp form (microseconds, Z). Runs of one POST share a second, so the text up to
 * the second is kept from the last calls (a listing of 100k runs formats 200k timestamps, created
 * and modified in turn: two seconds are kept).
 */
export function iso(ms: number): string {
  const t = Math.floor(ms);
  const sec = Math.floor(t / 1000);
  let prefix: string;
  if (sec === isoSeconds[0]) prefix = isoPrefixes[0];
  else {
    prefix = sec === isoSeconds[1] ? isoPrefixes[1] : new Date(sec * 1000).toISOString().slice(0, 20);
    isoSeconds[1] = isoSeconds[0];
    isoPrefixes[1] = isoPrefixes[0];
    isoSeconds[0] = sec;
    isoPrefixes[0] = prefix;
  }
  const frac = t - sec * 1000;
  return `${prefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}000Z`;
}

export function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, '0').slice(-width);
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
export function heapPush(h: Run[], r: Run) {
  h.push(r);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!less(h[i], h[p])) break;
    [h[i], h[p]] = [h[p], h[i]];
    i = p;
  }
}
export function heapPop(h: Run[]): Run | undefined {
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
