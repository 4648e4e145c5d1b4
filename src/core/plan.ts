// Pure batching plan and duration estimates.

export interface BatchPlan {
  rows: number;
  batchSize: number;
  batches: number;
  /** Shortest possible time to create every run at the budget, in ms (first window's worth goes at once). */
  minDurationMs: number;
}

/** `rate.unit` 'runs' counts rows against the limit; 'requests' (the default) counts POSTs. */
export function planBatches(rows: number, batchSize: number, rate: { limit: number; windowMs: number; unit?: 'requests' | 'runs' } | null): BatchPlan {
  const batches = rows === 0 ? 0 : Math.ceil(rows / batchSize);
  const spent = rate?.unit === 'runs' ? rows : batches;
  const minDurationMs = rate === null || rows === 0 ? 0 : Math.max(0, Math.ceil(spent / rate.limit) - 1) * rate.windowMs;
  return { rows, batchSize, batches, minDurationMs };
}

/**
 * The rate budget in rows (what the progress line counts): a budget of add-runs requests allows
 * `batchSize` rows each; a budget of runs is one of rows already. Null (no limit) stays undefined.
 */
export function rowBudget(
  rate: { limit: number; windowMs: number; unit?: 'requests' | 'runs' } | null,
  batchSize: number,
): { limit: number; windowMs: number } | undefined {
  if (!rate) return undefined;
  return { limit: rate.unit === 'runs' ? rate.limit : rate.limit * batchSize, windowMs: rate.windowMs };
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

/** Progress maths: rate in units/min over the run so far, ETA for the remainder. */
export function progressStats(done: number, total: number, startDone: number, elapsedMs: number, budgetPerMin?: number) {
  const delta = done - startDone;
  const perMin = elapsedMs > 0 ? (delta / elapsedMs) * 60_000 : 0;
  const remaining = Math.max(0, total - done);
  let effective = perMin;
  if (budgetPerMin !== undefined && budgetPerMin > 0 && (effective === 0 || effective > budgetPerMin)) effective = budgetPerMin;
  const etaMs = remaining === 0 ? 0 : effective > 0 ? (remaining / effective) * 60_000 : Infinity;
  return { perMin, etaMs, remaining, pct: total > 0 ? (done / total) * 100 : 100 };
}

/** When an ETA starts to mean something: after this long, and this share or count of the work. */
export const ETA_MIN_ELAPSED_MS = 5_000;
export const ETA_MIN_SHARE = 0.05;
export const ETA_MIN_COUNT = 20;

export interface EtaInput {
  done: number;
  total: number;
  /** Units already done when this display started (a resume): they say nothing about speed. */
  startDone: number;
  elapsedMs: number;
  /**
   * The client-side budget: `limit` units per `windowMs`, and the units the rest of the work still
   * needs (rows, or POSTs when the budget counts requests). The work cannot go faster than that.
   */
  budget?: { limit: number; windowMs: number; remainingUnits: number };
  /** A wait under way (rate limit, retry-after, outage backoff): nothing moves before it ends. */
  waitMs?: number;
}

export interface Eta {
  /** Units per minute over this display's life so far. */
  perMin: number;
  /** ms until done; null while there is too little to go on (never a guess from one result). */
  etaMs: number | null;
  remaining: number;
  pct: number;
}

/**
 * The ETA a person can trust: the slowest of the observed pace, the budget's pace and a wait
 * under way; null until ETA_MIN_ELAPSED_MS have passed and ETA_MIN_SHARE of the work (or
 * ETA_MIN_COUNT units) is done, except that a budget-bound rest is known from the start.
 */
export function estimateEta(i: EtaInput): Eta {
  const delta = Math.max(0, i.done - i.startDone);
  const perMin = i.elapsedMs > 0 ? (delta / i.elapsedMs) * 60_000 : 0;
  const remaining = Math.max(0, i.total - i.done);
  const pct = i.total > 0 ? Math.min(100, (i.done / i.total) * 100) : 100;
  if (remaining === 0) return { perMin, etaMs: 0, remaining, pct };
  const wait = Math.max(0, i.waitMs ?? 0);
  const b = i.budget;
  const budgetMs = b && b.limit > 0 ? (b.remainingUnits / b.limit) * b.windowMs : 0;
  const enough = delta > 0 && (delta >= ETA_MIN_COUNT || delta >= ETA_MIN_SHARE * Math.max(1, i.total - i.startDone));
  if (i.elapsedMs < ETA_MIN_ELAPSED_MS || !enough) {
    // Too early to judge the pace; a rest that needs more than one budget window is bound by it.
    return { perMin, etaMs: b && b.remainingUnits > b.limit ? Math.max(wait, budgetMs) : null, remaining, pct };
  }
  const observedMs = (remaining / perMin) * 60_000;
  return { perMin, etaMs: Math.max(observedMs, budgetMs, wait), remaining, pct };
}
