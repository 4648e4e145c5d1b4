// Client-side budget of add-runs, in the API's unit: requests (each POST that adds runs, the
// vendor's documented unit) or runs (for accounts limited that way).
//
// RunBudget is a token bucket of `limit` tokens in which a spent token comes back exactly one window
// after it was spent (a sliding window). Unlike a bucket that refills continuously, this never
// sends more than `limit` runs in any window, so it stays under a server that counts with a
// sliding window, a fixed window or a refilling bucket, and at a sliding-window server it reaches
// the exact maximum. Spends are stamped when the server's answer arrives (later than the server
// stamped them), which errs on the safe side.

export interface Reservation {
  n: number;
  t: number; // when the tokens were (or will be counted as) spent
  /** When the request was sent (reserved). */
  s: number;
  live: boolean;
  /** The server accepted the request (its answer arrived). */
  done?: boolean;
  /** Sent above the level the server last refused at (see AdaptiveBudget). */
  probe?: boolean;
  /** The same tokens in AdaptiveBudget's server-sized window, when it keeps one. */
  twin?: Reservation;
}

export class RunBudget {
  readonly limit: number;
  readonly windowMs: number;
  private entries: Reservation[] = [];
  private head = 0;

  constructor(limit: number, windowMs: number) {
    if (!(limit > 0) || !(windowMs > 0)) throw new RangeError('limit and window must be positive');
    this.limit = limit;
    this.windowMs = windowMs;
  }

  private prune(now: number): void {
    while (this.head < this.entries.length) {
      const e = this.entries[this.head];
      if (e.live && e.t + this.windowMs > now) break;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Tokens spent within the window ending at `now` (including in-flight reservations). */
  used(now: number): number {
    this.prune(now);
    let s = 0;
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.live && e.t + this.windowMs > now) s += e.n;
    }
    return s;
  }

  /**
   * Tokens of requests the server accepted that were sent within the window ending at `now`: the
   * server counted each of them after it was sent, so all are in its window at `now` (counting by
   * answer time instead would include some it has already let go when answers come late).
   */
  accepted(now: number): number {
    this.prune(now);
    let s = 0;
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.live && e.done && e.s + this.windowMs > now) s += e.n;
    }
    return s;
  }

  /**
   * Milliseconds to wait, from `now`, until `n` tokens are free (0 = now) under `limit` (by
   * default the bucket's own; a lower one for an adaptive pace). n above the limit is clamped.
   */
  waitMs(n: number, now: number, limit = this.limit): number {
    const need = Math.min(n, limit);
    this.prune(now);
    let used = this.used(now);
    if (used + need <= limit) return 0;
    // Tokens come back in the order they were spent (stamps are non-decreasing).
    const live = this.entries
      .slice(this.head)
      .filter((e) => e.live)
      .sort((a, b) => a.t - b.t);
    for (const e of live) {
      used -= e.n;
      if (used + need <= limit) return Math.max(0, e.t + this.windowMs - now);
    }
    return 0;
  }

  /** Take n tokens now (before the request is sent). */
  reserve(n: number, now: number): Reservation {
    const r: Reservation = { n, t: now, s: now, live: true };
    this.entries.push(r);
    return r;
  }

  /** The request's answer arrived at `at`: the tokens count from then. */
  commit(r: Reservation, at: number): void {
    r.t = Math.max(r.t, at);
    r.done = true;
  }

  /** The server definitely refused the request (nothing created): give the tokens back. */
  cancel(r: Reservation): void {
    r.live = false;
  }
}

export type RateUnit = 'requests' | 'runs';

export interface Rate {
  limit: number;
  windowMs: number;
  unit: RateUnit;
}

/** How long a request above the server's last refusal level waits while another such probe is out. */
export const PROBE_WAIT_MS = 20;

