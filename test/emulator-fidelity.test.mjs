// The emulator as close to the service as its sources say (issue M item 7): /events replays each
// run's state change as it happened; runs given MCP servers carry mcp_tool_calls; per-element
// basis `field.0` by default, which tg's enriched CSV reads without a stray column. Driven with
// the official SDK (parallel-web) and raw HTTP; every answer is validated against the vendored
// OpenAPI spec. Seeds are fixed and printed; time moves only by the emulator's injectable clock.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import Parallel from 'parallel-web';
import { emulator, groupRuns, runInProcess, tg, tmp, KEY } from './helpers.mjs';
import { conforms } from './conformance.mjs';

const SEED = 7171;
console.log(`# emulator fidelity: seed ${SEED}`);

const open = [];
after(() => Promise.all(open.map((e) => e.close())));
async function start(opts) {
  const e = await emulator({ seed: SEED, rateLimit: null, ...opts });
  open.push(e);
  return { e, c: new Parallel({ apiKey: KEY, baseURL: e.url, maxRetries: 0 }) };
}
/** A clock the test moves by hand. */
function clock(t = Date.parse('2025-06-01T00:00:00Z')) {
  const now = () => t;
  now.set = (ms) => (t = ms);
  return now;
}
const inputs = (n, extra = {}) => Array.from({ length: n }, (_, i) => ({ input: `q${i}`, processor: 'base', ...extra }));
const iso = (ms) => tg.iso(ms);

/** The task_run.state events /events has now (from the start, or after `last`); timeout 0 ends
 * the stream once they are sent, while the group is still active. */
async function runEvents(c, group, last = undefined) {
  const out = [];
  for await (const ev of await c.taskGroup.events(group, { timeout: 0, ...(last ? { last_event_id: last } : {}) })) {
    conforms(ev.type === 'task_group_status' ? 'TaskGroupStatusEvent' : 'TaskRunEvent', ev);
    if (ev.type === 'task_run.state') out.push(ev);
  }
  return out;
}

test('/events replays each run state change as it happened: action_required then completed, with its own modified_at', async () => {
  const now = clock();
  const t0 = now();
  // 1 s runs: started by 200 ms, half-way at 600 ms (action_required, or cancelling until 800 ms),
  // on again after the 1 s hold (1600 ms) to completion at 2000 ms; the others complete at 1000 ms.
  const { c } = await start({ now, latencyMs: [1000, 1000], actionRequiredRate: 0.4, actionRequiredMs: 1000, cancelRate: 0.4 });
  const g = (await c.taskGroup.create({})).taskgroup_id;
  const { run_ids } = await c.taskGroup.addRuns(g, { inputs: inputs(30) });
  now.set(t0 + 700);
  const live = await runEvents(c, g); // a reader while runs wait for action
  assert.ok(live.length > 0 && live.every((ev) => ev.run.status === 'action_required'), 'only the action_required events so far');
  now.set(t0 + 3000);
  const replay = await runEvents(c, g); // a fresh connection: everything from the start
  /** @type {Map<string, any[]>} */
  const byRun = new Map(run_ids.map((id) => [id, []]));
  for (const ev of replay) byRun.get(ev.run.run_id)?.push(ev.run);
  const fates = { ar: 0, cancelled: 0, completed: 0 };
  for (const [id, states] of byRun) {
    const seq = states.map((r) => r.status).join(' ');
    if (seq === 'action_required completed') {
      fates.ar++;
      assert.deepEqual(
        states.map((r) => [r.is_active, r.modified_at]),
        [
          [false, iso(t0 + 600)],
          [false, iso(t0 + 2000)],
        ],
        `${id}: each event as it was then`,
      );
    } else if (seq === 'cancelled') {
      fates.cancelled++;
      assert.equal(states[0].modified_at, iso(t0 + 800));
    } else {
      assert.equal(seq, 'completed', `${id}: ${seq}`);
      fates.completed++;
      assert.equal(states[0].modified_at, iso(t0 + 1000));
    }
  }
  console.log(`# fates: ${JSON.stringify(fates)}`);
  assert.ok(fates.ar > 0 && fates.cancelled > 0 && fates.completed > 0, JSON.stringify(fates));
  // The live reader's first events are the replay's: resuming after them brings only what followed.
  const resumed = await runEvents(c, g, live.at(-1).event_id);
  assert.deepEqual(
    resumed.map((ev) => ev.event_id),
    replay.slice(live.length).map((ev) => ev.event_id),
  );
  assert.ok(
    resumed.every((ev) => ev.run.status !== 'action_required'),
    'nothing before the cursor again',
  );
  // A run that failed shows its error in the replayed event.
  const f = await start({ now, latencyMs: [1000, 1000], failRate: 1 });
  const fg = (await f.c.taskGroup.create({})).taskgroup_id;
  await f.c.taskGroup.addRuns(fg, { inputs: inputs(2) });
  now.set(t0 + 6000);
  for (const ev of await runEvents(f.c, fg)) {
    assert.equal(ev.run.status, 'failed');
    assert.ok(ev.run.error?.message);
  }
});

