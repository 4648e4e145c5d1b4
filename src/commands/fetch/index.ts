// `tg fetch`: a group's runs with inputs and outputs as JSONL or CSV, resumable with -o (runs.ts);
// --join: the original input rows in order with output columns appended (join.ts); --run: one
// run's result (run.ts).
import type { Context } from '../../context';
import { usageError } from '../../errors';
import type { FetchOptions } from '../../options';

export type { FetchOptions };

export async function fetch(o: FetchOptions, ctx: Context): Promise<number> {
  if (o.run) return (await import('./run')).fetchRun(o.run, ctx);
  if (!o.group) throw usageError('tg fetch needs a group id (or --run <run_id>)', 'Example: tg fetch tgrp_123 -o results.jsonl');
  if (o.join) return (await import('./join')).fetchJoin({ ...o, group: o.group, join: o.join }, ctx);
  return (await import('./runs')).fetchRuns({ ...o, group: o.group }, ctx);
}
