// What a group's runs say in rows, as users count them: a row is a key of an input (its slot: key
// column + key, or source + row number, from the run's tg metadata); its state is that of the run
// that answers it (core/join.ts answers(): its latest completed attempt, else its latest attempt —
// a retry replaces a failure, a failed escalation never hides an answer). Runs tg did not
// create are a row each. Also what was paid so far: completed runs × their processor's price
// (failed and cancelled runs are counted apart: the vendor does not document billing them). Pure.
import { runIdent } from './ledger';
import { answers } from './join';
import { estimateUsd, pricePer1k } from './pricing';
import { TERMINAL_STATUSES } from './util';

export interface RunFacts {
  status: string;
  processor: string;
  metadata?: Record<string, unknown> | null;
}

export class RowTally {
  runs = 0;
  /** Runs sent again by --retry-failed/--retry-cancelled, and by --escalate. */
  retries = 0;
  escalations = 0;
  /** Completed runs, and by processor (what they cost: costUsd). */
  completedRuns = 0;
  private readonly completedBy: Record<string, number> = {};
  /** Runs by status (what the API counts). */
  readonly runStates: Record<string, number> = {};
  /** Processors the runs used, with how many. */
  readonly processors: Record<string, number> = {};
  private readonly latest = new Map<string, { attempt: number; status: string }>();
  private untracked: Record<string, number> = {};

  add(run: RunFacts): void {
    this.runs++;
    this.runStates[run.status] = (this.runStates[run.status] ?? 0) + 1;
    this.processors[run.processor] = (this.processors[run.processor] ?? 0) + 1;
    if (run.status === 'completed') {
      this.completedRuns++;
      this.completedBy[run.processor] = (this.completedBy[run.processor] ?? 0) + 1;
    }
    const md = run.metadata ?? null;
    const attempt = Number(md?.tg_try ?? 1) || 1;
    if (attempt > 1) {
      if (md?.tg_esc !== undefined) this.escalations++;
      else this.retries++;
    }
    const id = runIdent(md);
    if (id === null) {
      this.untracked[run.status] = (this.untracked[run.status] ?? 0) + 1;
      return;
    }
    const prev = this.latest.get(id);
    const next = { attempt, flat: { status: run.status } };
    if (!prev || answers(next, { attempt: prev.attempt, flat: { status: prev.status } })) this.latest.set(id, { attempt, status: run.status });
  }

  /** What the completed runs cost, in USD (null: a processor without a known price among them). */
  get costUsd(): number | null {
    let usd = 0;
    for (const [processor, n] of Object.entries(this.completedBy)) {
      const p = pricePer1k(processor);
      if (p === null) return null;
      usd += estimateUsd(n, p);
    }
    return Math.round(usd * 1e6) / 1e6;
  }

  /** Rows by the state of their latest attempt. */
  rowStates(): Record<string, number> {
    const out: Record<string, number> = { ...this.untracked };
    for (const { status } of this.latest.values()) out[status] = (out[status] ?? 0) + 1;
    return out;
  }

  get rows(): number {
    let n = this.latest.size;
    for (const v of Object.values(this.untracked)) n += v;
    return n;
  }

  /** Rows whose latest attempt failed or was cancelled (exit 1 when any). */
  get failedRows(): number {
    const s = this.rowStates();
    return (s.failed ?? 0) + (s.cancelled ?? 0);
  }

  /** Rows whose latest attempt has not finished. */
  get openRows(): number {
    const s = this.rowStates();
    return Object.entries(s).reduce((n, [k, v]) => (TERMINAL_STATUSES.has(k) ? n : n + v), 0);
  }
}

/** "300 rows: completed 300 (318 runs: 18 retried)" — rows first, runs beside them where they differ. */
export function rowsText(t: RowTally): string {
  const order = ['queued', 'running', 'action_required', 'cancelling', 'completed', 'failed', 'cancelled'];
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  const states = Object.entries(t.rowStates())
    .filter(([, n]) => n)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const extra = [t.retries ? `${t.retries} retried` : '', t.escalations ? `${t.escalations} escalated` : ''].filter(Boolean).join(', ');
  const runs = t.runs !== t.rows ? ` (${t.runs} runs${extra ? `: ${extra}` : ''})` : '';
  return `${t.rows} row${t.rows === 1 ? '' : 's'}${states ? `: ${states}` : ''}${runs}`;
}