/**
 * The budget steered by the server's 429s. It never sends more than the budget (a RunBudget at
 * the configured limit) and paces itself below it once the server refuses:
 *  - a 429 sets the pace to what the server accepted in the window it refused in (the
 *    limit it evidently has; multiplicative decrease), and nothing goes until its retry-after;
 *  - after `probeEvery` windows without a 429 the pace rises by a tenth (additive increase, at
 *    most to the budget). Requests above the level the server last refused at are probes, one at
 *    a time; a refused probe doubles the wait before the next one (at most 48 windows).
 * So the steady state at a server whose real limit is below the budget has about one 429 per
 * `probeEvery` windows.
 *
 * A server whose window is much shorter than the budget's (3 per 5 s against 2000 per 60 s) would
 * be paced at 3 per 60 s that way. So when a 429 says when to come back (retry-after), the
 * episode since the last pause tells the server's rate: what it accepted from the episode's first
 * send until it frees up again. If that span is under ¾ of the budget's window, a second sliding
 * window of that span and that many units paces tg instead of lowering the budget's pace.
 * Pure: the caller passes the clock.
 */
export class AdaptiveBudget {
  readonly bucket: RunBudget;
  readonly unit: RateUnit;
  /** Units per window tg allows itself now (≤ the budget). */
  pace: number;
  /** Units accepted in a window when the server last refused (Infinity: never refused). */
  ceiling = Infinity;
  /** Nothing is sent before this moment (the server's retry-after). */
  pausedUntil = 0;
  /** 429s received. */
  refusals = 0;
  private probeEvery = 3;
  private calmSince = 0;
  /** When the request refused first in the last episode was sent, and the pace before it. */
  private refusedAt = -Infinity;
  private paceBefore = 0;
  private probe: Reservation | null = null;
  /** The server-sized window (see above), or null while the server's window looks like the budget's. */
  server: RunBudget | null = null;
  /** When the episode's first accepted request was sent, and the units accepted since. */
  private epStart = NaN;
  private epTook = 0;

  constructor(rate: Rate) {
    this.bucket = new RunBudget(rate.limit, rate.windowMs);
    this.unit = rate.unit;
    this.pace = rate.limit;
  }

  get limit(): number {
    return this.bucket.limit;
  }

  get windowMs(): number {
    return this.bucket.windowMs;
  }

  /** What a POST of `runs` runs costs in the budget's unit. */
  cost(runs: number): number {
    return this.unit === 'runs' ? runs : 1;
  }

  /** Milliseconds to wait before `cost` units may be sent (0 = now). */
  waitMs(cost: number, now: number): number {
    if (now < this.pausedUntil) return this.pausedUntil - now;
    const wait = Math.max(this.bucket.waitMs(cost, now, this.pace), this.server ? this.server.waitMs(cost, now) : 0);
    if (wait > 0) return wait;
    if (this.probe && this.bucket.used(now) + cost > this.ceiling) return PROBE_WAIT_MS;
    return 0;
  }

  /** Take `cost` units now (call when waitMs said 0, before the request is sent). */
  reserve(cost: number, now: number): Reservation {
    const probe = this.bucket.used(now) + cost > this.ceiling;
    const r = this.bucket.reserve(cost, now);
    if (this.server) r.twin = this.server.reserve(cost, now);
    if (probe) {
      r.probe = true;
      this.probe = r;
    }
    return r;
  }

  /** The server accepted the request (or its outcome is unknown): its units count from `now`. */
  accepted(r: Reservation, now: number): void {
    this.bucket.commit(r, now);
    if (r.twin) this.server?.commit(r.twin, now);
    if (Number.isNaN(this.epStart) || r.s < this.epStart) this.epStart = r.s;
    this.epTook += r.n;
    if (r.s < this.refusedAt && r.s + this.windowMs > this.refusedAt && this.ceiling !== Infinity) {
      // Sent before the last refusal, answered after it: the server had taken it too.
      this.ceiling += r.n;
      this.pace = Math.max(this.pace, Math.min(this.paceBefore, this.ceiling));
    }
    if (r.probe) {
      this.ceiling = Math.max(this.ceiling, this.bucket.accepted(now));
      this.probe = null;
    }
    this.raise(now);
  }

