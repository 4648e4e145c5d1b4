// The join of input rows to the group's runs (`fetch --join`, the enriched output of
// `submit --watch -o`), pure: which run answers a row, and the tally that decides the outcome.
//
// A row takes, of the runs under its key whose stored input matches the row's content, the latest
// attempt (a row sent again by --retry-failed has several): so a re-sorted input, or two files
// sent into one group, never gives a row another row's answer. The rule for "open" (the row is
// not done, exit 5): a row that was meant to have a run and has no finished one — no run yet, or
// one still queued, running or waiting. A row never sent (rejected by --skip-invalid, past
// --limit) is not open; a row whose key finds only runs of other content is a mismatch (an error).
import { TgError } from '../errors';
import { TERMINAL_STATUSES } from './util';
import type { RunOutput } from './wire';

/** What the join keeps of a run. */
export interface StoredRun {
  flat: Record<string, unknown>;
  input: unknown;
  /** The run's output (with its basis): kept for the enriched output of submit. */
  output?: RunOutput | null;
  /** tg_try; 1 when absent. */
  attempt?: number;
  /** The run's processor (an escalation's differs from the job's). */
  processor?: string;
}

/** The runs of a group by tg_key. */
export interface RunLookup {
  get(key: string): StoredRun[];
  readonly runs: number;
  readonly keys: number;
  /** The processors the runs used (more than one: the enriched output says each row's). */
  readonly processors?: ReadonlySet<string>;
}

/** A CSV cell, a JSON value and a run's (schema-coerced) input field, compared as text. */
function sameValue(cell: unknown, sent: unknown): boolean {
  const text = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const a = text(cell);
  const b = text(sent);
  if (a === b) return true;
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(Number(a)) && Number(a) === Number(b)) return true; // "1.50" vs 1.5
  return false;
}

/** Does a run's stored input match a row? Every field the run was sent must equal the row's. */
export function inputMatchesRow(row: unknown, input: unknown): boolean {
  if (input === undefined) return true; // the run stream did not carry the input: nothing to check
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    if (!row || typeof row !== 'object') return false;
    const r = row as Record<string, unknown>;
    return Object.entries(input as Record<string, unknown>).every(([k, v]) => k in r && sameValue(r[k], v));
  }
  // --input-column: the run was sent one column's text
  if (row && typeof row === 'object') return Object.values(row as Record<string, unknown>).some((v) => sameValue(v, input));
  return sameValue(row, input);
}

/** The run of a row: the latest attempt whose input matches (null when none does); keyed: some run has the key. */
export function runOf(value: unknown, key: string, index: RunLookup): { run: StoredRun | null; keyed: boolean } {
  const runs = index.get(key);
  if (!runs.length) return { run: null, keyed: false };
  let best: StoredRun | null = null;
  for (const r of runs) if (inputMatchesRow(value, r.input) && (!best || answers(r, best))) best = r;
  return { run: best, keyed: true };
}

/**
 * Whether run `a` answers a row rather than `b`: a completed run beats one that is not (a failed
 * escalation never hides the answer it was to improve), then the later attempt.
 */
export function answers(a: { attempt?: number; flat?: { status?: unknown } }, b: { attempt?: number; flat?: { status?: unknown } }): boolean {
  const done = (r: typeof a) => r.flat?.status === 'completed';
  if (done(a) !== done(b)) return done(a);
  return (a.attempt ?? 1) >= (b.attempt ?? 1);
}

/** How many row lines a message names, at most. */
const LIST = 10;

/** The outcome of a join, row by row. */
export class JoinTally {
  rows = 0;
  matched = 0;
  failed = 0;
  /** Lines of open rows (the first few), and how many. */
  readonly open: number[] = [];
  openCount = 0;
  readonly mismatched: number[] = [];
  mismatchCount = 0;

  /**
   * Count one row: `expected`, it was meant to have a run (see the rule above); `run`/`keyed` as
   * runOf() found them.
   */
  add(line: number, expected: boolean, run: StoredRun | null, keyed: boolean): void {
    this.rows++;
    if (keyed) this.matched++;
    if (keyed && !run) {
      if (this.mismatchCount++ < LIST) this.mismatched.push(line);
      return;
    }
    const status = String(run?.flat.status ?? '');
    if (expected && !TERMINAL_STATUSES.has(status) && this.openCount++ < LIST) this.open.push(line);
    if (status === 'failed' || status === 'cancelled') this.failed++;
  }

  /** A join that cannot be trusted is an error (nothing is written in place of -o). */
  check(index: RunLookup, o: { join: string; group: string; key?: string }): void {
    if (this.mismatchCount)
      throw new TgError(
        'join_mismatch',
        `${this.mismatchCount} rows of ${o.join} do not match the input of the run with their key (${lines(this.mismatched, this.mismatchCount)})`,
        {
          hint:
            `The file changed since it was submitted (re-sorted or edited), or other rows were sent into ${o.group} under the same keys. ` +
            `Join the file as it was submitted${o.key === undefined ? ', or the same --key used at submit' : ''}.`,
        },
      );
    if (this.rows > 0 && index.runs > 0 && this.matched === 0) {
      const hint =
        o.key === undefined
          ? 'If the rows were submitted with --key <column>, pass the same --key here.'
          : `Check --key ${o.key}: it must be the --key used at submit.`;
      throw new TgError('join_no_match', `no row of ${o.join} matched a run of ${o.group} by its key (${index.keys} keys in the group)`, { hint });
    }
  }
}

/** "lines 2, 3 and 5 more" */
export function lines(l: number[], n: number): string {
  return `line${n === 1 ? '' : 's'} ${l.join(', ')}${n > l.length ? ` and ${n - l.length} more` : ''}`;
}
