// The emulator behaves like the service: rate limit by request or by run, every run status,
// `error` events, 402 on exhausted credit, /events lifetime, refresh_status=false, run-option
// validation with the parallel-beta header, per-element basis and warnings, and the read-only
// /__emulator/stats counters. Driven with the official SDK (parallel-web) where it has the
// endpoint; every answer is validated against the vendored OpenAPI spec. Seeds are fixed and
// printed; time-dependent cases use the emulator's injectable clock, never sleeps.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import Parallel from 'parallel-web';
import { root, emulator, BIN, waitFor } from './helpers.mjs';
import { conforms } from './conformance.mjs';

const eventSchema = (ev) => ({ 'task_run.state': 'TaskRunEvent', task_group_status: 'TaskGroupStatusEvent', error: 'ErrorEvent' })[ev.type];

const SEED = 4242;
console.log(`# emulator behaviours: seed ${SEED}`);
const SDK_VERSION = JSON.parse(readFileSync(path.join(root, 'node_modules', 'parallel-web', 'package.json'), 'utf8')).version;
console.log(`# parallel-web SDK ${SDK_VERSION}`);

const open = [];
after(() => Promise.all(open.map((e) => e.close())));
async function start(opts) {
  const e = await emulator({ seed: SEED, ...opts });
  open.push(e);
  return { e, c: new Parallel({ apiKey: 'k', baseURL: e.url, maxRetries: 0 }) };
}
/** A clock the test moves by hand. */
function clock(t = Date.parse('2025-06-01T00:00:00Z')) {
  const now = () => t;
  now.set = (ms) => (t = ms);
  now.add = (ms) => (t += ms);
  return now;
}
const inputs = (n, extra = {}) => Array.from({ length: n }, (_, i) => ({ input: `q${i}`, processor: 'base', ...extra }));
const H = { 'x-api-key': 'k', 'content-type': 'application/json' };
const stats = async (e) => (await fetch(`${e.url}/__emulator/stats`)).json();
async function refused(promise, status) {
  const err = await promise.then(
    () => null,
    (x) => x,
  );
  assert.ok(err, `expected ${status}`);
  assert.equal(err.status, status, String(err));
  return err;
}

test('rate limit counts add-runs requests by default; runs with rateLimitUnit runs', async () => {
  const { e, c } = await start({ rateLimit: { limit: 2, windowMs: 60_000 } });
  const g = await c.taskGroup.create({});
  await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(500) });
  await c.taskRun.create({ input: 'single', processor: 'base' });
  const err = await refused(c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(1) }), 429);
  conforms('ErrorResponse', err.error);
  assert.ok(Number(err.headers.get('retry-after')) >= 1);
  const s = await stats(e);
  assert.equal(s.rateLimited, 1);
  assert.equal(s.runsByGroup[g.taskgroup_id], 500, 'nothing created by the refused POST');
  assert.deepEqual(s.rateLimit, { limit: 2, windowMs: 60_000, unit: 'requests' });

  const runs = await start({ rateLimit: { limit: 5, windowMs: 60_000 }, rateLimitUnit: 'runs' });
  const g2 = await runs.c.taskGroup.create({});
  await runs.c.taskGroup.addRuns(g2.taskgroup_id, { inputs: inputs(5) });
  await refused(runs.c.taskGroup.addRuns(g2.taskgroup_id, { inputs: inputs(1) }), 429);
  assert.equal((await stats(runs.e)).rateLimit.unit, 'runs');
});

