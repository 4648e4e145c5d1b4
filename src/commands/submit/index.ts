// `tg submit`: validate every row, then add the rows the group lacks as runs, exactly once, at the
// rate limit. The group is the ledger (see ARCHITECTURE.md): the journal is a cache that spares
// the common resume a listing of the group's runs.
import path from 'node:path';
import { FileSink, replaceEmulatorResults } from '../../io/output';
import type { Context } from '../../context';
import { EXIT } from '../../errors';
import { runSubmit } from './run';
import type { Job, SubmitOptions } from './job';
import type { ApiClient } from '../../api/client';
import { checkEnrichedTarget, finishEnriched, watchFormat, type EnrichedReport } from './enrich';
import { retryPass } from './retry';
import { escalatePass, type EscalationReport } from './escalate';

export type { SubmitOptions } from './job';
export { runSubmit, type SubmitSummary, type SubmitHooks } from './run';
export { replayJournal } from '../../io/journal';

export async function submit(o: SubmitOptions, ctx: Context): Promise<number> {
  ctx.sending = 'not-yet'; // from the first check of -o on: a file failure is "nothing was sent" (exit 2)
  if (o.watch && !o.dryRun && watchFormat(o) !== 'jsonl') return submitEnriched(o, ctx);
  if (o.watch && !o.dryRun) return submitAndWatch(o, ctx);
  const retrying = (o.retryFailed || o.retryCancelled) && !o.dryRun;
  const esc: EscalationReport = {};
  const afterSend = async (job: Job, client: ApiClient, group: string) => {
    if (retrying) await retryOnce(job, client, group);
    if (o.escalate !== undefined) Object.assign(esc, await escalatePass(job, client, group)); // the rows answered so far
    return EXIT.OK;
  };
  const summary = await runSubmit(o, ctx, (retrying || o.escalate !== undefined) && !o.dryRun ? { afterSend } : {});
  if (!summary) return EXIT.OK; // dry run printed its plan
  if (ctx.global.json) {
    ctx.io.stdout.write(
      JSON.stringify({
        taskgroup_id: summary.taskgroup_id,
        submitted: summary.submitted,
        skipped: summary.skipped,
        rejected: summary.rejected,
        repeats: summary.repeats,
        processor: summary.processor,
        estimated_cost_usd: summary.estimated_cost_usd,
        ...esc,
      }) + '\n',
    );
  } else ctx.io.stdout.write(`${summary.taskgroup_id}\n`);
  return EXIT.OK;
}

/** --retry-failed without --watch: one pass over the runs that have failed so far. */
async function retryOnce(job: Job, client: ApiClient, group: string): Promise<number> {
  const n = await retryPass(job, client, group);
  if (!n) job.ctx.info(`tg: no row to send again: none of ${group}'s latest runs ${job.o.retryCancelled ? 'failed or was cancelled' : 'failed'}`);
  return EXIT.OK;
}

/** `submit --watch -o enriched.csv`: send, wait (retry), then the input rows with their results. */
async function submitEnriched(o: SubmitOptions, ctx: Context): Promise<number> {
  const out = checkEnrichedTarget(o, ctx);
  const report: EnrichedReport = {};
  const summary = await runSubmit(o, ctx, { afterSend: (job, client, group) => finishEnriched(job, client, group, out, report) });
  if (summary) {
    const { taskgroup_id, submitted, skipped, rejected, repeats, processor } = summary;
    ctx.summary({ taskgroup_id, submitted, skipped, rejected, repeats, processor, ...report, output: o.output ?? null }, Boolean(out)); // --json
  }
  return summary?.exit ?? EXIT.OK;
}

/** `submit --watch`: results are watched while rows are still being sent; one progress display. */
async function submitAndWatch(o: SubmitOptions, ctx: Context): Promise<number> {
  const { watch } = await import('../../flows/watch');
  const child = new AbortController();
  const onAbort = () => child.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const wctx: Context = { ...ctx, signal: child.signal };
  let expected: number | undefined;
  let sent = 0;
  let rate: { limit: number; windowMs: number } | null = null;
  let watchP: Promise<number> | null = null;
  let settle!: (ok: boolean) => void;
  const submitting = new Promise<boolean>((r) => (settle = r));
  let done: Awaited<ReturnType<typeof runSubmit>> = null;
  try {
    try {
      done = await runSubmit(o, ctx, {
        noProgress: true,
        onTarget: (group) => {
          // -o is checked before anything is sent: a file of another group fails here, not after.
          if (!o.output) return;
          const out = path.resolve(ctx.io.cwd, o.output);
          if (ctx.global.emulator && replaceEmulatorResults(out, group))
            ctx.info(`tg: replacing ${o.output}: it holds results of an earlier --emulator run, whose group is gone`);
          FileSink.check(out, 'watch', group ?? '(a new group)');
        },
        onPlan: (n, r) => {
          expected = n;
          rate = r;
        },
        onSent: (n) => (sent = n),
        onGroup: (id) => {
          ctx.info(`tg: watching ${id}${o.output ? ` into ${o.output}` : ''} while submitting`);
          watchP = watch({ group: id, output: o.output, timeout: o.timeout }, wctx, {
            submitting,
            expected: () => expected,
            extra: () => (expected !== undefined && sent < expected ? ` | sent ${sent}/${expected}` : ''),
            // Results cannot come faster than the rows left to send go out at the budget.
            budget: rate ? { ...rate, units: () => Math.max(0, (expected ?? 0) - sent), shown: null } : undefined,
            summary: () => (done ? { submitted: done.submitted, skipped: done.skipped, rejected: done.rejected } : {}),
          });
          watchP.catch(() => undefined);
        },
      });
      settle(true);
      ctx.display.phase('watching');
    } catch (e) {
      settle(false);
      child.abort(e);
      if (watchP) await (watchP as Promise<number>).catch(() => undefined);
      throw e;
    }
    if (!watchP) return EXIT.OK;
    return await (watchP as Promise<number>);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