test('mcp_tool_calls: runs given MCP servers carry seeded McpToolCall lists; runs without have none', async () => {
  const now = clock();
  const servers = [
    { url: 'https://mcp.example.com/mcp', name: 'crm', allowed_tools: ['lookup_account', 'list_contacts'] },
    { url: 'https://tools.example.com/mcp', name: 'web' },
  ];
  const betas = ['mcp-server-2025-07-17'];
  const read = async () => {
    const { c } = await start({ now, latencyMs: [100, 100] });
    const t0 = now();
    const g = (await c.taskGroup.create({})).taskgroup_id;
    await c.taskGroup.addRuns(g, { inputs: inputs(6, { mcp_servers: servers }), betas });
    await c.taskGroup.addRuns(g, { inputs: inputs(2) });
    const single = await c.taskRun.create({ input: 'Acme', processor: 'base', mcp_servers: servers, betas });
    now.set(t0 + 1000);
    const one = await c.taskRun.result(single.run_id, { timeout: 1 });
    /** @type {any[]} */
    const runs = [];
    for await (const ev of await c.taskGroup.getRuns(g, { include_output: true })) runs.push(ev);
    return { one, runs };
  };
  const { one, runs } = await read();
  conforms('TaskRunResult', one);
  const withServers = runs.slice(0, 6);
  for (const out of [one.output, ...withServers.map((ev) => ev.output)]) {
    conforms('TaskRunJsonOutput', out);
    assert.ok(out.mcp_tool_calls.length >= 2, 'a call or more per server');
    for (const call of out.mcp_tool_calls) {
      conforms('McpToolCall', call);
      const server = servers.find((s) => s.name === call.server_name);
      assert.ok(server, call.server_name);
      if (server.allowed_tools) assert.ok(server.allowed_tools.includes(call.tool_name), call.tool_name);
      assert.equal(typeof JSON.parse(call.arguments), 'object');
      assert.ok((call.content === null) !== (call.error === null), 'content or an error');
    }
  }
  assert.equal(
    new Set(withServers.flatMap((ev) => ev.output.mcp_tool_calls.map((x) => x.tool_call_id))).size,
    withServers.flatMap((ev) => ev.output.mcp_tool_calls).length,
  );
  for (const ev of runs.slice(6)) assert.equal(ev.output.mcp_tool_calls, undefined, 'no servers, no tool calls');
  // The same seed and requests: the same calls.
  const again = await read();
  assert.deepEqual(again.one.output.mcp_tool_calls, one.output.mcp_tool_calls);
  assert.deepEqual(
    again.runs.map((ev) => ev.output.mcp_tool_calls),
    runs.map((ev) => ev.output.mcp_tool_calls),
  );
});

