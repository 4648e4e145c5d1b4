// The emulator's shared state, handed to every handler: options (mutable through setFaults), the
// store, counters, the fault stream, the rate-limit windows and the open SSE responses. Also the
// lookups and JSON views the handlers share.
import type http from 'node:http';
import { Store, type Group, type Run, STATUS_NAMES, FAILED, iso, isActiveStatus } from './store';
import { generateOutput } from './outputs';
import { hash32, mulberry32 } from './rng';
import { HttpFail, type Reply } from './http';
import { withDefaults, type EmulatorOptions, type ResolvedOptions } from './options';

export type { EmulatorOptions } from './options';

export interface EmulatorStats {
  requests: number;
  /** POSTs to .../runs (group add-runs or a single run), counted before auth and validation. */
  runCreateRequests: number;
  runsCreated: number;
  addRunsPosts: number;
  rateLimited: number;
  errorsInjected: number;
  responsesLost: number;
  streamsDropped: number;
  /** `error` events sent on group streams (streamErrorAfter). */
  errorEvents: number;
  /** POSTs refused with 402 (creditLimit). */
  paymentRequired: number;
  /** Runs charged against creditLimit. */
  creditUsed: number;
  /** Requests refused with 422 (validation). */
  validationErrors: number;
  /** /events streams ended by streamLifetimeMs. */
  streamsExpired: number;
  /** task_run.state events /events sent again (resendEvents). */
  eventsResent: number;
  /** Runs whose task_run.state events /events withheld (dropEvents), each counted once. */
  eventsDropped: number;
  /** Requests answered 401 by authFault. */
  authFaults: number;
  /** POST /v1beta/tasks/suggest and /v1beta/tasks/suggest-processor requests answered. */
  suggestRequests: number;
  suggestProcessorRequests: number;
}

export interface EmulatorState {
  opts: ResolvedOptions;
  seed: number;
  store: Store;
  stats: EmulatorStats;
  faults: () => number;
  rateLimit: { limit: number; windowMs: number } | null;
  windows: Map<string, { t: number; n: number }[]>;
  openStreams: Set<http.ServerResponse>;
  /** Runs whose events were withheld (dropEvents), so each counts once in eventsDropped. */
  droppedRuns: Set<string>;
}

export function createState(options: EmulatorOptions): EmulatorState {
  const opts = withDefaults(options); // a copy, ours to change (setFaults)
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  return {
    opts,
    seed,
    store: new Store({
      seed,
      latencyMs: opts.latencyMs,
      failRate: opts.failRate,
      actionRequiredRate: opts.actionRequiredRate,
      actionRequiredMs: opts.actionRequiredMs,
      cancelRate: opts.cancelRate,
      now: opts.now,
    }),
    stats: {
      requests: 0,
      runCreateRequests: 0,
      runsCreated: 0,
      addRunsPosts: 0,
      rateLimited: 0,
      errorsInjected: 0,
      responsesLost: 0,
      streamsDropped: 0,
      errorEvents: 0,
      paymentRequired: 0,
      creditUsed: 0,
      validationErrors: 0,
      streamsExpired: 0,
      eventsResent: 0,
      eventsDropped: 0,
      authFaults: 0,
      suggestRequests: 0,
      suggestProcessorRequests: 0,
    },
    faults: mulberry32(seed ^ 0x5eed),
    rateLimit: opts.rateLimit,
    windows: new Map(),
    openStreams: new Set(),
    droppedRuns: new Set(),
  };
}

/** Count a POST creating `runs` runs for key (one request, or the runs, by rateLimitUnit); throws 429
 * (nothing created) when over the limit. */
export function charge(st: EmulatorState, key: string, runs: number) {
  const rl = st.rateLimit;
  if (!rl) return;
  const n = st.opts.rateLimitUnit === 'runs' ? runs : 1;
  const now = st.store.now();
  let w = st.windows.get(key);
  if (!w) st.windows.set(key, (w = []));
  while (w.length && w[0].t + rl.windowMs <= now) w.shift();
  let used = 0;
  for (const e of w) used += e.n;
  if (used + n > rl.limit) {
    let free = used;
    let waitMs = rl.windowMs;
    for (const e of w) {
      free -= e.n;
      if (free + n <= rl.limit) {
        waitMs = e.t + rl.windowMs - now;
        break;
      }
    }
    st.stats.rateLimited++;
    waitMs = Math.max(1, Math.ceil(waitMs));
    throw new HttpFail(429, 'Too many requests: quota temporarily exceeded', undefined, {
      'retry-after': String(Math.ceil(waitMs / 1000)),
      'retry-after-ms': String(waitMs),
    });
  }
  w.push({ t: now, n });
}

/** Reserve credit for n runs up front, as task groups do; 402 (nothing created) when short. */
export function spendCredit(st: EmulatorState, n: number) {
  const limit = st.opts.creditLimit;
  if (limit !== undefined && limit !== null && st.stats.creditUsed + n > limit) {
    st.stats.paymentRequired++;
    throw new HttpFail(402, 'Payment required: insufficient credit in account');
  }
  st.stats.creditUsed += n;
}

export function findGroup(st: EmulatorState, id: string): Group {
  const g = st.store.groups.get(id);
  if (!g) throw new HttpFail(404, 'TaskGroup not found');
  return g;
}

export function findRun(st: EmulatorState, id: string): Run {
  const r = st.store.run(id);
  if (!r) throw new HttpFail(404, 'Run id not found');
  return r;
}

// ----- JSON views -----

export function runJson(store: Store, run: Run): string {
  const s = store.runStatus(run);
  return runJsonAs(run, s, run.modifiedAt);
}

/** The run as it was when it had status s (modified at `at`): what an event recorded then shows. */
export function runJsonAs(run: Run, s: number, at: number): string {
  const status = STATUS_NAMES[s];
  const err = s === FAILED ? JSON.stringify({ ref_id: `ref_${run.id.slice(5)}`, message: 'Run failed (emulated by --fail-rate)', detail: null }) : 'null';
  return (
    `{"run_id":"${run.id}","interaction_id":"${run.id}","status":"${status}","is_active":${isActiveStatus(s)},` +
    `"warnings":${run.warnings ?? 'null'},"error":${err},"processor":${JSON.stringify(run.processor)},"metadata":${(run.metaJson ??= run.metadata ? JSON.stringify(run.metadata) : 'null')},` +
    `"created_at":"${iso(run.createdAt)}","modified_at":"${iso(at)}","taskgroup_id":${run.group ? `"${run.group.id}"` : 'null'}}`
  );
}

export function inputJson(run: Run): string {
  const { task_spec: _own, ...rest } = run.input;
  const base = JSON.stringify(rest);
  if (!run.specJson) return base;
  return base === '{}' ? `{"task_spec":${run.specJson}}` : `{"task_spec":${run.specJson},${base.slice(1)}`;
}

export function outputJson(store: Store, run: Run): string {
  return JSON.stringify(generateOutput(run.spec, run.input.input, (hash32(run.id) ^ store.opts.seed) >>> 0, run.input.mcp_servers));
}

export function groupJson(store: Store, g: Group): string {
  store.advance(g);
  return `{"taskgroup_id":"${g.id}","status":${store.statusJson(g)},"created_at":"${iso(g.createdAt)}","metadata":${JSON.stringify(g.metadata ?? null)}}`;
}

/** One request as a handler sees it. */
export interface Call {
  st: EmulatorState;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** The x-api-key (already checked); rate limits are kept per key. */
  key: string;
}

export type Handler = (c: Call) => Promise<Reply> | Reply;
