// `tg watch <group> [-o file] [--timeout s] [--follow]`: one JSON line per run that finished,
// exactly once, resumable with -o. The engine is flows/watch.ts, which `submit --watch` shares.
import type { Context } from '../context';
import type { WatchOptions } from '../options';
import { watch as follow } from '../flows/watch';

export async function watch(o: WatchOptions, ctx: Context): Promise<number> {
  return follow(o, ctx);
}