test("per-element basis (`competitors.0`): tg reads only the field's own entry; no stray column in the enriched CSV", async () => {
  const { e } = await start({ latencyMs: [20, 60] });
  const d = tmp();
  const rows = ['name', 'Acme', 'Globex', 'Initech'];
  writeFileSync(path.join(d, 'rows.csv'), rows.join('\n') + '\n');
  const fields = ['--field', 'competitors:list: main competitors', '--field', 'ceo_name: full name of the CEO'];
  const r = await runInProcess(['submit', 'rows.csv', ...fields, '--watch', '-o', 'out.csv', '--base-url', e.url], { cwd: d });
  assert.equal(r.code, 0, r.stderr);
  /** @type {any[]} */
  const out = parse(readFileSync(path.join(d, 'out.csv'), 'utf8'), { columns: true });
  assert.deepEqual(Object.keys(out[0]), [
    'name',
    'competitors',
    'competitors_confidence',
    'competitors_citations',
    'ceo_name',
    'ceo_name_confidence',
    'ceo_name_citations',
    'tg_status',
    'tg_error',
    'tg_run_id',
  ]);
  const group = String(/created group (tgrp_\w+)/.exec(r.stderr)?.[1]);
  const runs = await groupRuns(e.url, group, KEY, { output: true });
  for (const row of out) {
    const run = runs.find((x) => x.run.run_id === row.tg_run_id);
    const basis = run.output.basis;
    const fieldsOf = basis.map((b) => b.field);
    assert.ok(fieldsOf.includes('competitors.0'), fieldsOf.join(' '));
    const own = basis.find((b) => b.field === 'competitors');
    assert.equal(row.competitors_citations, own.citations.map((x) => x.url).join(' '), "the list's own entry, not an element's");
    assert.equal(row.competitors_confidence, own.confidence);
    assert.deepEqual(JSON.parse(row.competitors), run.output.content.competitors);
  }
  // The pure function the CSV uses: an element entry listed first does not stand in for the field's.
  const cols = tg.outputColumns(['name'], ['competitors'], true);
  const cells = tg.outputCells(cols, {
    run_id: 'r',
    status: 'completed',
    output: {
      type: 'json',
      content: { competitors: ['A', 'B'] },
      basis: [
        { field: 'competitors.0', reasoning: 'first', confidence: 'low', citations: [{ url: 'https://a.example' }] },
        { field: 'competitors', reasoning: 'list', confidence: 'high', citations: [{ url: 'https://l.example' }] },
      ],
    },
  });
  assert.deepEqual(cells.slice(0, 4), [['A', 'B'], 'high', 'https://l.example', 'list']);
});

const AUTH_BODY = '{"code":16,"message":"Invalid API key (C.1)"}';

test('authFault: 401 with the body the real service sent; tg status and tg submit report a bad key (exit 3, a hint to check it)', async () => {
  const { e } = await start({ authFault: 1 });
  const r = await fetch(`${e.url}/v1/tasks/groups/tgrp_x`, { headers: { 'x-api-key': KEY } });
  assert.equal(r.status, 401);
  assert.equal(await r.text(), AUTH_BODY);
  assert.equal((await fetch(`${e.url}/healthz`)).status, 200, 'health is not an API request');
  const d = tmp();
  writeFileSync(path.join(d, 'rows.csv'), 'name\nAcme\nGlobex\n');
  for (const argv of [
    ['status', 'tgrp_x'],
    ['submit', 'rows.csv'],
    ['watch', 'tgrp_x'],
  ]) {
    const run = await runInProcess([...argv, '--base-url', e.url], { cwd: d });
    assert.equal(run.code, 3, `${argv[0]}: ${run.stderr}`);
    assert.match(run.stderr, /→ 401: Invalid API key \(C\.1\)/, argv[0]);
    assert.match(run.stderr, /hint: .*check PARALLEL_API_KEY \(or --api-key\)/, argv[0]);
    assert.doesNotMatch(run.stderr, new RegExp(KEY), 'the key is never shown');
  }
  const json = await runInProcess(['status', 'tgrp_x', '--json', '--base-url', e.url], { cwd: d });
  const err = JSON.parse(json.stderr.trim().split('\n').at(-1) ?? '').error;
  assert.equal(err.code, 'unauthorized');
  const s = await (await fetch(`${e.url}/__emulator/stats`)).json();
  assert.equal(s.runsCreated, 0, 'nothing created');
  assert.equal(s.authFaults, s.requests - 2, 'every API request refused (not /healthz, not this read)');
  assert.equal(s.faultsInjected, s.authFaults);
  // Switched off while running: the same key works.
  e.setFaults({ authFault: 0 });
  const ok = await runInProcess(['submit', 'rows.csv', '--json', '--base-url', e.url], { cwd: d });
  assert.equal(ok.code, 0, ok.stderr);
  // A share: seeded, counted.
  const half = await start({ authFault: 0.5 });
  let refused = 0;
  for (let i = 0; i < 40; i++) {
    const x = await fetch(`${half.e.url}/v1/tasks/groups`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: '{}' });
    if (x.status === 401) refused++;
    else assert.equal(x.status, 200);
  }
  assert.ok(refused > 5 && refused < 35, `${refused} of 40 refused`);
  assert.equal(half.e.stats.authFaults, refused);
});

