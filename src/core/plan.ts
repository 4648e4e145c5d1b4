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
