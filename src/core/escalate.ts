// --escalate: which rows are asked again on a stronger processor, and what the job has cost. Pure.
//
// A row is escalated when its latest attempt completed with an answer that has a field at low
// confidence (--escalate-on medium: low or medium), and no attempt of it was an escalation (its
// runs carry tg_esc): so a rerun of the same command, or a later one, never escalates a row twice.
// An answer's confidence is the lowest of its fields' (the basis entries of its top-level fields;
// the entries of list elements, `field.0`, are not columns of the enriched output and do not count).

export type Confidence = 'low' | 'medium' | 'high';
export type EscalateOn = 'low' | 'medium';

const RANK: Record<Confidence, number> = { low: 0, medium: 1, high: 2 };

/** The lowest confidence among an answer's fields; null when none is stated. */
export function answerConfidence(output: { content?: unknown; basis?: unknown[] | null } | null | undefined): Confidence | null {
  const content = output?.content;
  const keys = content !== null && typeof content === 'object' && !Array.isArray(content) ? new Set(Object.keys(content)) : null;
  let low: Confidence | null = null;
  for (const b of output?.basis ?? []) {
    const e = b as { field?: unknown; confidence?: unknown } | null;
    if (!e || typeof e.field !== 'string' || (keys && !keys.has(e.field))) continue;
    const c = typeof e.confidence === 'string' ? (e.confidence.toLowerCase() as Confidence) : null;
    if (c === null || !(c in RANK)) continue;
    if (low === null || RANK[c] < RANK[low]) low = c;
  }
  return low;
}

/** Whether an answer at confidence `c` is escalated by --escalate-on `on`. */
export function triggers(c: Confidence | null, on: EscalateOn): boolean {
  return c !== null && RANK[c] <= RANK[on];
}

/** What a listing says of one run, as escalation needs it. */
export interface RunSeen {
  runId: string;
  status: string;
  processor: string;
  /** tg_try; 1 when absent. */
  attempt: number;
  /** tg_esc is present: the run is an escalation (or a retry of one). */
  escalation: boolean;
  output?: { content?: unknown; basis?: unknown[] | null } | null;
}

/** One row's runs, as far as escalation needs them. */
export interface RowRuns {
  attempt: number;
  runId: string;
  status: string;
  /** The latest attempt's answer confidence (null: none stated, or not completed). */
  confidence: Confidence | null;
  /** Some attempt of the row was an escalation. */
  escalated: boolean;
  /** What the row's runs cost (completed and unfinished ones: paid, or to be), in USD; null: a price unknown. */
  usd: number | null;
}

/** Runs that are paid, or will be: all but failed and cancelled ones (whose billing the vendor does not document). */
const unpaid = (status: string) => status === 'failed' || status === 'cancelled';

/**
 * The rows of a group by their identity (the caller's: content, or key and content), from a
 * listing in any order; `price(processor)` is USD per 1,000 runs (null: unknown).
 */
export class RowRunsTable {
  private readonly rows = new Map<string, RowRuns>();

  constructor(private readonly price: (processor: string) => number | null) {}

  add(ident: string, run: RunSeen): void {
    const per1k = unpaid(run.status) ? 0 : this.price(run.processor);
    const usd = per1k === null ? null : per1k / 1000;
    const prev = this.rows.get(ident);
    const spent = prev === undefined ? usd : prev.usd === null || usd === null ? null : prev.usd + usd;
    const escalated = run.escalation || Boolean(prev?.escalated);
    if (prev && prev.attempt > run.attempt) {
      prev.usd = spent;
      prev.escalated = escalated;
      return;
    }
    const confidence = run.status === 'completed' ? answerConfidence(run.output) : null;
    this.rows.set(ident, { attempt: run.attempt, runId: run.runId, status: run.status, confidence, escalated, usd: spent });
  }

  /** The row's runs, once: a row that repeats another's content is counted (and escalated) once. */
  take(ident: string): RowRuns | undefined {
    const r = this.rows.get(ident);
    if (r) this.rows.delete(ident);
    return r;
  }

  get size(): number {
    return this.rows.size;
  }
}

/** Why a row of the job is, or is not, escalated now. */
export type Verdict = 'escalate' | 'escalated-before' | 'not-answered' | 'failed' | 'confident';

export function verdictOf(r: RowRuns, on: EscalateOn): Verdict {
  if (r.escalated) return 'escalated-before';
  if (unpaid(r.status)) return 'failed';
  if (r.status !== 'completed') return 'not-answered';
  return triggers(r.confidence, on) ? 'escalate' : 'confident';
}

/**
 * How many escalations fit a budget: `leftUsd` at `per1k` USD per 1,000 runs (Infinity: no cap).
 * Rounded on the decimal value, so $0.40 at $25/1,000 is 16 runs, not 15.
 */
export function affordable(leftUsd: number, per1k: number): number {
  if (!Number.isFinite(leftUsd)) return Infinity;
  if (leftUsd <= 0) return 0;
  if (per1k <= 0) return Infinity;
  return Math.floor(Number(((leftUsd * 1000) / per1k).toPrecision(12)));
}

/**
 * The rows to escalate under a budget: those at low confidence first, then medium ones, each in
 * input order. Returns the chosen and the number left out.
 */
export function chooseWithin<T extends { level: Confidence }>(candidates: T[], fit: number): { chosen: T[]; cut: number } {
  if (candidates.length <= fit) return { chosen: candidates, cut: 0 };
  let lows = Math.min(fit, candidates.filter((c) => c.level === 'low').length);
  let others = fit - lows;
  const chosen = candidates.filter((c) => (c.level === 'low' ? lows-- > 0 : others-- > 0));
  return { chosen, cut: candidates.length - chosen.length };
}
