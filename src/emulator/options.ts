// The emulator's options, in one table: for each behaviour its `tg emulator` flag, its
// startEmulator option name, the parser of the flag's text, the help line, the default and what it
// does (the README's table). The commander declarations (src/options.ts), the options type, the
// defaults startEmulator applies, the banner of `tg emulator` and the README table all derive from
// it. Pure: no commander here (the parsers throw RangeError; src/options.ts words them for commander).
import { parseDuration, parseRate } from '../core/rateBudget';

type Rate = { limit: number; windowMs: number } | null;

interface Flag<T> {
  /** The commander flag with its argument, e.g. '--fail-rate <p>'. */
  flag: string;
  /** Where `tg emulator --help` lists it. */
  group: 'server' | 'service' | 'faults';
  /** The help line. */
  help: string;
  /** The flag's text → the option's value; throws RangeError saying what is expected. */
  parse: (text: string) => T;
  /** What startEmulator uses when the option is not given. */
  default?: T;
  /** How help, the banner and the README print a value (default: String). */
  show?: (v: T) => string;
  /** The only values the flag takes. */
  choices?: readonly string[];
  /** The README's words for it, when more than the help line. */
  doc?: string;
}

/** A row; one with a default keeps `default` required in its type (ResolvedOptions needs it). */
function flag<T>(d: Flag<T> & { default: T }): Flag<T> & { default: T };
function flag<T>(d: Flag<T>): Flag<T>;
function flag<T>(d: Flag<T>): Flag<T> {
  return d;
}

export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
/** A rate as the docs write them: "2000/60s", "2500/5s" (a window in seconds), "off". */
const formatRate = (r: Rate) => (r === null ? 'off' : `${r.limit}/${r.windowMs % 1000 === 0 ? `${r.windowMs / 1000}s` : `${r.windowMs}ms`}`);
const formatLatency = ([lo, hi]: [number, number]) => (lo === hi ? formatDuration(lo) : `${formatDuration(lo)}..${formatDuration(hi)}`);

const int = (min: number, max: number) => (text: string) => {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new RangeError(`must be a whole number from ${min} to ${max}`);
  return n;
};
const prob = (text: string) => {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new RangeError('must be a number from 0 to 1');
  return n;
};
const str = (text: string) => text;

/** "1s..5s", "200ms..6s" or one duration for both ends → [min, max] in ms. */
export function parseLatency(text: string): [number, number] {
  const parts = text.split('..');
  try {
    const [lo, hi] = parts.length === 1 ? [parseDuration(parts[0]), parseDuration(parts[0])] : [parseDuration(parts[0]), parseDuration(parts[1])];
    if (parts.length > 2 || hi < lo) throw new RangeError('x');
    return [lo, hi];
  } catch {
    throw new RangeError(`must be <min>..<max>, e.g. 1s..5s or 200ms..6s (got "${text}")`);
  }
}

