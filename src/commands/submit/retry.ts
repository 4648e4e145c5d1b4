// --retry-failed / --retry-cancelled: send again the rows whose latest run failed (or was
// cancelled), once each. The group stays the ledger: a retry carries tg_try (its attempt number,
// 2 for the first retry) and tg_prev (the run it replaces), so a rerun of the same command lists
// the group, sees the row's latest attempt is no longer failed, and sends nothing again.
import { count, flat } from '../../core/util';
import fs from 'node:fs';
import type { ApiClient } from '../../api/client';
import { presenceHash, runIdent } from '../../core/ledger';
import { AppendLog } from '../../io/durable';
import { rowsOf } from './input';
import { checkCost } from './cost';
import { Sender } from './send';
import { itemOf, shaOf } from './validate';
import type { PreparedRow, Job } from './job';

interface Latest {
  attempt: number;
  runId: string;
  /** The latest attempt ended in a status to retry. */
  retry: boolean;
  /** It was an escalation (tg_esc): sent again on its own processor, as one. */
  esc?: { level: string; processor: string };
}

/** A row's identity for retrying: its content (with content identity, the default), else its key and content. */
export function retryIdent(job: Job, kc: string | undefined, key: string, sha: string): string {
  return job.o.dedupe ? sha : String(presenceHash(kc, key, sha));
}

/** Rows (by retryIdent) whose latest attempt ended failed/cancelled, from the group's run list. */
export async function retryCandidates(job: Job, client: ApiClient, group: string): Promise<Map<string, Latest>> {
  const statuses = new Set([...(job.o.retryFailed ? ['failed'] : []), ...(job.o.retryCancelled ? ['cancelled'] : [])]);
  const latest = new Map<string, Latest>();
  for await (const ev of client.streamRuns(group, { signal: job.ctx.signal, giveUpMs: job.ctx.giveUpMs })) {
    if (ev.type !== 'task_run.state') continue;
    const md = ev.run.metadata as Record<string, unknown> | undefined;
    if (runIdent(md) === null || typeof md?.tg_sha !== 'string') continue;
    const kc = typeof md.tg_kc === 'string' && md.tg_kc !== '' ? md.tg_kc : undefined;
    const h = retryIdent(job, kc, String(md.tg_key), md.tg_sha);
    const attempt = Number(md.tg_try ?? 1) || 1;
    const prev = latest.get(h);
    if (prev && prev.attempt > attempt) continue;
    const esc = typeof md.tg_esc === 'string' ? { level: md.tg_esc, processor: ev.run.processor } : undefined;
    latest.set(h, { attempt, runId: ev.run.run_id, retry: statuses.has(ev.run.status), ...(esc ? { esc } : {}) });
  }
  for (const [h, l] of latest) if (!l.retry) latest.delete(h);
  return latest;
}

/**
 * One retry pass: the rows of this input whose latest run ended failed (or cancelled), under
 * --max-attempts, sent again with tg_try and tg_prev. Returns how many were sent.
 */
export async function retryPass(job: Job, client: ApiClient, group: string): Promise<number> {
  const { ctx } = job;
  const candidates = await retryCandidates(job, client, group);
  if (!candidates.size) return 0;
  const max = job.o.maxAttempts ?? 2;
  const items: PreparedRow[] = [];
  let spent = 0;
  for await (const row of flat(rowsOf(job).batches)) {
    const it = itemOf(job, row);
    if (!it) continue;
    const id = retryIdent(job, job.cfg.keyColumn, it.key, shaOf(job, it));
    const l = candidates.get(id);
    if (!l) continue;
    candidates.delete(id); // a row that repeats another's content is retried once, for both
    if (l.attempt >= max) spent++;
    else items.push({ ...it, retry: { attempt: l.attempt + 1, prev: l.runId, ...(l.esc ? { esc: l.esc.level, processor: l.esc.processor } : {}) } });
  }
  if (spent) ctx.warn(`tg: ${count(spent, 'row')} failed ${max} times (--max-attempts ${max}); not sent again`);
  if (!items.length) return 0;
  const byProcessor = new Map<string, number>(); // a failed escalation goes again on its own processor
  for (const it of items) {
    const p = it.retry?.processor ?? job.processor;
    byProcessor.set(p, (byProcessor.get(p) ?? 0) + 1);
  }
  for (const [processor, n] of byProcessor) await checkCost(job, n, false, processor);
  ctx.info(`tg: sending ${count(items.length, 'row')} again whose latest run ${job.o.retryCancelled ? 'failed or was cancelled' : 'failed'}`);
  return sendAgain(job, client, group, items, 'retry');
}

/**
 * Send rows again (retries, escalations) through a Sender on a journal of their own (not the
 * input's, whose chunks they are not), removed afterwards: a rerun learns what was sent from the
 * group itself (tg_try). Returns how many rows were sent.
 */
export async function sendAgain(job: Job, client: ApiClient, group: string, items: PreparedRow[], label: string): Promise<number> {
  const tmp = `${job.statePath}.${label}-${process.pid}.jsonl`;
  const journal = new AppendLog(tmp);
  try {
    const sender = new Sender(job, client, journal, group, null);
    for (let c = 0; c * job.batchSize < items.length; c++) {
      const batch = items.slice(c * job.batchSize, (c + 1) * job.batchSize);
      await sender.send(
        c,
        label,
        batch,
        batch.map((_, i) => i),
      );
    }
    return sender.sentRows;
  } finally {
    journal.close();
    fs.rmSync(tmp, { force: true });
  }
}
