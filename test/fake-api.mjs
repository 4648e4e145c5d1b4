// A tiny scripted Task Group API for the results-side tests: the test sets the group's runs and
// the exact event list (re-sent or missing events), or a fault (a silent server, a long
// retry-after, a run stream that only sends keep-alives). Loopback, port 0.
import http from 'node:http';

/**
 * runs: [{ run_id, status, input, output, key, listOutput? }] (listOutput false: listed without its output);
 * events: run_ids (a 'task_run.state' each, in order).
 * listedRunning: the first so many run listings show every run as running (as a listing made
 * before the runs finished would). `state.results` counts result GETs.
 * @param {{ group?: string, runs?: any[], events?: string[] | null, active?: boolean, fault?: string | null, listedRunning?: number }} [opts]
 */
export async function fakeApi({ group = 'tgrp_fake', runs = [], events = null, active = false, fault = null, listedRunning = 0 } = {}) {
  const state = { runs, events, active, fault, requests: 0, results: 0, listings: 0 };
  const counts = () => {
    const c = {};
    for (const r of state.runs) c[r.status] = (c[r.status] ?? 0) + 1;
    return c;
  };
  const runJson = (r) => ({
    run_id: r.run_id,
    status: r.status,
    is_active: !['completed', 'failed', 'cancelled'].includes(r.status),
    metadata: { tg_key: r.key },
    error: r.status === 'failed' ? { message: 'boom' } : null,
  });
  const sse = (res, items) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const it of items) res.write(`data: ${JSON.stringify(it)}\n\n`);
    res.end();
  };
  const server = http.createServer((req, res) => {
    state.requests++;
    const url = new URL(String(req.url), 'http://x');
    const p = url.pathname;
    if (state.fault === 'silent') return; // accept, never answer
    if (state.fault === 'retry-after') {
      res.writeHead(429, { 'retry-after': '86400', 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { message: 'slow down' } }));
    }
    if (p === `/v1/tasks/groups/${group}`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          taskgroup_id: group,
          status: { num_task_runs: state.runs.length, task_run_status_counts: counts(), is_active: state.active, status_message: null, modified_at: null },
        }),
      );
    }
    if (p === `/v1/tasks/groups/${group}/runs`) {
      if (state.fault === 'keepalive') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const t = setInterval(() => res.write(': ping\n\n'), 50);
        res.on('close', () => clearInterval(t));
        return;
      }
      const after = Number((url.searchParams.get('last_event_id') ?? 'r-1').slice(1));
      const withIn = url.searchParams.get('include_input') === 'true';
      const withOut = url.searchParams.get('include_output') === 'true';
      const running = state.listings++ < listedRunning;
      const items = state.runs.map((r, i) => ({
        type: 'task_run.state',
        event_id: `r${i}`,
        input: withIn ? { input: r.input } : null,
        run: running ? { ...runJson(r), status: 'running', is_active: true, error: null } : runJson(r),
        output: withOut && r.status === 'completed' && !running && r.listOutput !== false ? { type: 'json', content: r.output } : null,
      }));
      return sse(res, items.slice(after + 1));
    }
    if (p === `/v1/tasks/groups/${group}/events`) {
      const after = Number((url.searchParams.get('last_event_id') ?? 'e-1').slice(1));
      const ids = state.events ?? state.runs.map((r) => r.run_id);
      const byId = new Map(state.runs.map((r) => [r.run_id, r]));
      const items = ids.map((id, i) => ({
        type: 'task_run.state',
        event_id: `e${i}`,
        input: null,
        run: runJson(byId.get(id)),
        output: null,
      }));
      return sse(res, items.slice(after + 1));
    }
    const m = /^\/v1\/tasks\/runs\/([^/]+)\/result$/.exec(p);
    if (m) {
      state.results++;
      const r = state.runs.find((x) => x.run_id === m[1]);
      if (!r || r.status !== 'completed') {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'not found' } }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ run: runJson(r), output: { type: 'json', content: r.output } }));
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `no route ${p}` } }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const url = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`;
  return {
    url,
    group,
    state,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

/**
 * n runs with keys 1..n; statusOf(i) picks each status (default completed).
 * @param {number} n
 * @param {(i: number) => string} [statusOf]
 * @param {(i: number) => Record<string, unknown>} [inputOf]
 */
export function makeRuns(n, statusOf = () => 'completed', inputOf = (i) => ({ name: `Company ${i + 1}`, size: String(i + 1) })) {
  return Array.from({ length: n }, (_, i) => ({
    run_id: `trun_${i + 1}`,
    status: statusOf(i),
    key: String(i + 1),
    input: inputOf(i),
    output: { answer: `A${i + 1}`, note: '=SUM(A1:A2)' },
  }));
}
