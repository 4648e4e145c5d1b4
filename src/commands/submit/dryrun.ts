// --dry-run: the plan it prints (run.ts asks the group, GETs only, when it is known).
import { shownPath } from '../../core/util';
import { formatDuration, type BatchPlan } from '../../core/plan';
import type { Validation } from './validate';
import type { Job } from './job';
import fs from 'node:fs';
import { planBatches } from '../../core/plan';
import { checkCost, describeEstimate, estimate, withinLimit, type Estimate } from './cost';
import { readJournal, replayJournal } from '../../io/journal';
import { earlierJob, rowsToSend, targetOf, validateAgainst } from './target';
import { distinctText } from './report';
import { LATENCY } from '../../core/pricing';
import { escalationWorstCase } from './escalate';

function runLatency(processor: string): string {
  const base = processor.replace(/-fast$/, '') as keyof typeof LATENCY;
  return Object.prototype.hasOwnProperty.call(LATENCY, base)
    ? `${LATENCY[base]} on ${base}${processor.endsWith('-fast') ? ' (-fast: 2-5x less)' : ''}`
    : 'as long as the processor needs';
}

function specName(job: Job): string | null {
  // --intent (issue L7): the suggested fields, by name
  if (job.o.intent !== undefined) {
    const out = job.cfg.spec?.spec.output_schema as { json_schema?: { properties?: object } } | undefined;
    return `--intent (suggested fields: ${Object.keys(out?.json_schema?.properties ?? {}).join(', ')})`;
  }
  if (job.o.field?.length) return `--field ${job.o.field.map((f) => f.split(':')[0].trim()).join(', ')}`;
  return job.o.spec ?? null;
}

/** "50", "10 (--limit 10); 50 not sent now", "0; 60 in the group already", "160; 40 repeat another row". */
function toSendText(job: Job, v: Validation, rows: number): string {
  const within = withinLimit(job, v.valid);
  const repeats = v.repeatAt.countBelow(within);
  const parts = [`${rows}${job.o.limit !== undefined ? ` (--limit ${job.o.limit})` : ''}`];
  if (within - repeats > rows) parts.push(`${within - repeats - rows} in the group already`);
  if (repeats) parts.push(`${repeats} repeat another row`);
  if (v.valid > within) parts.push(`${v.valid - within} not sent now`);
  return parts.join('; ');
}

export function printDryRun(job: Job, v: Validation, plan: BatchPlan, est: Estimate, group: string | null) {
  const { ctx, o } = job;
  const within = withinLimit(job, v.valid);
  const esc = o.escalate !== undefined ? escalationWorstCase(job, within - v.repeatAt.countBelow(within)) : null; // every row of the job
  const out = {
    dry_run: true,
    input: job.shown,
    format: job.format.name,
    rows: v.rows,
    valid: v.valid,
    invalid: v.invalid,
    distinct: v.valid - v.repeats,
    repeats: v.repeats,
    batches: plan.batches,
    batch_size: job.batchSize,
    rate: job.rateText,
    min_duration_s: Math.round(est.minDurationMs / 1000),
    processor: job.processor,
    to_send: est.rows,
    limit: o.limit ?? null,
    price_per_1k_usd: est.per1k,
    estimated_cost_usd: est.usd,
    price_source: est.source,
    escalate: esc?.json ?? null,
    spec: specName(job),
    group,
    state: job.statePath,
  };
  if (ctx.global.json) {
    ctx.io.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  const lines = [
    `dry run: nothing sent`,
    `input        ${job.shown} (${job.format.name})`,
    `rows         ${v.rows} (${v.valid} valid, ${v.invalid} invalid)${v.repeats ? `; ${distinctText(v).replace(/^[^,]*, /, '')}` : ''}`,
    `batches      ${plan.batches} × ≤${job.batchSize} inputs per POST`,
    `to send      ${toSendText(job, v, est.rows)}`,
    `processor    ${job.processor}${o.intent !== undefined && !o.processorGiven ? ' (suggested for --intent)' : ''}`,
    `cost         ${describeEstimate(job, est)}`,
    ...(esc ? [`escalate     ${esc.text}`] : []),
    `spec         ${specName(job) ?? '(none: auto output)'}`,
    `rate         ${out.rate}`,
    `min duration ${formatDuration(est.minDurationMs)} to send at the rate limit; then each run takes ${runLatency(job.processor)}`,
    `group        ${group ? `${group} (rows it holds already are not sent again)` : '(a new group)'}`,
    `state        ${shownPath(job.statePath, ctx.io.cwd, ctx.io.env.HOME)}`,
  ];
  if (v.dropped.length) lines.push(`not sent     ${job.cfg.textCells ? 'columns' : 'fields'} outside input_schema: ${v.dropped.join(', ')}`);
  for (const n of v.notes) lines.push(`read         ${n}`);
  ctx.io.stdout.write(lines.join('\n') + '\n');
  for (const e of v.errors) ctx.warn(`tg: invalid: ${e}`);
}

/**
 * --dry-run: the plan, nothing sent and no state written. When the group is known (the journal's,
 * or --group) and an API key is at hand, it is asked as the real run would (GETs only): rows it
 * holds are not counted, and a conflict is the real run's exit 2.
 */
export async function dryRun(job: Job): Promise<void> {
  const { ctx, o } = job;
  // As the real run reads it (an unreadable journal is the same exit 2), without repairing it;
  // --restart starts from no journal.
  let replay = replayJournal([]);
  if (!o.restart && fs.existsSync(job.statePath)) {
    const { recs, damaged } = readJournal(job.statePath);
    replay = replayJournal(recs, damaged);
  }
  let target = targetOf(job, replay);
  const keyed = Boolean(ctx.global.apiKey ?? ctx.io.env.PARALLEL_API_KEY) || Boolean(ctx.global.emulator);
  const ask = async (g: string | undefined) => {
    if (g && !keyed) ctx.warn(`tg: no API key: ${g} was not asked which rows it holds; rows the journal does not record count as to send`);
    return validateAgainst(job, g && keyed ? await ctx.client() : null, replay, g);
  };
  let { v, ledger } = await ask(target);
  if (!target && (target = earlierJob(job, v))) ({ v, ledger } = await ask(target)); // as the real run would continue it
  const est = estimate(job, rowsToSend(job, v, ledger, replay));
  printDryRun(job, v, planBatches(v.valid, job.batchSize, job.rate), est, target ?? null);
  await checkCost(job, est.rows, true);
}
