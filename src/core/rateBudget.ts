// Client-side budget of run creates, in run units.
//
// It is a token bucket of `limit` tokens in which a spent token comes back exactly one window
// after it was spent (a sliding window). Unlike a bucket that refills continuously, this never
// sends more than `limit` runs in any window, so it stays under a server that counts with a
// sliding window, a fixed window or a refilling bucket, and at a sliding-window server it reaches
// the exact maximum. Spends are stamped when the server's answer arrives (later than the server
// stamped them), which errs on the safe side.

export interface Reservation {
  n: number;
  t: number; // when the tokens were (or will be counted as) spent
  live: boolean;
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

  /** Milliseconds to wait, from `now`, until `n` tokens are free (0 = now). n above the limit is clamped. */
  waitMs(n: number, now: number): number {
    const need = Math.min(n, this.limit);
    this.prune(now);
    let used = this.used(now);
    if (used + need <= this.limit) return 0;
    // Tokens come back in the order they were spent (stamps are non-decreasing).
    const live = this.entries
      .slice(this.head)
      .filter((e) => e.live)
      .sort((a, b) => a.t - b.t);
    for (const e of live) {
      used -= e.n;
      if (used + need <= this.limit) return Math.max(0, e.t + this.windowMs - now);
    }
    return 0;
  }

  /** Take n tokens now (before the request is sent). */
  reserve(n: number, now: number): Reservation {
    const r: Reservation = { n, t: now, live: true };
    this.entries.push(r);
    return r;
  }

  /** The request's answer arrived at `at`: the tokens count from then. */
  commit(r: Reservation, at: number): void {
    r.t = Math.max(r.t, at);
  }

  /** The server definitely refused the request (nothing created): give the tokens back. */
  cancel(r: Reservation): void {
    r.live = false;
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