/** POST a JSON body to the emulator; the status and the parsed answer. */
async function post(e, p, body, key = KEY) {
  const r = await fetch(`${e.url}${p}`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}
const refusedWith = (res, loc) => {
  assert.equal(res.status, 422, JSON.stringify(res.body));
  conforms('ErrorResponse', res.body);
  conforms('HTTPValidationError', res.body);
  assert.deepEqual(res.body.detail[0].loc, loc);
};

test("POST /v1beta/tasks/suggest: output fields from the intent's words, typed and described; deterministic; 422 without user_intent", async () => {
  const { e } = await start({});
  const intent = 'Find the CEO and founding year of these companies';
  const a = await post(e, '/v1beta/tasks/suggest', { user_intent: intent });
  assert.equal(a.status, 200);
  assert.deepEqual(a.body, {
    input_schema: { type: 'object', properties: { company_name: { type: 'string', description: 'Name of the company' } }, required: ['company_name'] },
    output_schema: {
      type: 'object',
      properties: {
        ceo_name: { type: 'string', description: 'Full name of the current CEO' },
        founding_year: { type: 'integer', description: 'Year it was founded' },
      },
    },
    inputs: [],
    title: 'Company CEO Name and Founding Year',
    warnings: [],
  });
  // The same intent, the same answer, whatever the seed.
  const other = await start({ seed: SEED + 1 });
  assert.deepEqual((await post(other.e, '/v1beta/tasks/suggest', { user_intent: intent })).body, a.body);
  // Types from what is asked; a clause no concept covers is named from its words, with a warning.
  const b = await post(e, '/v1beta/tasks/suggest', {
    user_intent: 'For each startup: total funding, number of patents filed since 2020, whether they are hiring, and a list of board members',
  });
  const props = b.body.output_schema.properties;
  assert.deepEqual(
    Object.entries(props).map(([k, p]) => `${k}:${p.type}`),
    ['total_funding_usd:number', 'patents_filed_count:integer', 'is_hiring:boolean', 'board_members:array'],
  );
  assert.deepEqual(props.board_members.items, { type: 'string' });
  for (const p of Object.values(props)) assert.ok(p.description.length > 5, p.description);
  assert.deepEqual(
    b.body.warnings.map((w) => w.type),
    ['schema_generalization'],
  );
  // The docs' iteration example: the previous input schema kept, its output fields first.
  const previous = {
    input_schema: { type: 'object', properties: { company_name: { type: 'string', description: 'Name of the company' } }, required: ['company_name'] },
    output_schema: { type: 'object', properties: { ceo_name: { type: 'string', description: 'Current CEO of the company' } } },
  };
  const c = await post(e, '/v1beta/tasks/suggest', { user_intent: 'I want to also include the company website and founding year', previous_task: previous });
  assert.deepEqual(c.body.input_schema, previous.input_schema);
  assert.deepEqual(Object.keys(c.body.output_schema.properties), ['ceo_name', 'website_url', 'founding_year']);
  assert.equal(c.body.output_schema.properties.ceo_name.description, 'Current CEO of the company');
  // The vendor CLI's form: the file's columns listed after the intent become the input schema.
  const d = await post(e, '/v1beta/tasks/suggest', {
    user_intent: 'Find CEO and revenue\n\nInput columns available:\n- company: Company name\n- site: Company website',
  });
  assert.deepEqual(d.body.input_schema.required, ['company', 'site']);
  assert.deepEqual(Object.keys(d.body.output_schema.properties), ['ceo_name', 'annual_revenue_usd']);
  // Refused as FastAPI refuses.
  refusedWith(await post(e, '/v1beta/tasks/suggest', {}), ['body', 'user_intent']);
  refusedWith(await post(e, '/v1beta/tasks/suggest', { user_intent: 42 }), ['body', 'user_intent']);
  refusedWith(await post(e, '/v1beta/tasks/suggest', { user_intent: '  ' }), ['body', 'user_intent']);
  refusedWith(await post(e, '/v1beta/tasks/suggest', { user_intent: 'x', previous_task: 'y' }), ['body', 'previous_task']);
  refusedWith(await post(e, '/v1beta/tasks/suggest', ['x']), ['body']);
  assert.equal((await post(e, '/v1beta/tasks/suggest', { user_intent: 'x' }, '')).status, 401);
  assert.equal((await fetch(`${e.url}/v1beta/tasks/suggest`, { headers: { 'x-api-key': KEY } })).status, 405);
  assert.equal((await post(e, '/v1/tasks/suggest', { user_intent: intent })).status, 404, 'v1beta only');
  const s = await (await fetch(`${e.url}/__emulator/stats`)).json();
  assert.equal(s.suggestRequests, 9, 'every request that reached the endpoint (not the 401, 405, 404)');
  assert.equal(s.validationErrors, 5);
});

test("POST /v1beta/tasks/suggest-processor: by the spec's size, within choose_processors_from, never lite; a suggested spec runs", async () => {
  const now = clock();
  const { e, c } = await start({ latencyMs: [50, 50], now });
  const spec = (n) => ({
    output_schema: { type: 'object', properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, { type: 'string' }])) },
  });
  const rec = async (body) => {
    const r = await post(e, '/v1beta/tasks/suggest-processor', body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.recommended_processors;
  };
  assert.deepEqual(await rec({ task_spec: spec(1) }), ['base', 'core']);
  assert.deepEqual(await rec({ task_spec: spec(4) }), ['core', 'core2x']);
  assert.deepEqual(await rec({ task_spec: spec(8) }), ['pro', 'ultra']);
  assert.deepEqual(await rec({ task_spec: spec(30) }), ['ultra2x', 'ultra4x']);
  assert.deepEqual(await rec({ task_spec: { output_schema: 'A two-page market report' } }), ['pro', 'ultra'], 'text output: a report');
  // The TaskSpec form ({type: json, json_schema}) is read like the plain one.
  assert.deepEqual(await rec({ task_spec: { output_schema: { type: 'json', json_schema: spec(4).output_schema } } }), ['core', 'core2x']);
  assert.deepEqual(await rec({ task_spec: spec(4), choose_processors_from: ['base', 'pro-fast', 'ultra-fast'] }), ['pro-fast', 'ultra-fast']);
  assert.deepEqual(await rec({ task_spec: spec(30), choose_processors_from: ['lite', 'base', 'core'] }), ['core'], 'the largest allowed when none is enough');
  refusedWith(await post(e, '/v1beta/tasks/suggest-processor', {}), ['body', 'task_spec']);
  refusedWith(await post(e, '/v1beta/tasks/suggest-processor', { task_spec: spec(1), choose_processors_from: ['fastest'] }), [
    'body',
    'choose_processors_from',
    0,
  ]);
  refusedWith(await post(e, '/v1beta/tasks/suggest-processor', { task_spec: spec(1), choose_processors_from: ['lite', 'lite-fast'] }), [
    'body',
    'choose_processors_from',
  ]);
  assert.equal(e.stats.suggestProcessorRequests, 11);
  // The chain a client makes: suggest, suggest-processor, then runs with the suggested spec.
  const task = (await post(e, '/v1beta/tasks/suggest', { user_intent: 'Find the CEO, headquarters and competitors of each company' })).body;
  const [processor] = await rec({ task_spec: { input_schema: task.input_schema, output_schema: task.output_schema } });
  const g = (await c.taskGroup.create({})).taskgroup_id;
  const { run_ids } = await c.taskGroup.addRuns(g, {
    inputs: [{ input: { company_name: 'Acme' }, processor }],
    default_task_spec: { input_schema: { type: 'json', json_schema: task.input_schema }, output_schema: { type: 'json', json_schema: task.output_schema } },
  });
  now.set(now() + 1000);
  const result = await c.taskRun.result(run_ids[0], { timeout: 1 });
  assert.equal(result.run.processor, processor);
  assert.deepEqual(Object.keys(result.output.content), ['ceo_name', 'headquarters', 'competitors']);
  assert.ok(Array.isArray(/** @type {any} */ (result.output.content).competitors));
});
