// What submit says: the plan against the group, the closing summary (rows, pace, 429s) and the
// errors after which the same command resumes.
import type { Context } from '../../context';
import { EXIT, InterruptedError, TgError, withResumeHint, type ApiError } from '../../errors';
import { planBatches, formatDuration } from '../../core/plan';
import { count, shownPath } from '../../core/util';
import type { Ledger } from '../../core/ledger';
import type { ApiClient } from '../../api/client';
import type { Validation } from './validate';
import type { Sender } from './send';
import type { Job, SubmitOptions } from './job';
import { estimate } from './cost';
import { formatUsd } from '../../core/pricing';

export interface SubmitSummary {
  /** Rows that repeat another row's content, answered by its run (never sent). */
  repeats: number;
  processor: string;
  /** What the rows sent by this run cost once they complete (null: no price known). */
  estimated_cost_usd: number | null;
  taskgroup_id: string | null;
  submitted: number;
  skipped: number;
  rejected: number;
  rows: number;
  batches: number;
  state: string | null;
  elapsed_ms: number;
  rate_limited: number;
  /** The exit status of what ran after the send pass (afterSend), if anything did. */
  exit?: number;
  /** Time spent waiting on the rate limit (budget or 429s). */
  waited_ms: number;
}

/** "200 rows, 160 distinct inputs: 40 repeat another row; sent once" (content identity). */
export function distinctText(v: Validation): string {
  const r = v.repeats;
  return `${count(v.valid, 'row')}, ${count(v.valid - r, 'distinct input')}: ${r} repeat${r === 1 ? 's' : ''} another row; sent once (--no-dedupe sends each)`;
}

export function reportPlan(job: Job, v: Validation, ledger: Ledger | null) {
  const { ctx } = job;
  for (const n of v.notes) ctx.info(`tg: ${n}`);
  if (v.repeats) ctx.info(`tg: ${distinctText(v)}`);
  if (v.dropped.length) ctx.info(`tg: ${job.cfg.textCells ? 'columns' : 'fields'} not in input_schema are not sent: ${v.dropped.join(', ')}`);
  if (v.invalid) ctx.warn(`tg: ${count(v.invalid, 'invalid row')} skipped; see ${shownPath(job.rejectsPath, ctx.io.cwd, ctx.io.env.HOME)}`);
  if (ledger && (v.present || v.conflicts)) {
    const conflict = v.conflicts ? `, ${v.conflicts} changed (${job.o.onConflict === 'resend' ? 'sent again' : 'skipped'})` : '';
    ctx.info(
      `tg: the group holds ${v.present} of these ${count(v.valid, 'row')} already${conflict}; ${v.fresh + (job.o.onConflict === 'resend' ? v.conflicts : 0)} to send`,
    );
  }
}

/** The budget in rows a minute, for the progress ETA: in requests, a full batch per request. */
/** A 402 mid-submit: say what was sent and that the same command resumes after a top-up (exit 3). */
export function outOfCredit(v: Validation, sender: Sender, e: ApiError): TgError {
  const done = sender.sentRows + sender.skippedRows;
  return new TgError(
    'payment_required',
    `the account is out of credit: the API refused to add runs (402). ${done} of ${v.valid} rows are in the group, ${v.valid - done} are not yet (the API said: ${e.message})`,
    {
      hint: 'Add credit to the account (task groups reserve credit for all their runs up front), then rerun the same command: it resumes and sends only the rows the group lacks.',
      cause: e,
    },
  );
}

/** "at 95 requests/min (paced at 50 requests/6s after 429s), waited 12s on the rate limit" — or ''. */
function paceText(job: Job, sender: Sender, elapsed: number): string {
  const b = sender.budget;
  if (!b || elapsed <= 0) return '';
  const unit = b.unit === 'runs' ? 'runs' : 'requests';
  const spent = b.unit === 'runs' ? sender.sentRows : sender.posts;
  const parts = [`at ${Math.round((spent * 60_000) / elapsed)} ${unit}/min of ${job.rateText}`];
  if (b.pace < b.limit) parts.push(`paced down to ${b.pace} ${unit}/${b.windowMs / 1000}s by the server's 429s`);
  if (b.server) parts.push(`paced at ${b.server.limit} ${unit} per ${formatDuration(b.server.windowMs)}, the server's window by its 429s`);
  const waited = sender.waitedMs();
  if (waited >= 1000) parts.push(`waited ${formatDuration(waited)} on the rate limit`);
  return ` (${parts.join('; ')})`;
}

export function summarize(job: Job, v: Validation, groupId: string, sender: Sender, client: ApiClient, elapsed: number): SubmitSummary {
  const { ctx } = job;
  const skipped = sender.skippedRows;
  const cost = estimate(job, sender.sentRows);
  const paid = sender.sentRows && cost.usd !== null ? `; ${formatUsd(cost.usd)} on ${job.processor} as they complete` : '';
  ctx.info(
    `tg: ${groupId}: ${count(sender.sentRows, 'row')} sent${skipped ? `, ${skipped} already in the group` : ''}` +
      `${sender.sameRows ? `, ${sender.sameRows} repeating another row (answered by its run)` : ''}${v.invalid ? `, ${v.invalid} rejected` : ''}` +
      `${sender.limitedRows ? `, ${sender.limitedRows} past --limit ${job.o.limit} (the same command without --limit sends them)` : ''} in ${formatDuration(elapsed)}` +
      paceText(job, sender, elapsed) +
      (client.rateLimited ? ` (${client.rateLimited} answers were 429)` : '') +
      paid,
  );
  if (client.rateLimited >= 3 && client.rateLimited > 0.05 * sender.posts)
    ctx.warn(
      `tg: hint: the API refused ${client.rateLimited} batches for the rate limit (each was waited out and resent); if another client shares this key, lower --rate (now ${job.rateText}) to stop the waits.`,
    );
  const batches = planBatches(v.valid, job.batchSize, job.rate).batches;
  return {
    taskgroup_id: groupId,
    submitted: sender.sentRows,
    skipped,
    rejected: v.invalid,
    repeats: sender.sameRows,
    processor: job.processor,
    estimated_cost_usd: cost.usd,
    rows: v.rows,
    batches,
    state: job.statePath,
    elapsed_ms: elapsed,
    rate_limited: client.rateLimited,
    waited_ms: sender.waitedMs(),
  };
}

/** Errors after which the same command resumes say so; never "--restart", which sends again. */
export function resumeHint(e: unknown, o: SubmitOptions, ctx: Context): unknown {
  const again = o.restart ? 'Rerun the command without --restart to resume' : 'Rerun the same command to resume';
  const stdin = o.input === '-' ? ' (with the same stdin)' : '';
  if (e instanceof InterruptedError || (ctx.signal.aborted && !(e instanceof TgError && e.exitCode === EXIT.USAGE)))
    return new InterruptedError(`${again}${stdin}: rows the group holds already are not sent again.`);
  if (e instanceof TgError && (e.exitCode === EXIT.API || e.exitCode === EXIT.AUTH)) return withResumeHint(e, `${again}${stdin}: it resumes.`);
  return e;
}
