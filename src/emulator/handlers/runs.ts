// Task Run handlers: create a single run, retrieve it, its input, its result (blocking) and its
// progress event stream.
import { HttpFail, SseWriter, readBody, v, type Reply } from '../http';
import { checkRunInput, parseBetas } from '../validate';
import { runExtras } from './groups';
import { charge, spendCredit, findRun, inputJson, outputJson, runJson, type Call, type EmulatorState } from '../state';
import { ACTION_REQUIRED, COMPLETED, iso, isActiveStatus, type Run } from '../store';

export async function createRun(c: Call): Promise<Reply> {
  const { st } = c;
  const body = await readBody(c.req);
  const betas = parseBetas(c.req.headers['parallel-beta']);
  const r = checkRunInput(body, ['body'], 0, betas);
  if (r === 'bad-processor') throw new HttpFail(403, 'Forbidden: invalid processor in request');
  if (r.length) throw new HttpFail(422, `Unprocessable content: request validation error: ${r[0].loc.join('.')}: ${r[0].msg}`, r);
  charge(st, c.key, 1);
  spendCredit(st, 1);
  const run = st.store.createSingleRun(body, runExtras(null, [body])(0));
  st.stats.runsCreated++;
  return { status: 202, body: runJson(st.store, run) };
}

export function retrieveRun(c: Call): Reply {
  return { status: 200, body: runJson(c.st.store, findRun(c.st, c.params.rid)) };
}

export function retrieveInput(c: Call): Reply {
  return { status: 200, body: inputJson(findRun(c.st, c.params.rid)) };
}

/** The v1beta run paths other than /events exist only under /v1. */
export function v1Only(c: Call): Reply {
  findRun(c.st, c.params.rid);
  throw new HttpFail(404, 'Not Found');
}

export async function runResult(c: Call): Promise<Reply> {
  const { st } = c;
  const run = findRun(st, c.params.rid);
  const tq = c.url.searchParams.get('timeout');
  const t = tq === null || tq === '' ? 600 : Number(tq);
  if (!Number.isFinite(t) || t < 0) throw new HttpFail(422, 'Invalid timeout', [v(['query', 'timeout'], 'Input should be a valid integer', 'int_parsing')]);
  const deadline = Date.now() + t * 1000;
  // A run waiting in action_required is not active, but it has no result yet either.
  for (let s = st.store.runStatus(run); isActiveStatus(s) || s === ACTION_REQUIRED; s = st.store.runStatus(run)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new HttpFail(408, 'Request timed out; run still active');
    await new Promise((r) => setTimeout(r, Math.max(5, Math.min(left, run.nextAt - st.store.now() + 5))));
  }
  if (run.status !== COMPLETED) throw new HttpFail(404, 'Run failed or run id not found');
  return { status: 200, body: `{"run":${runJson(st.store, run)},"output":${outputJson(st.store, run)}}` };
}

function stateEvent(st: EmulatorState, run: Run, withOutput: boolean): string {
  const s = st.store.runStatus(run);
  const out = withOutput && s === COMPLETED ? outputJson(st.store, run) : 'null';
  return `{"type":"task_run.state","event_id":null,"input":null,"run":${runJson(st.store, run)},"output":${out}}`;
}

export async function streamRunEvents(c: Call): Promise<Reply> {
  const { st } = c;
  const run = findRun(st, c.params.rid);
  const w = new SseWriter(c.res, st.opts.dropStreamsAfter ?? 0, () => st.stats.streamsDropped++);
  st.openStreams.add(c.res);
  try {
    void w.event('task_run.state', stateEvent(st, run, false)); // buffered; flushed below
    let pct = 0;
    while (isActiveStatus(st.store.runStatus(run)) && !w.dead) {
      const left = run.nextAt - st.store.now();
      pct = Math.min(99, pct + 25);
      void w.event(
        'task_run.progress_stats',
        JSON.stringify({
          type: 'task_run.progress_stats',
          source_stats: { num_sources_considered: pct, num_sources_read: pct >> 1, sources_read_sample: [] },
          progress_meter: pct,
        }),
      );
      void w.event(
        'task_run.progress_msg.search',
        JSON.stringify({ type: 'task_run.progress_msg.search', message: `Searching (${pct}%)`, timestamp: iso(st.store.now()) }),
      );
      const fl = w.flush();
      if (fl) await fl;
      await new Promise((r) => setTimeout(r, Math.max(10, Math.min(left, 500))));
    }
    void w.event('task_run.state', stateEvent(st, run, true));
    w.end();
  } finally {
    st.openStreams.delete(c.res);
  }
  return null;
}
