// Retries, as a wrapper around one attempt (as undici's RetryAgent wraps a dispatcher), and the one
// give-up rule every retrying path of tg follows — requests, event streams and submit's add-runs
// POSTs alike:
//
//   An outage starts at the first failure after a success (for a stream that went silent: at its
//   last event) and ends at the next success. tg retries through it, waiting what the server asks
//   (retry-after) or a jittered backoff, until it has lasted the give-up (TG_OUTAGE_GIVE_UP_S,
//   600 s). A wait the server asks for that would end past the give-up ends the outage at once:
//   exit 4, saying when to come back (waitTooLong), never a day-long sleep.
import { ApiError, NetworkError } from '../errors';
import { retryDelay, type BackoffOptions } from '../core/backoff';
import type { Clock, Random } from '../core/clock';
import { sleep } from '../core/util';
import { retryable } from './httpErrors';

/** The server asked for a wait longer than the outage give-up: end now (exit 4), saying when to come back. */
export function waitTooLong(what: string, waitMs: number, giveUpMs: number, now: number, cause?: unknown): ApiError {
  const back = new Date(now + waitMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const asked = `the API asked to wait ${Math.ceil(waitMs / 1000)} s (retry-after)`;
  return new ApiError('retry_later', `${what}: ${asked}, longer than the outage give-up of ${Math.round(giveUpMs / 1000)} s`, {
    status: 429,
    retryAfterMs: waitMs,
    cause,
    hint: `Come back after ${back} and rerun the same command: it resumes. (TG_OUTAGE_GIVE_UP_S sets how long tg may wait.)`,
  });
}

/** Whether an error is worth another attempt: a connection failure, or an answer the server or its status says to retry. */
export function transient(e: unknown): boolean {
  return e instanceof NetworkError || (e instanceof ApiError && retryable(e));
}

export interface OutageOptions {
  giveUpMs: number;
  clock: Clock;
  random: Random;
  backoff?: BackoffOptions;
}

/** One outage's bookkeeping, by the rule above. */
export class Outage {
  /** When the outage began (null: none under way). */
  private start: number | null = null;
  private failures = 0;
  constructor(private readonly o: OutageOptions) {}

  /** A success: the outage (if any) is over. */
  ok(): void {
    this.start = null;
    this.failures = 0;
  }

  /** Whether an outage is under way. */
  get active(): boolean {
    return this.start !== null;
  }

  /**
   * After a failure worth retrying: how long to wait before the next attempt. Throws `e` when
   * the outage has lasted the give-up, and waitTooLong when the server's retry-after would end
   * past it. `silentMs`: the failure began that long ago (a stream silent since its last event).
   */
  next(e: unknown, what: string, silentMs = 0): number {
    const now = this.o.clock.now();
    this.start ??= now - silentMs;
    if (now - this.start >= this.o.giveUpMs) throw e;
    const asked = e instanceof ApiError ? e.retryAfterMs : undefined;
    const wait = retryDelay(this.failures++, asked, this.o.random, this.o.backoff);
    if (asked !== undefined && now - this.start + wait > this.o.giveUpMs) throw waitTooLong(what, wait, this.o.giveUpMs, now, e);
    return wait;
  }
}

export interface RetryOptions extends OutageOptions {
  /** Attempts after the first, at most. */
  retries: number;
  signal?: AbortSignal;
  /** Told before each wait (ms, why): the progress display counts it down. */
  onWait?: (ms: number, reason: string) => void;
  /** What the request is, for messages ("GET /v1/…"). */
  what: string;
}

/** Why a wait, as the progress line shows it. */
export function waitReason(e: unknown): string {
  if (e instanceof ApiError) return e.status === 429 ? 'rate limit (429)' : `API answered ${e.status}, retrying`;
  return 'network error, retrying';
}

/** Call `attempt` until it succeeds, retrying transient failures by the give-up rule. */
export async function withRetries<T>(attempt: () => Promise<T>, o: RetryOptions): Promise<T> {
  const outage = new Outage(o);
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (o.signal?.aborted || !transient(e) || n >= o.retries) throw e;
      const wait = outage.next(e, o.what);
      o.onWait?.(wait, waitReason(e));
      await sleep(wait, o.signal);
    }
  }
}
