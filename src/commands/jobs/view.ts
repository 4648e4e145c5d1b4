// A job as `tg jobs` shows it: the journal's account, the group's answer, a state in one word,
// the cost so far, and the three ways to print it (table, tab-separated, JSON). Pure.
import { estimateUsd, formatUsd, pricePer1k } from '../../core/pricing';
import { count, shownPath } from '../../core/util';
import type { TaskGroup } from '../../core/wire';
import type { LocalJob } from './local';

/** What the API said of a job's group. */
export type GroupAnswer = { kind: 'ok'; group: TaskGroup } | { kind: 'gone' } | { kind: 'failed'; message: string } | { kind: 'not-asked'; why: string };

export type JobState = 'damaged' | 'submitting' | 'other-api' | 'not-sent' | 'gone' | 'interrupted' | 'running' | 'partial' | 'finished' | 'unknown';

/** One job: the object of `tg jobs --json`. */
export interface JobView {
  input: string | null;
  group: string | null;
  state: JobState;
  rows: number | null;
  rows_exact: boolean;
  sent: number;
  pending: number;
  runs: number | null;
  completed: number | null;
  failed: number | null;
  cancelled: number | null;
  active: boolean | null;
  counts: Partial<Record<string, number>> | null;
  processor: string | null;
  price_per_1k_usd: number | null;
  cost_usd: number | null;
  last_activity: string;
  created_at: string | null;
  origin: string | null;
  journal: string;
  note: string | null;
}

function stateOf(l: LocalJob, a: GroupAnswer | null, origin: string): JobState {
  if (l.unreadable !== null || l.origin === null) return 'damaged';
  if (l.submitting) return 'submitting';
  if (l.origin !== origin) return 'other-api';
  if (l.group === null) return 'not-sent';
  if (a?.kind === 'gone') return 'gone';
  if (l.interrupted) return 'interrupted';
  if (a?.kind !== 'ok') return 'unknown';
  if (a.group.status.is_active) return 'running';
  return l.rowsExact && l.rows !== null && l.sent < l.rows ? 'partial' : 'finished';
}

function noteOf(state: JobState, l: LocalJob, a: GroupAnswer | null, origin: string, failed: number): string | null {
  const rerun = 'rerun the same tg submit to resume';
  const notes: Record<JobState, string | null> = {
    damaged: l.unreadable ?? 'the journal has no header record',
    submitting: l.submitting
      ? `tg (pid ${l.submitting.pid}${l.submitting.host ? ` on ${l.submitting.host}` : ''}) is ${l.submitting.what} since ${l.submitting.since}`
      : null,
    'other-api': `sent to ${l.origin}, not ${origin} (--base-url): not asked`,
    'not-sent': 'nothing was sent (the run stopped before creating a group)',
    gone: 'the group is gone (404)',
    interrupted: l.pending
      ? `the last run stopped with ${count(l.pending, 'row')} in a POST whose outcome it did not record; ${rerun}: it checks the group first`
      : `the last run did not end; ${rerun}`,
    running: null,
    partial: l.rows !== null ? `${count(l.rows - l.sent, 'row')} not sent yet (--limit): the same tg submit without --limit sends them` : null,
    finished: failed ? `${count(failed, 'run')} failed: tg submit … --retry-failed sends those rows again` : null,
    unknown: a?.kind === 'failed' ? `the group could not be asked: ${a.message}` : a?.kind === 'not-asked' ? a.why : null,
  };
  const extra = l.damagedRecords ? `${l.damagedRecords} damaged journal records (a rerun lists the group)` : null;
  return [notes[state], extra].filter(Boolean).join('; ') || null;
}