test('every run status: action_required (stays or runs on), cancelling, cancelled; seeded shares', async () => {
  const now = clock();
  const t0 = now();
  const { c } = await start({ now, latencyMs: [1000, 1000], actionRequiredRate: 0.3, cancelRate: 0.3, rateLimit: null });
  const g = await c.taskGroup.create({});
  const { run_ids } = await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(40) });
  // Runs start by 500 ms, stop half-way (600 ms), cancel in 200 ms, end at 1000 ms.
  now.set(t0 + 700);
  const mid = await c.taskGroup.retrieve(g.taskgroup_id);
  conforms('TaskGroupResponse', mid);
  const counts = mid.status.task_run_status_counts;
  assert.ok(counts.action_required > 0 && counts.cancelling > 0 && counts.running > 0, JSON.stringify(counts));
  const byStatus = {};
  for (const id of run_ids) {
    const r = await c.taskGroup.retrieveRun(id, { taskgroup_id: g.taskgroup_id });
    conforms('TaskRun', r);
    byStatus[r.status] = r;
  }
  assert.equal(byStatus.action_required.is_active, false, 'the spec: active means queued, running or cancelling');
  assert.equal(byStatus.cancelling.is_active, true);
  now.set(t0 + 2000);
  const end = await c.taskGroup.retrieve(g.taskgroup_id);
  assert.equal(end.status.is_active, false);
  const endCounts = end.status.task_run_status_counts;
  assert.equal(endCounts.action_required, counts.action_required, 'without actionRequiredMs they stay');
  assert.ok(endCounts.cancelled > 0 && endCounts.completed > 0);
  assert.equal(endCounts.action_required + endCounts.cancelled + endCounts.completed, 40);
  const events = [];
  for await (const ev of await c.taskGroup.events(g.taskgroup_id)) {
    conforms(eventSchema(ev), ev);
    events.push(ev);
  }
  const states = events.filter((x) => x.type === 'task_run.state').map((x) => x.run.status);
  assert.equal(states.length, 40, 'one task_run.state per run on reaching a non-active status');
  assert.deepEqual(new Set(states), new Set(['action_required', 'cancelled', 'completed']));
  const cancelled = [];
  for await (const ev of await c.taskGroup.getRuns(g.taskgroup_id, { status: 'cancelled' })) cancelled.push(/** @type {any} */ (ev).run.status);
  assert.equal(cancelled.length, endCounts.cancelled);

  // With actionRequiredMs the action is taken after that long and the run completes.
  const later = clock();
  const l0 = later();
  const b = await start({ now: later, latencyMs: [1000, 1000], actionRequiredRate: 1, actionRequiredMs: 5000, rateLimit: null });
  const run = await b.c.taskRun.create({ input: 'q', processor: 'base' });
  later.set(l0 + 700);
  assert.equal((await b.c.taskRun.retrieve(run.run_id)).status, 'action_required');
  later.set(l0 + 5700);
  assert.equal((await b.c.taskRun.retrieve(run.run_id)).status, 'running');
  later.set(l0 + 6100);
  const done = await b.c.taskRun.result(run.run_id, { timeout: 1 });
  conforms('TaskRunResult', done);
  assert.equal(done.run.status, 'completed');
});

test('error events: streamErrorAfter ends group streams with an ErrorEvent; resuming loses nothing', async () => {
  const now = clock();
  const { e, c } = await start({ now, latencyMs: [100, 100], streamErrorAfter: 3, rateLimit: null });
  const g = await c.taskGroup.create({});
  await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(5) });
  now.add(1000);
  const seen = [];
  let last = null;
  let errors = 0;
  for (let i = 0; i < 20; i++) {
    let ended = true;
    for await (const ev of await c.taskGroup.events(g.taskgroup_id, { last_event_id: last })) {
      conforms(eventSchema(ev), ev);
      if (ev.type === 'error') {
        errors++;
        ended = false;
        break;
      }
      seen.push(ev.event_id);
      last = ev.event_id;
    }
    if (ended) break;
  }
  assert.ok(errors >= 2, `error events: ${errors}`);
  assert.equal(new Set(seen).size, seen.length, 'no event twice');
  assert.ok(seen.length >= 5 + 2, 'every run completion and status snapshots arrived');
  const runs = [];
  for await (const ev of await c.taskGroup.getRuns(g.taskgroup_id)) runs.push(ev);
  assert.equal(runs.length, 4, 'three runs, then the error event');
  conforms('ErrorEvent', runs[3]);
  const s = await stats(e);
  assert.equal(s.errorEvents, errors + 1);
  assert.equal(s.faultsInjected, s.errorEvents);
});

