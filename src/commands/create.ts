// `tg create`: make a task group.
import type { Context } from '../context';
import type { CreateOptions } from '../options';

export async function create(opts: CreateOptions, ctx: Context): Promise<number> {
  const metadata = opts.metadata ?? {};
  const client = await ctx.client();
  const group = await client.createGroup(Object.keys(metadata).length ? metadata : undefined, ctx.signal);
  ctx.io.stdout.write(ctx.global.json ? JSON.stringify(group) + '\n' : group.taskgroup_id + '\n');
  return 0;
}