  /** The server refused the request for a reason other than the rate (nothing created). */
  released(r: Reservation): void {
    this.bucket.cancel(r);
    if (r.twin) this.server?.cancel(r.twin);
    if (r === this.probe) this.probe = null;
  }

  /**
   * A 429: nothing was created. The first of an episode (not already waiting) sets the pace to
   * what the server accepted in its window; every one extends the wait to its retry-after.
   * (A refusal with nothing accepted says nothing of the limit: the pace stays, the wait holds.)
   */
  refused(r: Reservation, now: number, waitMs: number, serverSaid = false): void {
    this.bucket.cancel(r);
    if (r.twin) this.server?.cancel(r.twin);
    this.refusals++;
    if (r === this.probe) this.probe = null;
    const took = this.bucket.accepted(now);
    const fresh = now >= this.pausedUntil;
    if (fresh) {
      this.refusedAt = r.s;
      this.paceBefore = this.pace;
      if (serverSaid) {
        // The server frees up `span` after the episode began, having taken epTook: its window.
        const span = Math.ceil(now + waitMs - this.epStart);
        this.server = this.epTook > 0 && span > 0 && span < 0.75 * this.windowMs ? new RunBudget(this.epTook, span) : null;
      }
      this.epStart = NaN;
      this.epTook = 0;
    }
    if (took > 0 && !this.server) {
      if (fresh && (r.probe || took >= this.ceiling)) this.probeEvery = Math.min(this.probeEvery * 2, 48);
      this.ceiling = fresh ? took : Math.min(this.ceiling, took);
      // Spends are stamped when answers arrive, after the server counted them: pacing at what it
      // took keeps each window at most at what the server allows.
      this.pace = Math.max(1, Math.min(this.pace, took));
    }
    this.pausedUntil = Math.max(this.pausedUntil, now + waitMs);
    this.calmSince = now;
  }

  /** Additive increase: a tenth more after `probeEvery` windows without a 429. */
  private raise(now: number): void {
    if (this.pace >= this.limit || now - this.calmSince < this.probeEvery * this.windowMs) return;
    this.pace = Math.min(this.limit, this.pace + Math.max(1, Math.ceil(this.pace / 10)));
    this.calmSince = now;
  }
}

/** Parse a rate: "2000" (per minute), "2000/60s", "2500/5s", "100/500ms", "off". */
export function parseRate(text: string, defaultWindowMs = 60_000): { limit: number; windowMs: number } | null {
  const s = String(text).trim().toLowerCase();
  if (s === 'off' || s === 'none' || s === 'unlimited') return null;
  const m = /^(\d+(?:\.\d+)?)(?:\/(\d+(?:\.\d+)?)?(ms|s|m|min|h)?)?$/.exec(s);
  if (!m) throw new RangeError(`not a rate: "${text}" (examples: 2000, 2000/60s, 2500/5s, off)`);
  const limit = Number(m[1]);
  if (!(limit > 0)) throw new RangeError(`rate must be positive: "${text}"`);
  if (m[2] === undefined && m[3] === undefined) return { limit, windowMs: defaultWindowMs };
  const qty = m[2] === undefined ? 1 : Number(m[2]);
  const unit = m[3] ?? 's';
  const mult = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000;
  const windowMs = qty * mult;
  if (!(windowMs > 0)) throw new RangeError(`rate window must be positive: "${text}"`);
  return { limit, windowMs };
}

/** Parse a duration: "200ms", "6s", "1.5s", "2m", bare number = seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text).trim().toLowerCase());
  if (!m) throw new RangeError(`not a duration: "${text}" (examples: 200ms, 6s, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
}