test('resendEvents and dropEvents: /events repeats recent run events and withholds some runs on every connection', async () => {
  const now = clock();
  const { e, c } = await start({ now, latencyMs: [100, 100], resendEvents: 0.5, dropEvents: 0.25, rateLimit: null });
  const g = await c.taskGroup.create({});
  await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(40) });
  now.add(1000);
  const read = async () => {
    const ids = [];
    for await (const ev of await c.taskGroup.events(g.taskgroup_id)) {
      conforms(eventSchema(ev), ev);
      if (ev.type === 'task_run.state') ids.push(ev.run.run_id);
    }
    return ids;
  };
  const first = await read();
  const again = await read();
  const runs = [];
  for await (const ev of await c.taskGroup.getRuns(g.taskgroup_id)) if (ev.type === 'task_run.state') runs.push(ev.run.run_id);
  assert.equal(runs.length, 40);
  const seen = new Set(first);
  assert.deepEqual(new Set(again), seen, 'the same runs are withheld on every connection');
  const s = await stats(e);
  assert.equal(s.eventsDropped, 40 - seen.size, 'each withheld run counted once');
  assert.ok(s.eventsDropped > 0 && s.eventsDropped < 40, `withheld ${s.eventsDropped}`);
  assert.equal(first.length + again.length - 2 * seen.size, s.eventsResent, 'every extra event is a counted re-send');
  assert.ok(s.eventsResent > 0);
  assert.equal(s.faultsInjected, s.eventsResent + s.eventsDropped);
});

test('402 when the credit limit is exhausted: nothing created; a top-up lets the same POST through', async () => {
  const { e, c } = await start({ creditLimit: 5, rateLimit: null });
  const g = await c.taskGroup.create({});
  await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(3) });
  const err = await refused(c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(3) }), 402);
  conforms('ErrorResponse', err.error);
  assert.equal(err.error.error.message, 'Payment required: insufficient credit in account');
  assert.equal((await c.taskGroup.retrieve(g.taskgroup_id)).status.num_task_runs, 3, 'all runs reserved up front: none created');
  for (let i = 0; i < 2; i++) await c.taskRun.create({ input: 'q', processor: 'base' }); // credit 5 of 5
  await refused(c.taskRun.create({ input: 'q', processor: 'base' }), 402);
  e.setFaults({ creditLimit: 100 });
  await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(3) });
  const s = await stats(e);
  assert.equal(s.paymentRequired, 2);
  assert.equal(s.creditUsed, 3 + 2 + 3);
  assert.equal(s.runsByGroup[g.taskgroup_id], 6);
});

test('/events streams close after streamLifetimeMs while the group is active; a reconnect resumes', async () => {
  // The clock stands still, so nothing changes in the group and only the lifetime ends a stream.
  const { e, c } = await start({ now: clock(), latencyMs: [1000, 1000], streamLifetimeMs: 150, rateLimit: null });
  const g = await c.taskGroup.create({});
  await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(2) });
  const first = [];
  for await (const ev of await c.taskGroup.events(g.taskgroup_id)) first.push(ev);
  assert.equal((await c.taskGroup.retrieve(g.taskgroup_id)).status.is_active, true, 'closed although the group is active');
  assert.equal((await stats(e)).streamsExpired, 1);
  const again = [];
  for await (const ev of await c.taskGroup.events(g.taskgroup_id, { last_event_id: /** @type {any} */ (first.at(-1))?.event_id })) again.push(ev);
  assert.equal(again.length, 0, 'nothing repeated');
  assert.equal((await stats(e)).streamsExpired, 2);
});

test('refresh_status=false on add-runs answers the cached status (the spec puts it there)', async () => {
  const { c, e } = await start({ rateLimit: null });
  const g = await c.taskGroup.create({});
  const a = await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(2) });
  assert.equal(a.status.num_task_runs, 2);
  const b = await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(3), refresh_status: false });
  conforms('TaskGroupRunResponse', b);
  assert.equal(b.status.num_task_runs, 2, 'cached: not refreshed with the runs just added');
  assert.equal((await c.taskGroup.retrieve(g.taskgroup_id)).status.num_task_runs, 5);
  const bad = await fetch(`${e.url}/v1/tasks/groups/${g.taskgroup_id}/runs?refresh_status=maybe`, {
    method: 'POST',
    headers: H,
    body: JSON.stringify({ inputs: inputs(1) }),
  });
  assert.equal(bad.status, 422);
  conforms('HTTPValidationError', await bad.json());
});

