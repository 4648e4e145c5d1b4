// --escalate <processor>: ask again, once, on a stronger processor, the rows of this input whose
// latest answer has a field at low confidence (--escalate-on medium: low or medium). As a retry
// (retry.ts), the group is the ledger: the new run carries tg_try (the latest attempt + 1),
// tg_prev (the run it replaces), tg_esc (the level that escalated it) and the row's own tg_sha (its
// digest with the job's processor), so it stays the same row; a rerun lists the group, sees the
// escalation, and escalates nothing again. --max-cost caps the whole job: the escalations get what
// the job's runs have left of it, rows at low confidence first.
import { count, flat } from '../../core/util';
import type { ApiClient } from '../../api/client';
import { runIdent } from '../../core/ledger';
import { estimateUsd, formatUsd, pricePer1k } from '../../core/pricing';
import { affordable, chooseWithin, RowRunsTable, verdictOf, type Confidence, type EscalateOn } from '../../core/escalate';
import { rowsOf } from './input';
import { confirmSpend, describeEstimate, estimate } from './cost';
import { retryIdent, sendAgain } from './retry';
import { itemOf, shaOf } from './validate';
import type { Job, PreparedRow } from './job';

/** What an escalation pass did, for the --json summaries. */
export interface EscalationReport {
  /** Rows sent again on the --escalate processor by this command. */
  escalated?: number;
  /** What the job's runs cost, escalations included (null: a price unknown). */
  cost_usd?: number | null;
}

const levelOf = (job: Job): EscalateOn => (job.o.escalateOn === 'medium' ? 'medium' : 'low');
const levelText = (on: EscalateOn) => (on === 'low' ? 'low' : 'low or medium');
const usdText = (usd: number | null) => (usd === null ? 'unknown' : formatUsd(usd));

/** The group's rows by retryIdent: each one's latest attempt, answer confidence, escalations and cost so far. */
async function listRows(job: Job, client: ApiClient, group: string): Promise<RowRunsTable> {
  const price = (p: string) => pricePer1k(p, p === job.processor ? job.o.pricePer1k : undefined);
  const table = new RowRunsTable(price);
  for await (const ev of client.streamRuns(group, { includeOutput: true, signal: job.ctx.signal, giveUpMs: job.ctx.giveUpMs })) {
    if (ev.type !== 'task_run.state') continue;
    const md = ev.run.metadata as Record<string, unknown> | undefined;
    if (runIdent(md) === null || typeof md?.tg_sha !== 'string') continue;
    const kc = typeof md.tg_kc === 'string' && md.tg_kc !== '' ? md.tg_kc : undefined;
    table.add(retryIdent(job, kc, String(md.tg_key), md.tg_sha), {
      runId: ev.run.run_id,
      status: ev.run.status,
      processor: ev.run.processor,
      attempt: Number(md.tg_try ?? 1) || 1,
      escalation: md.tg_esc !== undefined,
      output: ev.output,
    });
  }
  return table;
}

interface Candidate {
  item: PreparedRow;
  level: Confidence;
}

/** This input's rows in the group: the candidates (in input order), and how the others stand. */
interface Survey {
  candidates: Candidate[];
  rows: number;
  before: number;
  open: number;
  failed: number;
  /** What the job's runs cost so far (null: a price unknown). */
  usd: number | null;
}

async function survey(job: Job, table: RowRunsTable): Promise<Survey> {
  const on = levelOf(job);
  const s: Survey = { candidates: [], rows: 0, before: 0, open: 0, failed: 0, usd: 0 };
  for await (const row of flat(rowsOf(job).batches)) {
    const it = itemOf(job, row);
    if (!it) continue;
    const r = table.take(retryIdent(job, job.cfg.keyColumn, it.key, shaOf(job, it)));
    if (!r) continue; // not in the group (yet), or a repeat of a row counted already
    s.rows++;
    s.usd = s.usd === null || r.usd === null ? null : s.usd + r.usd;
    const v = verdictOf(r, on);
    if (v === 'escalated-before') s.before++;
    else if (v === 'not-answered') s.open++;
    else if (v === 'failed') s.failed++;
    else if (v === 'escalate') {
      const retry = { attempt: r.attempt + 1, prev: r.runId, esc: r.confidence!, processor: job.o.escalate! };
      s.candidates.push({ item: { ...it, retry }, level: r.confidence! });
    }
  }
  if (s.usd !== null) s.usd = Math.round(s.usd * 1e6) / 1e6;
  return s;
}

/**
 * One escalation pass over the rows answered so far. Returns what it did (escalated: 0 when
 * nothing was to escalate); says on stderr what it escalates, at what price, before and after.
 */