/** The table. Its order is that of `tg emulator --help` (within each group), the banner and the README. */
export const EMULATOR_FLAGS = {
  host: flag({ flag: '--host <host>', group: 'server', help: 'address to listen on', parse: str, default: '127.0.0.1' }),
  port: flag({ flag: '--port <n>', group: 'server', help: 'port (0 = any free port)', parse: int(0, 65535), default: 8787 }),
  apiKey: flag<string>({
    flag: '--api-key <key>',
    group: 'server',
    help: 'require exactly this key (default: any non-empty key)',
    parse: str,
    doc: 'a request with any other key (or none) gets 401; without it any non-empty `x-api-key` is accepted',
  }),
  rateLimit: flag<Rate>({
    flag: '--rate-limit <n/window>',
    group: 'service',
    help: 'add-runs POSTs (or runs, see --rate-limit-unit) per window per key ("2000/60s", "2500/5s", "off")',
    parse: (t) => parseRate(t),
    default: { limit: 2000, windowMs: 60_000 },
    show: formatRate,
    doc: 'a sliding window per key; a POST over it gets 429 with `retry-after` (seconds) and `retry-after-ms`, and creates nothing',
  }),
  rateLimitUnit: flag<'requests' | 'runs'>({
    flag: '--rate-limit-unit <unit>',
    group: 'service',
    help: 'what --rate-limit counts: each POST that adds runs (as the API documents) or each run',
    parse: (t) => t as 'requests' | 'runs',
    choices: ['requests', 'runs'],
    default: 'requests',
    doc: 'what `--rate-limit` counts: each POST to `/v1/tasks/groups/{id}/runs` or `/v1/tasks/runs` (`requests`, as the vendor documents) or each run created (`runs`)',
  }),
  latencyMs: flag<[number, number]>({
    flag: '--latency <min..max>',
    group: 'service',
    help: 'simulated run duration, uniform ("200ms..6s")',
    parse: parseLatency,
    default: [1000, 5000],
    show: formatLatency,
    doc: "each run's duration, drawn uniformly (seeded) from the range; a run is queued for a fifth of it (at most 0.5 s), then running",
  }),
  creditLimit: flag<number | null>({
    flag: '--credit-limit <runs>',
    group: 'service',
    help: 'credit in runs; a POST that does not fit gets 402 and creates nothing',
    parse: int(0, 1e12),
    doc: 'credit for that many runs, reserved up front: a POST whose runs do not all fit gets 402 `Payment required: insufficient credit in account` and creates nothing; `setFaults({ creditLimit })` tops up',
  }),
  streamLifetimeMs: flag({
    flag: '--stream-lifetime <duration>',
    group: 'service',
    help: 'close /events streams after this long',
    parse: parseDuration,
    default: 600_000,
    show: formatDuration,
    doc: '`/events` streams end after this long even while the group is active',
  }),
  responseDelayMs: flag<number>({
    flag: '--response-delay <duration>',
    group: 'service',
    help: "answer every API request this much later (a network round trip plus the service's time)",
    parse: parseDuration,
    show: formatDuration,
    doc: "every API request is answered that much later (a network round trip plus the service's own time); health and `/__emulator/stats` are not delayed",
  }),
  failRate: flag({
    flag: '--fail-rate <p>',
    group: 'service',
    help: 'share of runs that end failed',
    parse: prob,
    default: 0,
    doc: 'that share of runs ends `failed`, with an `error`',
  }),
  actionRequiredRate: flag({
    flag: '--action-required <p>',
    group: 'service',
    help: 'share of runs that stop in action_required half-way',
    parse: prob,
    default: 0,
    doc: 'that share of runs stops in `action_required` half-way (not active, per the spec)',
  }),
  actionRequiredMs: flag<number>({
    flag: '--action-required-for <duration>',
    group: 'service',
    help: 'how long those runs wait before running on (default: they stay)',
    parse: parseDuration,
    show: formatDuration,
    doc: '…and runs on to `completed` after that long (default: they stay)',
  }),
  cancelRate: flag({
    flag: '--cancel-rate <p>',
    group: 'service',
    help: 'share of runs cancelled half-way (cancelling, then cancelled)',
    parse: prob,
    default: 0,
    doc: 'that share of runs goes `cancelling` half-way, then `cancelled` 200 ms later',
  }),
  errorRate: flag({ flag: '--error-rate <p>', group: 'faults', help: 'share of requests answered 500/503', parse: prob, default: 0 }),
  authFault: flag({
    flag: '--auth-fault <p>',
    group: 'faults',
    help: 'share of requests answered 401 "Invalid API key (C.1)" in the body the real service sends (1 = all)',
    parse: prob,
    default: 0,
    doc: 'that share of API requests gets 401 with `{"code":16,"message":"Invalid API key (C.1)"}`, the body the real service sent (not the documented error envelope); `1` refuses every request',
  }),
  loseResponses: flag({
    flag: '--lose-responses <p>',
    group: 'faults',
    help: 'share of add-runs POSTs carried out whose response is lost',
    parse: prob,
    default: 0,
    doc: 'that share of add-runs POSTs creates its runs, then the connection is cut before the answer',
  }),
  dropStreamsAfter: flag<number>({
    flag: '--drop-streams-after <n>',
    group: 'faults',
    help: 'cut every SSE connection after n events',
    parse: int(1, 1e9),
    doc: 'every SSE connection is cut in the middle of its (n+1)th event',
  }),
  streamErrorAfter: flag<number>({
    flag: '--stream-error-after <n>',
    group: 'faults',
    help: 'end group streams with an error event after n events',
    parse: int(1, 1e9),
    doc: 'group streams (`/events`, `/runs`) send an `error` event (`{"type":"error","error":{ref_id,message}}`) after n events and end; resume with `last_event_id`',
  }),
  resendEvents: flag({
    flag: '--resend-events <p>',
    group: 'faults',
    help: 'share of run events that /events sends a second time',
    parse: prob,
    default: 0,
    doc: 'after that share of `task_run.state` events, `/events` sends one of the last few it sent on that connection again, with its own `event_id`',
  }),
  dropEvents: flag({
    flag: '--drop-events <p>',
    group: 'faults',
    help: 'share of runs whose events /events never sends (fill them from /runs)',
    parse: prob,
    default: 0,
    doc: 'that share of runs (chosen by run id and seed) never gets a `task_run.state` event on `/events`, on any connection; `/runs` still lists them',
  }),
  seed: flag<number>({
    flag: '--seed <n>',
    group: 'faults',
    help: 'make outputs, latencies and faults reproducible (default: random, printed)',
    parse: int(0, 2 ** 31 - 1),
    doc: 'seeds every share above, run latencies and outputs; without it a random seed is used and printed',
  }),
};

