// `tg fetch --run <id>`: one run's result, as the line `watch` writes for it.
import type { Context } from '../../context';
import { ClosedPipeError, EXIT } from '../../errors';
import { StdoutSink } from '../../io/output';

export async function fetchRun(runId: string, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const run = await client.getRun(runId, ctx.signal);
  let output = null;
  if (run.status === 'completed') {
    const r = await client.getResult(runId, 30, ctx.signal);
    output = r?.output ?? null;
  }
  const line = { type: 'task_run.state', event_id: null, input: null, run, output };
  const sink = new StdoutSink(ctx.io.stdout, 'run', '');
  sink.line(JSON.stringify(line));
  try {
    await sink.close();
  } catch (e) {
    if (e instanceof ClosedPipeError) return EXIT.CLOSED_PIPE;
    throw e;
  }
  if (run.status === 'failed' || run.status === 'cancelled') return EXIT.RUNS_FAILED;
  if (run.status !== 'completed') ctx.warn(`tg: run ${runId} is ${run.status}; no result yet`);
  return EXIT.OK;
}
