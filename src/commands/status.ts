// `tg status`: a group in rows (the latest attempt of each: a retry that fixed a failure leaves a
// completed row) with its runs beside them, and what it cost so far; --wait blocks until the group
// is inactive. The exit status speaks of rows: 1 only if a row's latest attempt failed.
import type { Context } from '../context';
import { EXIT } from '../errors';
import { countTerminal, seconds, sleep } from '../core/util';
import { RowTally, rowsText } from '../core/rows';
import { formatUsd } from '../core/pricing';
import type { TaskGroup } from '../core/wire';
import type { StatusOptions } from '../options';
import { Progress } from '../io/progress';
import type { ApiClient } from '../api/client';

const ORDER = ['queued', 'running', 'completed', 'failed', 'cancelled', 'cancelling', 'action_required'];

export function formatCounts(g: TaskGroup, t?: RowTally): string {
  const c = g.status.task_run_status_counts as Record<string, number>;
  const lines = [`group     ${g.taskgroup_id}`];
  if (t) lines.push(`rows      ${rowsText(t)}`);
  lines.push(`runs      ${g.status.num_task_runs}`, `active    ${g.status.is_active ? 'yes' : 'no'}`);
  for (const k of ORDER) if (c[k]) lines.push(`${k.padEnd(9)} ${c[k]}`);
  if (t) lines.push(`cost      ${costText(t)}`);
  if (g.status.status_message) lines.push(`message   ${g.status.status_message}`);
  return lines.join('\n') + '\n';
}

/** "$3.00 so far: 300 completed runs (18 failed runs not counted: the vendor does not document billing them)". */
export function costText(t: RowTally): string {
  const usd = t.costUsd;
  const processors = Object.keys(t.processors).join(', ');
  const paid = `${t.completedRuns} completed run${t.completedRuns === 1 ? '' : 's'} on ${processors || 'no processor'}`;
  const apart = ['failed', 'cancelled'].filter((k) => t.runStates[k]).map((k) => `${t.runStates[k]} ${k}`);
  const n = (t.runStates.failed ?? 0) + (t.runStates.cancelled ?? 0);
  const note = n ? ` (${apart.join(' and ')} run${n === 1 ? '' : 's'} not counted: the vendor does not document billing them)` : '';
  return `${usd === null ? 'unknown (a processor without a known price)' : `${formatUsd(usd)} so far`}: ${paid}${note}`;
}

/** The group's runs in rows (a listing of their metadata: GETs only). */
export async function rowsOf(client: ApiClient, group: string, ctx: Context): Promise<RowTally> {
  const t = new RowTally();
  ctx.display.phase(`counting the rows of ${group}`);
  try {
    for await (const batch of client.streamRunBatches(group, { signal: ctx.signal, giveUpMs: ctx.giveUpMs, idleMs: Math.min(ctx.giveUpMs, 60_000) }))
      for (const ev of batch) if (ev.type === 'task_run.state') t.add(ev.run);
  } finally {
    ctx.display.phase('');
  }
  return t;
}

/** The group as --json says it: the API's status object, with the rows, the cost so far and what was sent again. */
function statusJson(g: TaskGroup, t: RowTally) {
  return {
    ...g.status,
    rows: { total: t.rows, ...t.rowStates() },
    cost_usd: t.costUsd,
    processors: t.processors,
    retries: t.retries,
    escalations: t.escalations,
  };
}

/** The counts by status on one line: " | queued 3, running 5, completed 10". */
function countsText(g: TaskGroup): string {
  const c = g.status.task_run_status_counts as Record<string, number>;
  const parts = Object.keys(c)
    .filter((k) => c[k])
    .map((k) => `${k} ${c[k]}`);
  return parts.length ? ` | ${parts.join(', ')}` : '';
}

/** 1 when a row's latest attempt failed or was cancelled (a failure a retry fixed is not one). */
export function exitCodeFor(t: RowTally): number {
  return t.failedRows > 0 ? EXIT.RUNS_FAILED : EXIT.OK;
}

export async function status(opts: StatusOptions, ctx: Context): Promise<number> {
  const timeoutMs = opts.timeout;
  const client = await ctx.client();
  const t0 = ctx.clock.now();
  let g = await client.getGroup(opts.group, ctx.signal);
  if (opts.wait && g.status.is_active) {
    const progress = await Progress.start(ctx, { label: 'status', unit: 'runs finished', total: g.status.num_task_runs, done: countTerminal(g.status) });
    ctx.display.phase(`waiting for ${opts.group}`);
    const show = () => {
      progress.setTotal(g.status.num_task_runs);
      progress.update(countTerminal(g.status), countsText(g));
    };
    show();
    let delay = 1000;
    try {
      while (g.status.is_active) {
        if (timeoutMs !== undefined && ctx.clock.now() - t0 >= timeoutMs) {
          progress.stop(false);
          const t = await rowsOf(client, opts.group, ctx);
          ctx.io.stdout.write(ctx.global.json ? JSON.stringify(statusJson(g, t)) + '\n' : formatCounts(g, t));
          ctx.warn(`tg: group ${opts.group} still active after --timeout ${seconds(opts.timeout)}`);
          return EXIT.PENDING;
        }
        await sleep(Math.min(delay, timeoutMs !== undefined ? Math.max(10, t0 + timeoutMs - ctx.clock.now()) : delay), ctx.signal);
        delay = Math.min(delay * 1.5, 10_000);
        g = await client.getGroup(opts.group, ctx.signal);
        show();
      }
    } finally {
      progress.stop();
      ctx.display.phase('');
    }
  }
  const t = await rowsOf(client, opts.group, ctx);
  ctx.io.stdout.write(ctx.global.json ? JSON.stringify(statusJson(g, t)) + '\n' : formatCounts(g, t));
  return g.status.is_active ? EXIT.OK : exitCodeFor(t);
}
