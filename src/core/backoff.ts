// Pure retry maths: jittered exponential backoff and server-requested delays.

export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
}

/** Delay before retry number `attempt` (0-based): min(base·2^attempt, cap) reduced by up to 25 % jitter. */
export function backoffDelay(attempt: number, random: () => number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 500;
  const cap = opts.capMs ?? 30_000;
  const raw = Math.min(base * 2 ** Math.min(attempt, 30), cap);
  return Math.round(raw * (1 - random() * 0.25));
}

/**
 * What the server asked us to wait, in ms, from `retry-after-ms` (ms) or `retry-after`
 * (seconds or an HTTP date). Undefined when absent or unparsable. Never capped.
 */
export function serverRetryAfterMs(headers: Record<string, string | string[] | undefined>, nowMs: number): number | undefined {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const ms = one(headers['retry-after-ms']);
  if (ms !== undefined && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  }
  const ra = one(headers['retry-after']);
  if (ra !== undefined && ra.trim() !== '') {
    const n = Number(ra);
    if (Number.isFinite(n) && n >= 0) return Math.ceil(n * 1000);
    const t = Date.parse(ra);
    if (Number.isFinite(t)) return Math.max(0, t - nowMs);
  }
  return undefined;
}

/** The delay to use: the server's if given (never shortened), else the backoff. */
export function retryDelay(attempt: number, serverMs: number | undefined, random: () => number, opts?: BackoffOptions): number {
  if (serverMs !== undefined) return serverMs;
  return backoffDelay(attempt, random, opts);
}
