// The bill before the work: the rows a job will send (only those the group lacks, within
// --limit), their estimated cost, --max-cost, and on a terminal a question above a threshold.
import { count } from '../../core/util';
import readline from 'node:readline';
import { TgError, usageError } from '../../errors';
import { CONFIRM_ABOVE_USD, estimateUsd, formatUsd, pricePer1k, PRICES_AS_OF } from '../../core/pricing';
import { formatDuration, planBatches } from '../../core/plan';
import type { Replay } from '../../io/journal';
import type { Job } from './job';
import type { Bits } from '../../core/bits';

export interface Estimate {
  rows: number;
  /** The processor priced: the job's, or --escalate's. */
  processor: string;
  per1k: number | null;
  usd: number | null;
  /** Where the price comes from, for the plan: "table 2026" or "--price-per-1k". */
  source: string;
  minDurationMs: number;
}

/** `rows` runs on `processor` (the job's by default; --price-per-1k prices the job's processor only). */
export function estimate(job: Job, rows: number, processor = job.processor): Estimate {
  const override = processor === job.processor ? job.o.pricePer1k : undefined;
  const per1k = pricePer1k(processor, override);
  const source = override !== undefined ? '--price-per-1k' : `price table of ${PRICES_AS_OF}`;
  const usd = per1k === null ? null : estimateUsd(rows, per1k);
  return { rows, processor, per1k, usd, source, minDurationMs: planBatches(rows, job.batchSize, job.rate).minDurationMs };
}

export function describeEstimate(job: Job, e: Estimate): string {
  if (e.usd === null) return `unknown: no price for processor ${e.processor}${e.processor === job.processor ? ' (pass --price-per-1k)' : ''}`;
  return `${formatUsd(e.usd)} (${e.rows} runs × ${formatUsd(e.per1k!)}/1,000 on ${e.processor}, ${e.source})`;
}

/** The first `limit` of `n` valid rows. */
export const withinLimit = (job: Job, n: number) => (job.o.limit === undefined ? n : Math.min(n, job.o.limit));

/** Rows among the first `limit` valid ones that the journal's matching chunks record as in the group. */
export function journalCovered(job: Job, replay: Replay, chunks: string[]): number {
  const limit = job.o.limit ?? Infinity;
  let n = 0;
  for (const [c, st] of replay.chunks) {
    if (chunks[c] !== st.h) continue;
    const base = c * job.batchSize;
    if (st.covered === 'all') n += Math.max(0, Math.min(st.n, limit - base));
    else for (const off of st.covered) if (base + off < limit) n++;
  }
  return n;
}

/** Rows among the first `limit` valid ones that repeat another row's content and the journal does not cover: never sent. */
export function uncoveredRepeats(job: Job, replay: Replay, v: { repeats: number; repeatAt: Bits; chunks: string[] }): number {
  if (!v.repeats) return 0;
  const end = job.o.limit ?? Infinity;
  let n = 0;
  for (let c = 0; c < v.chunks.length; c++) {
    const st = replay.chunks.get(c);
    const ok = st !== undefined && st.h === v.chunks[c];
    if (ok && st.covered === 'all') continue;
    for (let i = 0; i < job.batchSize; i++) {
      const at = c * job.batchSize + i;
      if (at >= end) return n;
      if (v.repeatAt.has(at) && !(ok && st.covered !== 'all' && st.covered.has(i))) n++;
    }
  }
  return n;
}

/**
 * Refuse a job over --max-cost (exit 2, nothing sent); on a terminal, ask before one above
 * CONFIRM_ABOVE_USD unless --yes or a --max-cost covers it. Without a terminal, go ahead (say so):
 * scripts and cron cap their bill with --max-cost.
 */
export async function checkCost(job: Job, rows: number, dryRun = false, processor = job.processor): Promise<void> {
  const { ctx } = job;
  const e = estimate(job, rows, processor);
  const maxCost = job.o.maxCost;
  if (rows === 0) return;
  if (maxCost !== undefined) {
    if (e.usd === null) throw usageError(`--max-cost: no price is known for processor ${processor}; nothing was sent`, 'Pass --price-per-1k <usd> for it.');
    if (e.usd > maxCost)
      throw new TgError(
        'over_budget',
        `the ${count(rows, 'row')} to send would cost about ${formatUsd(e.usd)}, over --max-cost ${formatUsd(maxCost)}; nothing was sent`,
        { hint: 'Raise --max-cost, send a canary first with --limit <n>, or pick a cheaper --processor.' },
      );
  }
  if (dryRun) return;
  ctx.info(
    `tg: ${count(rows, 'row')} to send; estimated cost ${describeEstimate(job, e)}, at least ${formatDuration(e.minDurationMs)} at --rate ${job.rateText}`,
  );
  if (!(await confirmSpend(job, rows, e.usd)))
    throw new TgError('not_confirmed', 'not confirmed; nothing was sent', { hint: 'Pass --yes to skip the question, or --max-cost to cap the bill.' });
}

/**
 * On a terminal, ask before `runs` runs that cost `usd` above CONFIRM_ABOVE_USD, unless --yes or a
 * --max-cost covers it (without a terminal: go ahead, and say so). False: the user said no.
 */
export async function confirmSpend(job: Job, runs: number, usd: number | null): Promise<boolean> {
  const { ctx } = job;
  if (job.o.yes || job.o.maxCost !== undefined || usd === null || usd <= CONFIRM_ABOVE_USD) return true;
  if (!(ctx.io.stderrIsTTY && ctx.io.stdinIsTTY && job.o.input !== '-')) {
    ctx.info(`tg: over ${formatUsd(CONFIRM_ABOVE_USD)} and no terminal to ask on: going ahead (cap it with --max-cost)`);
    return true;
  }
  return ask(job, `tg: send ${count(runs, 'run')} for about ${formatUsd(usd)}? [y/N] `);
}

async function ask(job: Job, question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: job.ctx.io.stdin, output: job.ctx.io.stderr, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(question, resolve);
      rl.once('close', () => resolve(''));
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