export async function escalatePass(job: Job, client: ApiClient, group: string): Promise<EscalationReport> {
  const { ctx, o } = job;
  const to = o.escalate!;
  if (to === job.processor) {
    ctx.warn(`tg: --escalate ${to}: the job's processor is ${to} already (suggested for --intent); nothing to escalate`);
    return { escalated: 0 };
  }
  const on = levelOf(job);
  const s = await survey(job, await listRows(job, client, group));
  const confident = s.rows - s.candidates.length - s.before - s.open - s.failed;
  const notes = [
    s.before ? `${s.before} escalated before (never twice)` : '',
    s.open ? `${s.open} not answered yet: the same command escalates them later` : '',
    s.failed ? `${s.failed} failed or cancelled` : '',
  ].filter(Boolean);
  const also = notes.length ? ` (${notes.join('; ')})` : '';
  if (!s.candidates.length) {
    const stand = [`${confident} answered with no field at ${levelText(on)} confidence`, ...notes].filter((x) => !x.startsWith('0 ')).join('; ');
    ctx.info(`tg: nothing to escalate among the ${count(s.rows, 'row')}: ${stand}`);
    return { escalated: 0, cost_usd: s.usd };
  }
  const per1k = estimate(job, 0, to).per1k; // the table's: --price-per-1k prices the job's processor
  const { chosen, cut } = chooseWithin(s.candidates, budgetFit(job, s, per1k));
  if (!chosen.length) return { escalated: 0, cost_usd: s.usd };
  const e = estimate(job, chosen.length, to);
  const usd = e.usd;
  const after = s.usd === null || usd === null ? null : Math.round((s.usd + usd) * 1e6) / 1e6;
  const price = describeEstimate(job, e);
  ctx.info(
    `tg: ${s.candidates.length} of ${count(s.rows, 'row')} have an answer with a field at ${levelText(on)} confidence${also}; ` +
      `escalating ${cut ? `${chosen.length} of them` : s.candidates.length === 1 ? 'it' : 'them'} to ${to}: estimated ${price}; the job so far ${usdText(s.usd)}, ${usdText(after)} with them`,
  );
  if (!(await confirmSpend(job, chosen.length, usd))) {
    ctx.warn(`tg: not confirmed: nothing escalated (the same command asks again)`);
    return { escalated: 0, cost_usd: s.usd };
  }
  const sent = await sendAgain(
    job,
    client,
    group,
    chosen.map((c) => c.item),
    'escalate',
  );
  const spent = per1k === null ? null : estimateUsd(sent, per1k);
  const now = s.usd === null || spent === null ? null : Math.round((s.usd + spent) * 1e6) / 1e6;
  ctx.info(`tg: escalated ${sent} of ${count(s.rows, 'row')} to ${to}: ${usdText(spent)}; the job ${usdText(s.usd)} before, ${usdText(now)} after`);
  return { escalated: sent, cost_usd: now };
}

/** How many escalations --max-cost leaves room for (Infinity without it); says what it leaves out. */
function budgetFit(job: Job, s: Survey, per1k: number | null): number {
  const max = job.o.maxCost;
  if (max === undefined) return Infinity;
  const n = s.candidates.length;
  if (s.usd === null || per1k === null) {
    job.ctx.warn(`tg: --max-cost ${formatUsd(max)}: the job's cost so far is unknown (a processor without a price); ${count(n, 'row')} not escalated`);
    return 0;
  }
  const left = Math.max(0, max - s.usd);
  const fit = affordable(left, per1k);
  if (fit < n)
    job.ctx.warn(
      `tg: --max-cost ${formatUsd(max)}: the job so far costs ${formatUsd(s.usd)}, leaving ${formatUsd(left)}: ` +
        `${count(n - fit, 'row')} of the ${n} to escalate are not (${fit ? `${fit} fit, at low confidence first` : 'none fits'}); raise --max-cost to escalate them`,
    );
  return fit;
}

/** The dry run's worst case: every row of the job escalated (capped by what --max-cost leaves after the job's own runs). */
export function escalationWorstCase(job: Job, rows: number) {
  const to = job.o.escalate!;
  const on = levelOf(job);
  const json = { processor: to, on, rows, worst_case_usd: null as number | null, max_usd: null as number | null };
  if (to === job.processor) return { text: `nothing: the job's processor is ${to} already`, json: { ...json, rows: 0, worst_case_usd: 0, max_usd: 0 } };
  const { usd, per1k } = estimate(job, rows, to);
  const base = estimate(job, rows).usd;
  const max = job.o.maxCost;
  const cap = max === undefined || base === null ? null : Math.max(0, Math.round((max - base) * 1e6) / 1e6);
  const capped = cap !== null && usd !== null && cap < usd ? cap : null;
  const text =
    usd === null
      ? `up to ${rows} runs more on ${to} (no price known for it) if every row escalates`
      : `up to ${formatUsd(usd)} more if every row escalates to ${to} (${rows} runs × ${formatUsd(per1k!)}/1,000)` +
        (capped !== null ? `; --max-cost ${formatUsd(max!)} leaves ${formatUsd(capped)} for them` : '');
  return {
    text: `${text}; rows with an answer at ${levelText(on)} confidence are asked again, once`,
    json: { ...json, worst_case_usd: usd, max_usd: capped ?? usd },
  };
}
