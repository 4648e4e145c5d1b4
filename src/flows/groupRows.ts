// A group's runs in rows (core/rows.ts), from a listing of their metadata (GETs only, no inputs or
// outputs): what `tg status` shows, and what decides the exit status of `tg watch` when runs failed.
import type { Context } from '../context';
import type { ApiClient } from '../api/client';
import { RowTally } from '../core/rows';

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