/** The job's line: its state, the group's counts, and the cost so far (completed runs × the price per run). */
export function jobView(l: LocalJob, a: GroupAnswer | null, origin: string): JobView {
  const state = stateOf(l, a, origin);
  const g = a?.kind === 'ok' && state !== 'other-api' ? a.group : null;
  const counts = g ? g.status.task_run_status_counts : null;
  const completed = counts ? (counts.completed ?? 0) : null;
  const per1k = l.processor ? pricePer1k(l.processor) : null;
  return {
    input: l.input,
    group: l.group,
    state,
    rows: l.rows,
    rows_exact: l.rowsExact,
    sent: l.sent,
    pending: l.pending,
    runs: g ? g.status.num_task_runs : null,
    completed,
    failed: counts ? (counts.failed ?? 0) : null,
    cancelled: counts ? (counts.cancelled ?? 0) : null,
    active: g ? g.status.is_active : null,
    counts,
    processor: l.processor,
    price_per_1k_usd: per1k,
    cost_usd: completed !== null && per1k !== null ? estimateUsd(completed, per1k) : null,
    last_activity: new Date(l.activityMs).toISOString(),
    created_at: l.createdAt,
    origin: l.origin,
    journal: l.journal,
    note: noteOf(state, l, a, origin, counts?.failed ?? 0),
  };
}

// ----- printing -----

const HEAD = ['INPUT', 'GROUP', 'STATE', 'ROWS', 'SENT', 'COMPLETED', 'FAILED', 'CANCELLED', 'COST', 'ACTIVITY', 'NOTE'] as const;
const RIGHT = new Set(['ROWS', 'SENT', 'COMPLETED', 'FAILED', 'CANCELLED', 'COST']);
const num = (n: number | null) => (n === null ? '' : String(n));

/** "45s ago", "5m ago", "3h ago", "2d ago"; a date past 30 days. */
export function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  if (s < 30 * 86_400) return `${Math.floor(s / 86_400)}d ago`;
  return new Date(ms).toISOString().slice(0, 10);
}

/** Piped: tab-separated, no header, values as they are (full paths, plain numbers, ISO times), as `gh run list` does. */
export function tsvLines(views: JobView[]): string {
  const clean = (s: string) => s.replace(/[\t\r\n]+/g, ' ');
  return views
    .map((v) =>
      [
        v.input ?? '',
        v.group ?? '',
        v.state,
        num(v.rows),
        String(v.sent),
        num(v.completed),
        num(v.failed),
        num(v.cancelled),
        v.cost_usd === null ? '' : String(Math.round(v.cost_usd * 1e6) / 1e6),
        v.last_activity,
        v.note ?? '',
      ]
        .map(clean)
        .join('\t'),
    )
    .map((l) => l + '\n')
    .join('');
}

/** On a terminal: a header and aligned columns; paths as messages show them, rows "≥n" when only a lower bound is known. */
export function tableText(views: JobView[], o: { now: number; cwd: string; home?: string; width?: number }): string {
  const cells = views.map((v) => {
    const input = v.input === null ? '?' : v.input === '-' ? '<stdin>' : shownPath(v.input, o.cwd, o.home);
    return [
      input.length > 40 ? `…${input.slice(-39)}` : input,
      v.group ?? '-',
      v.state,
      v.rows === null ? '-' : `${v.rows_exact ? '' : '≥'}${v.rows}`,
      String(v.sent),
      v.completed === null ? '-' : String(v.completed),
      v.failed === null ? '-' : String(v.failed),
      v.cancelled === null ? '-' : String(v.cancelled),
      v.cost_usd === null ? '-' : formatUsd(v.cost_usd),
      ago(Date.parse(v.last_activity), o.now),
      v.note ?? '',
    ];
  });
  const widths = HEAD.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const fixed = widths.slice(0, -1).reduce((n, w) => n + w + 2, 0);
  // The note (last) is cut to the terminal's width when the other columns leave it room enough.
  const room = o.width && o.width - fixed >= 16 ? o.width - fixed : Infinity;
  const line = (c: readonly string[]) =>
    c
      .map((x, i) =>
        i === c.length - 1 ? (x.length > room ? x.slice(0, room - 1) + '…' : x) : RIGHT.has(HEAD[i]) ? x.padStart(widths[i]) : x.padEnd(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return [line(HEAD), ...cells.map(line)].join('\n') + '\n';
}
