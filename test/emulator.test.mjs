// Conformance: the official SDK (parallel-web) drives every /v1 endpoint of the emulator; raw
// HTTP covers /v1beta; every JSON body and SSE payload is validated against the vendor OpenAPI
// schemas. Fault options are exercised too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Parallel from 'parallel-web';
import { root, emulator } from './helpers.mjs';
import { ajv, conforms } from './conformance.mjs';

const eventSchema = (ev) =>
  ({
    'task_run.state': 'TaskRunEvent',
    task_group_status: 'TaskGroupStatusEvent',
    error: 'ErrorEvent',
    'task_run.progress_stats': 'TaskRunProgressStatsEvent',
  })[ev.type] ?? (ev.type.startsWith('task_run.progress_msg') ? 'TaskRunProgressMessageEvent' : null);

const SPEC = JSON.parse(readFileSync(path.join(root, 'fixtures', 'company-spec.json'), 'utf8'));
let emu;
let client;
before(async () => {
  emu = await emulator({ latencyMs: [100, 300], rateLimit: null });
  client = new Parallel({ apiKey: 'k', baseURL: emu.url, maxRetries: 0 });
});
after(() => emu.close());

async function sse(url, key = 'k') {
  const res = await fetch(url, { headers: { 'x-api-key': key } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const text = await res.text();
  const frames = text.split('\n\n').filter((f) => f.trim() && !f.startsWith(':'));
  return frames.map((f) => {
    const lines = f.split('\n');
    const ev = (lines.find((l) => l.startsWith('event: ')) ?? '').slice(7);
    const data = (lines.find((l) => l.startsWith('data: ')) ?? '').slice(6);
    assert.ok(data.length > 0, 'never empty data');
    assert.ok(!lines.some((l) => l.startsWith('id:')), 'no id: lines');
    const obj = JSON.parse(data);
    assert.equal(obj.type, ev, 'event: line matches the JSON type');
    return obj;
  });
}

test('SDK /v1: create, retrieve, addRuns, getRuns, events, retrieveRun; all conform to the spec', async () => {
  const g = await client.taskGroup.create({ metadata: { project: 'conformance' } });
  conforms('TaskGroupResponse', g);
  assert.deepEqual(g.status.task_run_status_counts, {});
  const inputs = [0, 1, 2].map((i) => ({
    input: { company_name: `Co ${i}`, company_website: `https://c${i}.example` },
    processor: 'base',
    metadata: { tg_key: String(i + 1) },
  }));
  const added = await client.taskGroup.addRuns(g.taskgroup_id, { inputs, default_task_spec: SPEC, refresh_status: false });
  conforms('TaskGroupRunResponse', added);
  assert.equal(added.run_ids.length, 3);
  assert.equal(added.run_cursor, null);
  assert.equal(added.event_cursor, null);
  const more = await client.taskGroup.addRuns(g.taskgroup_id, { inputs: [{ input: 'plain text question', processor: 'lite' }] });
  assert.ok(more.run_cursor, 'second batch has a cursor');
  const got = await client.taskGroup.retrieve(g.taskgroup_id);
  conforms('TaskGroupResponse', got);
  assert.equal(got.status.num_task_runs, 4);
  const run = await client.taskGroup.retrieveRun(added.run_ids[1], { taskgroup_id: g.taskgroup_id });
  conforms('TaskRun', run);
  assert.equal(run.taskgroup_id, g.taskgroup_id);

  const events = [];
  for await (const ev of await client.taskGroup.events(g.taskgroup_id)) {
    conforms(eventSchema(ev), ev);
    events.push(ev);
  }
  const terminal = events.filter((e) => e.type === 'task_run.state');
  assert.equal(terminal.length, 4, 'one task_run.state per run');
  assert.equal(events.at(-1).type, 'task_group_status');
  assert.equal(events.at(-1).status.is_active, false);
  // Resume strictly after an event id.
  const tail = [];
  for await (const ev of await client.taskGroup.events(g.taskgroup_id, { last_event_id: events[1].event_id })) tail.push(ev);
  assert.deepEqual(
    tail.map((e) => e.event_id),
    events.slice(2).map((e) => e.event_id),
  );

  const runs = [];
  for await (const ev of await client.taskGroup.getRuns(g.taskgroup_id, { include_input: true, include_output: true })) {
    conforms('TaskRunEvent', ev);
    runs.push(ev);
  }
  assert.deepEqual(
    runs.map((r) => r.run.run_id),
    [...added.run_ids, ...more.run_ids],
    'creation order',
  );
  const out = runs[0].output;
  conforms('TaskRunJsonOutput', out);
  const validate = ajv.compile(SPEC.output_schema.json_schema);
  for (const r of runs.slice(0, 3)) assert.ok(validate(r.output.content), 'output validates against the output schema');
  assert.equal(runs[3].output.type, 'json', 'auto spec → json with output_schema');
  assert.ok(runs[3].output.output_schema);
  // run_cursor of the second batch yields exactly its runs.
  const after2 = [];
  for await (const ev of await client.taskGroup.getRuns(g.taskgroup_id, { last_event_id: more.run_cursor })) after2.push(ev.run.run_id);
  assert.deepEqual(after2, more.run_ids);
  const completed = [];
  for await (const ev of await client.taskGroup.getRuns(g.taskgroup_id, { status: 'completed' })) completed.push(ev);
  assert.equal(completed.length, 4);
});

test('SDK /v1 task runs: create (202), retrieve, result, input, events', async () => {
  const textSpec = { output_schema: { type: 'text', description: 'A short answer' } };
  const run = await client.taskRun.create({ input: 'What is 2+2?', processor: 'base', task_spec: textSpec, metadata: { a: 'b' } });
  conforms('TaskRun', run);
  assert.equal(run.status, 'queued');
  assert.equal(run.taskgroup_id, null);
  conforms('TaskRun', await client.taskRun.retrieve(run.run_id));
  const input = await client.taskRun.retrieveInput(run.run_id);
  conforms('TaskRunInput', input);
  assert.equal(input.input, 'What is 2+2?');
  const result = await client.taskRun.result(run.run_id, { timeout: 10 });
  conforms('TaskRunResult', result);
  assert.equal(result.output.type, 'text');
  conforms('TaskRunTextOutput', result.output);
  const evs = await sse(`${emu.url}/v1/tasks/runs/${run.run_id}/events`);
  for (const ev of evs) conforms(eventSchema(ev), ev);
  assert.equal(evs.at(-1).type, 'task_run.state');
  assert.ok(evs.at(-1).output);
});

test('/v1beta group paths behave identically (raw HTTP)', async () => {
  const h = { 'x-api-key': 'k', 'content-type': 'application/json' };
  const g = await (await fetch(`${emu.url}/v1beta/tasks/groups`, { method: 'POST', headers: h, body: '{}' })).json();
  conforms('TaskGroupResponse', g);
  const res = await fetch(`${emu.url}/v1beta/tasks/groups/${g.taskgroup_id}/runs?refresh_status=false`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({ inputs: [{ input: 'q', processor: 'base' }] }),
  });
  assert.equal(res.status, 200);
  const added = await res.json();
  conforms('TaskGroupRunResponse', added);
  const r1 = await fetch(`${emu.url}/v1beta/tasks/groups/${g.taskgroup_id}/runs/${added.run_ids[0]}`, { headers: h });
  conforms('TaskRun', await r1.json());
  for (const ev of await sse(`${emu.url}/v1beta/tasks/groups/${g.taskgroup_id}/events`)) conforms(eventSchema(ev), ev);
  const runs = await sse(`${emu.url}/v1beta/tasks/groups/${g.taskgroup_id}/runs?include_output=true`);
  assert.equal(runs.length, 1);
  conforms('TaskRunEvent', runs[0]);
  for (const ev of await sse(`${emu.url}/v1beta/tasks/runs/${added.run_ids[0]}/events`)) conforms(eventSchema(ev), ev);
  const gv = await (await fetch(`${emu.url}/v1beta/tasks/groups/${g.taskgroup_id}`, { headers: h })).json();
  conforms('TaskGroupResponse', gv);
});

test('errors: 401, 404, 422 shapes, seed-002 body rejected, 403 processor, 408 result', async () => {
  const h = { 'x-api-key': 'k', 'content-type': 'application/json' };
  const noKey = await fetch(`${emu.url}/v1/tasks/groups`, { method: 'POST', body: '{}' });
  assert.equal(noKey.status, 401);
  conforms('ErrorResponse', await noKey.json());
  const nf = await fetch(`${emu.url}/v1/tasks/groups/tgrp_nope/events`, { headers: h });
  assert.equal(nf.status, 404);
  const nfBody = await nf.json();
  conforms('ErrorResponse', nfBody);
  assert.equal(nfBody.error.message, 'TaskGroup not found');
  const g = await client.taskGroup.create({});
  const post = (body) => fetch(`${emu.url}/v1/tasks/groups/${g.taskgroup_id}/runs`, { method: 'POST', headers: h, body: JSON.stringify(body) });
  const cases = [
    { runs: [{ input: 'Company A' }], task_spec: { output_schema: 'x' } }, // seed 002 shape
    { inputs: [] },
    { inputs: Array.from({ length: 1001 }, () => ({ input: 'q', processor: 'base' })) },
    { inputs: [{ input: 'q' }] },
    { inputs: [{ processor: 'base' }] },
    { inputs: [{ input: 'q', processor: 'base', metadata: { this_key_is_too_long: 'v' } }] },
    { inputs: [{ input: 'q', processor: 'base', metadata: { k: 'v'.repeat(513) } }] },
    { inputs: [{ input: 'q'.repeat(25001), processor: 'base' }] },
  ];
  for (const c of cases) {
    const r = await post(c);
    assert.equal(r.status, 422, JSON.stringify(c).slice(0, 80));
    const body = await r.json();
    conforms('ErrorResponse', body);
    conforms('HTTPValidationError', body);
  }
  const proc = await post({ inputs: [{ input: 'q', processor: 'turbo' }] });
  assert.equal(proc.status, 403);
  assert.equal((await proc.json()).error.message, 'Forbidden: invalid processor in request');
  assert.equal((await client.taskGroup.retrieve(g.taskgroup_id)).status.num_task_runs, 0, 'nothing created by refused requests');
  const slow = await startSlowRun();
  const r408 = await fetch(`${slow.url}/v1/tasks/runs/${slow.runId}/result?timeout=0.1`, { headers: h });
  assert.equal(r408.status, 408);
  conforms('ErrorResponse', await r408.json());
  await slow.close();
});

async function startSlowRun() {
  const e = await emulator({ latencyMs: [5000, 5000] });
  const r = await fetch(`${e.url}/v1/tasks/runs`, {
    method: 'POST',
    headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
    body: JSON.stringify({ input: 'q', processor: 'base' }),
  });
  assert.equal(r.status, 202);
  return { url: e.url, runId: (await r.json()).run_id, close: () => e.close() };
}

test('failed runs carry an error; result of a failed run is 404', async () => {
  const e = await emulator({ failRate: 1 });
  try {
    const c = new Parallel({ apiKey: 'k', baseURL: e.url, maxRetries: 0 });
    const g = await c.taskGroup.create({});
    const a = await c.taskGroup.addRuns(g.taskgroup_id, { inputs: [{ input: 'q', processor: 'base' }] });
    for await (const ev of await c.taskGroup.events(g.taskgroup_id)) conforms(eventSchema(ev), ev);
    const run = await c.taskRun.retrieve(a.run_ids[0]);
    assert.equal(run.status, 'failed');
    conforms('Error', run.error);
    const r = await fetch(`${e.url}/v1/tasks/runs/${a.run_ids[0]}/result`, { headers: { 'x-api-key': 'k' } });
    assert.equal(r.status, 404);
  } finally {
    await e.close();
  }
});

test('rate limit (rateLimitUnit runs): counted in runs, whole request refused with retry-after', async () => {
  const e = await emulator({ rateLimit: { limit: 5, windowMs: 60_000 }, rateLimitUnit: 'runs' });
  try {
    const h = { 'x-api-key': 'k', 'content-type': 'application/json' };
    const g = await (await fetch(`${e.url}/v1/tasks/groups`, { method: 'POST', headers: h, body: '{}' })).json();
    const post = (n) =>
      fetch(`${e.url}/v1/tasks/groups/${g.taskgroup_id}/runs`, {
        method: 'POST',
        headers: h,
        body: JSON.stringify({ inputs: Array.from({ length: n }, () => ({ input: 'q', processor: 'base' })) }),
      });
    assert.equal((await post(3)).status, 200);
    const r = await post(3);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    conforms('ErrorResponse', await r.json());
    assert.equal(e.store.groups.get(g.taskgroup_id).runs.length, 3, 'nothing created by a refused request');
    assert.equal((await post(2)).status, 200);
    const other = await fetch(`${e.url}/v1/tasks/groups/${g.taskgroup_id}/runs`, {
      method: 'POST',
      headers: { ...h, 'x-api-key': 'other' },
      body: JSON.stringify({ inputs: [{ input: 'q', processor: 'base' }] }),
    });
    assert.equal(other.status, 200, 'per key');
  } finally {
    await e.close();
  }
});

test('faults: --error-rate, --lose-responses, --drop-streams-after, required --api-key', async () => {
  const e = await emulator({ errorRate: 0.5, seed: 3 });
  try {
    const codes = [];
    for (let i = 0; i < 40; i++) codes.push((await fetch(`${e.url}/v1/tasks/groups`, { method: 'POST', headers: { 'x-api-key': 'k' }, body: '{}' })).status);
    assert.ok(codes.some((c) => c === 500 || c === 503) && codes.some((c) => c === 200));
  } finally {
    await e.close();
  }
  const lose = await emulator({ loseResponses: 1 });
  try {
    const h = { 'x-api-key': 'k', 'content-type': 'application/json' };
    const g = await (await fetch(`${lose.url}/v1/tasks/groups`, { method: 'POST', headers: h, body: '{}' })).json();
    await assert.rejects(
      fetch(`${lose.url}/v1/tasks/groups/${g.taskgroup_id}/runs`, {
        method: 'POST',
        headers: h,
        body: JSON.stringify({ inputs: [{ input: 'q', processor: 'base' }] }),
      }),
    );
    assert.equal(lose.store.groups.get(g.taskgroup_id).runs.length, 1, 'carried out although the response was lost');
  } finally {
    await lose.close();
  }
  const drop = await emulator({ dropStreamsAfter: 2, rateLimit: null });
  try {
    const h = { 'x-api-key': 'k', 'content-type': 'application/json' };
    const g = await (await fetch(`${drop.url}/v1/tasks/groups`, { method: 'POST', headers: h, body: '{}' })).json();
    await fetch(`${drop.url}/v1/tasks/groups/${g.taskgroup_id}/runs`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ inputs: Array.from({ length: 5 }, () => ({ input: 'q', processor: 'base' })) }),
    });
    const res = await fetch(`${drop.url}/v1/tasks/groups/${g.taskgroup_id}/runs`, { headers: h });
    await assert.rejects(res.text(), 'the stream is cut');
  } finally {
    await drop.close();
  }
  const keyed = await emulator({ apiKey: 'secret' });
  try {
    assert.equal((await fetch(`${keyed.url}/v1/tasks/groups`, { method: 'POST', headers: { 'x-api-key': 'wrong' }, body: '{}' })).status, 401);
    assert.equal((await fetch(`${keyed.url}/v1/tasks/groups`, { method: 'POST', headers: { 'x-api-key': 'secret' }, body: '{}' })).status, 200);
  } finally {
    await keyed.close();
  }
});

