// Listing a group's runs into a Ledger (GETs do not count against the rate limit).
import type { ApiClient } from '../../api/client';
import { Ledger } from '../../core/ledger';
import type { Job } from './job';

export async function listLedger(job: Job, client: ApiClient, group: string, expected: number): Promise<Ledger> {
  job.ctx.info(`tg: listing the ${expected} runs of ${group} to send only the rows it lacks`);
  const ledger = new Ledger();
  job.ctx.display.phase(`listing the runs of ${group}`);
  for await (const ev of client.streamRuns(group, { signal: job.ctx.signal, giveUpMs: job.ctx.giveUpMs })) {
    if (ev.type !== 'task_run.state') continue;
    ledger.add(ev.run?.metadata as Record<string, unknown> | undefined);
  }
  job.ctx.display.phase('');
  if (ledger.duplicates)
    job.ctx.warn(
      `tg: warning: ${group} holds ${ledger.duplicates} runs whose row was sent more than once (by an older tg or another tool); each row counts once`,
    );
  return ledger;
}
