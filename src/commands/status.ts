// `tg status`: counts by status; --wait blocks until the group is inactive.
import type { Context } from '../context';
import { EXIT } from '../errors';
import { countTerminal, failedCount, seconds, sleep } from '../core/util';
import type { TaskGroup } from '../core/wire';
import type { StatusOptions } from '../options';
import { Progress } from '../io/progress';

export function formatCounts(g: TaskGroup): string {
  const c = g.status.task_run_status_counts;
  const order = ['queued', 'running', 'completed', 'failed', 'cancelled', 'cancelling', 'action_required'];
  const lines = [`group     ${g.taskgroup_id}`, `runs      ${g.status.num_task_runs}`, `active    ${g.status.is_active ? 'yes' : 'no'}`];
  for (const k of order) if ((c as Record<string, number>)[k]) lines.push(`${k.padEnd(9)} ${(c as Record<string, number>)[k]}`);
  if (g.status.status_message) lines.push(`message   ${g.status.status_message}`);
  return lines.join('\n') + '\n';
}

/** The counts by status on one line: " | queued 3, running 5, completed 10". */
function countsText(g: TaskGroup): string {
  const c = g.status.task_run_status_counts as Record<string, number>;
  const parts = Object.keys(c)
    .filter((k) => c[k])
    .map((k) => `${k} ${c[k]}`);
  return parts.length ? ` | ${parts.join(', ')}` : '';
}

export function exitCodeFor(g: TaskGroup): number {
  return failedCount(g.status.task_run_status_counts) > 0 ? EXIT.RUNS_FAILED : EXIT.OK;
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
          ctx.io.stdout.write(ctx.global.json ? JSON.stringify(g.status) + '\n' : formatCounts(g));
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
  ctx.io.stdout.write(ctx.global.json ? JSON.stringify(g.status) + '\n' : formatCounts(g));
  return g.status.is_active ? EXIT.OK : exitCodeFor(g);
}