test('run options and group metadata validated per the spec (422, vendor shape); betas gate mcp_servers and webhook', async () => {
  const { e, c } = await start({ rateLimit: null });
  await refused(c.taskGroup.create({ metadata: { this_key_is_too_long: 'v' } }), 422);
  await refused(c.taskGroup.create(/** @type {any} */ ({ metadata: { k: { nested: true } } })), 422);
  const g = await c.taskGroup.create({ metadata: { project: 'q3', n: 1, ok: true } });
  const bad = [
    { source_policy: { include_domains: 'wikipedia.org' } },
    { source_policy: { include_domains: ['not a domain'] } },
    { source_policy: { exclude_domains: Array.from({ length: 201 }, (_, i) => `d${i}.com`) } },
    { source_policy: { after_date: '2024-13-01' } },
    { mcp_servers: [{ url: 'https://mcp.example.com' }] },
    { mcp_servers: [{ url: 'https://mcp.example.com', name: 'x' }] }, // no beta header
    { webhook: { url: 'https://hook.example.com' } }, // no beta header
    { webhook: { url: 'not a url' } },
    { enable_events: 'yes' },
    { previous_interaction_id: 42 },
    { memory_scope_key: ['a'] },
    { memory_scope_key: 'team a' }, // the vendor's pattern: ^[a-zA-Z0-9_-]{1,128}$
    { memory_scope_key: '' },
    { memory_scope_key: 'k'.repeat(129) },
    { advanced_settings: { location: 7 } },
  ];
  for (const extra of bad) {
    const r = await fetch(`${e.url}/v1/tasks/groups/${g.taskgroup_id}/runs`, {
      method: 'POST',
      headers: H,
      body: JSON.stringify({ inputs: inputs(1, extra) }),
    });
    assert.equal(r.status, 422, JSON.stringify(extra).slice(0, 80));
    const body = await r.json();
    conforms('ErrorResponse', body);
    conforms('HTTPValidationError', body);
    if (typeof extra.memory_scope_key === 'string')
      assert.deepEqual(body.detail[0], {
        loc: ['body', 'inputs', 0, 'memory_scope_key'],
        msg: "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
        type: 'string_pattern_mismatch',
      });
  }
  const one = await refused(c.taskRun.create({ input: 'q', processor: 'base', webhook: { url: 'https://hook.example.com' } }), 422);
  conforms('ErrorResponse', one.error);
  const good = {
    source_policy: { include_domains: ['wikipedia.org', '.gov'], exclude_domains: ['reddit.com'], after_date: '2024-01-01' },
    mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/mcp', name: 'tools', headers: { authorization: 'x' }, allowed_tools: ['search'] }],
    enable_events: true,
    webhook: { url: 'https://hook.example.com/tg', event_types: ['task_run.status'] },
    previous_interaction_id: 'trun_previous',
    memory_scope_key: 'team-a_' + 'k'.repeat(121), // 128 characters: the longest the pattern allows
    advanced_settings: { location: 'us' },
  };
  const added = await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(2, good), betas: ['mcp-server-2025-07-17', 'webhook-2025-08-12'] });
  const input = await c.taskRun.retrieveInput(added.run_ids[1]);
  conforms('TaskRunInput', input);
  for (const [k, val] of Object.entries(good)) assert.deepEqual(input[k], val, `${k} reaches /input`);
  const single = await c.taskRun.create(
    /** @type {any} */ ({ input: 'q', processor: 'base', ...good, betas: ['mcp-server-2025-07-17', 'webhook-2025-08-12'] }),
  );
  conforms('TaskRun', single);
  assert.ok((await stats(e)).validationErrors >= bad.length + 3);
});