test('the tg client reads SSE through breaks: resumable stream loses and repeats nothing', async () => {
  const e = await emulator({ dropStreamsAfter: 7, rateLimit: null, latencyMs: [10, 20] });
  const { tg } = await import('./helpers.mjs');
  const c = new tg.ApiClient({ baseUrl: e.url, apiKey: 'k' });
  try {
    const g = await c.createGroup();
    await c.addRuns(
      g.taskgroup_id,
      Array.from({ length: 50 }, (_, i) => ({ input: `q${i}`, processor: 'base' })),
    );
    const seen = [];
    for await (const ev of c.streamRuns(g.taskgroup_id, {})) seen.push(ev.event_id);
    assert.equal(seen.length, 50);
    assert.equal(new Set(seen).size, 50);
  } finally {
    c.destroy();
    await e.close();
  }
});

test('the tg client reads a body sent in pieces (a character split, a BOM) and an abort ends a request at once', async () => {
  const { createServer } = await import('node:http');
  const body = Buffer.from('\ufeff{"name":"Café ☕"}');
  const server = createServer((req, res) => {
    if (req.url === '/slow') return; // never answers
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(body.subarray(0, 16)); // inside the é
    setTimeout(() => res.end(body.subarray(16)), 20);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const { tg } = await import('./helpers.mjs');
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  const c = new tg.ApiClient({ baseUrl: `http://127.0.0.1:${addr.port}`, apiKey: 'k', maxRetries: 0 });
  try {
    assert.deepEqual(await c.requestJson('GET', '/split'), { name: 'Café ☕' });
    const ac = new AbortController();
    const why = new Error('stop now');
    const p = c.requestJson('GET', '/slow', { signal: ac.signal });
    setTimeout(() => ac.abort(why), 20);
    await assert.rejects(p, (e) => e === why);
  } finally {
    c.destroy();
    server.closeAllConnections();
    server.close();
  }
});