type Flags = typeof EMULATOR_FLAGS;
type ValueOf<F> = F extends Flag<infer T> ? T : never;

/** startEmulator's options: one per row of the table, and two for embedding (log, clock). */
export type EmulatorOptions = { [K in keyof Flags]?: ValueOf<Flags[K]> } & {
  /** Called once per request with method, path and status (`tg emulator --verbose`). */
  log?: (line: string) => void;
  /** The clock of run lifecycles (tests move it by hand). */
  now?: () => number;
};

/** The options a running emulator's setFaults() changes. */
export const LIVE_OPTIONS = [
  'errorRate',
  'authFault',
  'loseResponses',
  'dropStreamsAfter',
  'streamErrorAfter',
  'creditLimit',
  'resendEvents',
  'dropEvents',
] as const satisfies readonly (keyof Flags)[];
export type LiveOptions = Pick<EmulatorOptions, (typeof LIVE_OPTIONS)[number]>;

type Defaulted = { [K in keyof Flags]: Flags[K] extends { default: unknown } ? K : never }[keyof Flags];
/** The options with every default of the table filled in. */
export type ResolvedOptions = EmulatorOptions & { [K in Defaulted]-?: ValueOf<Flags[K]> };

const entries = () => Object.entries(EMULATOR_FLAGS) as [keyof Flags, Flag<unknown>][];

/** The options with the table's defaults where a value is undefined (null is a value: "off"). */
export function withDefaults(o: EmulatorOptions): ResolvedOptions {
  const out: Record<string, unknown> = { ...o };
  for (const [k, d] of entries()) if (out[k] === undefined && d.default !== undefined) out[k] = d.default;
  return out as ResolvedOptions;
}

/** The attribute commander gives a flag's value: '--action-required-for <d>' → actionRequiredFor. */
export function attributeOf(flagText: string): string {
  return flagText
    .split(' ')[0]
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** What a flag's parser hands commander for a parsed null ("--rate-limit off"): commander would
 * store null as ''. fromCommandLine turns it back into null. */
export const PARSED_NULL = Symbol('null');

/** The options from commander's values (already parsed, keyed by attribute name). */
export function fromCommandLine(values: Record<string, unknown>): EmulatorOptions {
  const out: Record<string, unknown> = {};
  for (const [k, d] of entries()) {
    const v = values[attributeOf(d.flag)];
    if (v !== undefined) out[k] = v === PARSED_NULL ? null : v;
  }
  return out as EmulatorOptions;
}

const shown = (d: Flag<unknown>, v: unknown) => (d.show ? d.show(v) : String(v));

/** A row's default as help prints it, or undefined. */
export function defaultText(d: Flag<unknown>): string | undefined {
  return d.default === undefined ? undefined : shown(d, d.default);
}

/** The rows, for the commander declarations. */
export function emulatorFlags(): (Flag<unknown> & { key: keyof Flags })[] {
  return entries().map(([key, d]) => ({ ...d, key }));
}

/**
 * The behaviours given other than by default, as flags ("--fail-rate 0.05, --seed 7"), in table
 * order: the banner of `tg emulator`. The address, key, rate limit and latency are left out (the
 * banner says those first).
 */
export function givenBehaviours(o: EmulatorOptions): string {
  const lead = new Set(['host', 'port', 'apiKey', 'rateLimit', 'rateLimitUnit', 'latencyMs']);
  const out: string[] = [];
  for (const [k, d] of entries()) {
    const v = o[k];
    if (lead.has(k) || v === undefined || (d.default !== undefined && shown(d, v) === defaultText(d))) continue;
    out.push(`${d.flag.split(' ')[0]} ${shown(d, v)}`);
  }
  return out.join(', ');
}

/** The README's table of every flag (a test keeps README.md equal to it). */
export function emulatorFlagsMarkdown(): string {
  const rows = entries().map(([k, d]) => {
    const dflt = defaultText(d);
    return `| \`${d.flag}\` | \`${k}\` | ${dflt === undefined ? '' : `\`${dflt}\``} | ${d.doc ?? d.help} |`;
  });
  return ['| flag | option | default | behaviour |', '|---|---|---|---|', ...rows].join('\n');
}