test('outputs: per-element basis (`field.0`) for list fields, with or without the field-basis beta; warnings the service gives', async () => {
  const now = clock();
  const { c } = await start({ now, latencyMs: [100, 100], rateLimit: null });
  const taskSpec = /** @type {any} */ ({
    input_schema: { type: 'json', json_schema: { type: 'object', properties: { company: { type: 'string' } }, required: ['company'] } },
    output_schema: {
      type: 'json',
      json_schema: {
        type: 'object',
        properties: { competitors: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 3 }, citations: { type: 'string' } },
        required: ['competitors', 'citations'],
      },
    },
  });
  const g = await c.taskGroup.create({});
  const plain = await c.taskGroup.addRuns(g.taskgroup_id, { inputs: [{ input: { company: 'Acme' }, processor: 'base' }], default_task_spec: taskSpec });
  const beta = await c.taskGroup.addRuns(g.taskgroup_id, {
    inputs: [{ input: { name: 'no company' }, processor: 'base' }],
    default_task_spec: taskSpec,
    betas: ['field-basis-2025-11-25'],
  });
  now.add(1000);
  const [p, b] = await Promise.all([plain.run_ids[0], beta.run_ids[0]].map((id) => c.taskRun.result(id, { timeout: 1 })));
  for (const r of [p, b]) {
    conforms('TaskRunResult', r);
    conforms('TaskRunJsonOutput', r.output);
    for (const fb of r.output.basis) conforms('FieldBasis', fb);
  }
  // The vendor's dot notation (SDK 1.3.3 TaskRunJsonOutput.basis), by default; the old beta
  // header is still accepted and changes nothing.
  for (const r of [p, b]) {
    const items = /** @type {any} */ (r.output.content).competitors.map((_, i) => `competitors.${i}`);
    assert.ok(items.length >= 2);
    assert.deepEqual(
      r.output.basis.map((x) => x.field),
      ['competitors', ...items, 'citations'],
    );
  }
  assert.deepEqual(
    (p.run.warnings ?? []).map((w) => w.type),
    ['spec_validation_warning'],
    'basis property in the output schema',
  );
  assert.deepEqual(
    (b.run.warnings ?? []).map((w) => w.type),
    ['spec_validation_warning', 'input_validation_warning'],
  );
  for (const w of b.run.warnings ?? []) conforms('Warning', w);
});

test('tg emulator: the new options on the command line; GET /__emulator/stats is read-only', async () => {
  const args = [
    'emulator',
    '--port',
    '0',
    '--seed',
    String(SEED),
    '--rate-limit',
    '3/60s',
    '--rate-limit-unit',
    'runs',
    '--cancel-rate',
    '0.5',
    '--action-required',
    '0.1',
  ];
  const child = spawn(
    process.execPath,
    [
      BIN,
      ...args,
      '--action-required-for',
      '2s',
      '--credit-limit',
      '10',
      '--stream-lifetime',
      '30s',
      '--stream-error-after',
      '5',
      '--resend-events',
      '0.1',
      '--drop-events',
      '0.1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const c = new Parallel({ apiKey: 'k', baseURL: url, maxRetries: 0 });
    const g = await c.taskGroup.create({});
    await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(3) });
    await refused(c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(1) }), 429);
    const s = await (await fetch(`${url}/__emulator/stats`)).json();
    assert.deepEqual(s.rateLimit, { limit: 3, windowMs: 60_000, unit: 'runs' });
    assert.equal(s.creditLimit, 10);
    assert.deepEqual(s.runsByGroup, { [g.taskgroup_id]: 3 });
    assert.equal(s.rateLimited, 1);
    assert.equal(s.runCreateRequests, 2);
    for (const k of [
      'requests',
      'runsCreated',
      'addRunsPosts',
      'errorsInjected',
      'responsesLost',
      'streamsDropped',
      'errorEvents',
      'faultsInjected',
      'eventsResent',
      'eventsDropped',
      'paymentRequired',
    ])
      assert.equal(typeof s[k], 'number', k);
    assert.equal((await fetch(`${url}/__emulator/stats`, { method: 'POST' })).status, 405);
    // its banner says what it was started with
    await waitFor(() => err.includes('counters at'), { what: "the emulator's banner" });
    assert.match(
      err,
      new RegExp(
        'rate limit 3/60s \\(runs\\), latency 1s\\.\\.5s, --credit-limit 10, --stream-lifetime 30s, --action-required 0\\.1, ' +
          `--action-required-for 2s, --cancel-rate 0\\.5, --stream-error-after 5, --resend-events 0\\.1, --drop-events 0\\.1, --seed ${SEED};`,
      ),
    );
  } finally {
    child.kill('SIGTERM');
  }
});

test('--response-delay: every API request is answered no sooner than the delay', async () => {
  const { e, c } = await start({ responseDelayMs: 300, rateLimit: null });
  const t0 = performance.now();
  const g = await c.taskGroup.create({});
  assert.ok(performance.now() - t0 >= 290, 'the create waited');
  const t1 = performance.now();
  await c.taskGroup.addRuns(g.taskgroup_id, { inputs: inputs(2) });
  assert.ok(performance.now() - t1 >= 290, 'the add-runs waited');
  assert.equal((await stats(e)).runsCreated, 2);
});
