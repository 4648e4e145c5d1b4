// Issue H: run options from the command line reach the API (checked through the emulator's
// /v1/tasks/runs/{id}/input), are validated before anything is sent, and are part of the row
// digest (a changed option is a conflict, not a silent duplicate). Also 402 mid-submit (exit 3,
// journal intact, the same command resumes after a top-up) and x-should-retry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { emulator, runInProcess, groupRuns, tmp, makeCsv, assertExactlyOnce, KEY } from './helpers.mjs';

/** @param {string} url @param {string} runId */
async function runInput(url, runId) {
  const r = await fetch(`${url}/v1/tasks/runs/${runId}/input`, { headers: { 'x-api-key': KEY } });
  assert.equal(r.status, 200);
  return r.json();
}

test('run options: each flag reaches the API with every run; betas go in parallel-beta', async () => {
  const e = await emulator({ rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, 5);
    const mcp = [{ url: 'https://mcp.example.com/mcp', name: 'tools', allowed_tools: ['search'] }];
    writeFileSync(path.join(d, 'mcp.json'), JSON.stringify(mcp));
    const args = ['submit', f, '--json', '--base-url', e.url, '--include-domains', 'wikipedia.org,.gov', '--exclude-domains', 'reddit.com'];
    args.push('--after-date', '2024-01-01', '--mcp-servers', 'mcp.json', '--enable-events', '--webhook-url', 'https://hook.example.com/tg');
    args.push('--webhook-events', 'task_run.status', '--previous-interaction-id', 'trun_prev', '--memory-scope-key', 'team-a');
    args.push('--beta', 'webhook-2025-08-12');
    const r = await runInProcess(args, { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    const runs = await groupRuns(e.url, JSON.parse(r.stdout).taskgroup_id);
    assertExactlyOnce(runs, 5);
    // The emulator refuses mcp_servers and webhook without their betas (422): they were sent.
    const input = await runInput(e.url, runs[0].run.run_id);
    assert.deepEqual(input.source_policy, { include_domains: ['wikipedia.org', '.gov'], exclude_domains: ['reddit.com'], after_date: '2024-01-01' });
    assert.deepEqual(input.mcp_servers, mcp);
    assert.equal(input.enable_events, true);
    assert.deepEqual(input.webhook, { url: 'https://hook.example.com/tg', event_types: ['task_run.status'] });
    assert.equal(input.previous_interaction_id, 'trun_prev');
    assert.equal(input.memory_scope_key, 'team-a');
    assert.equal(e.stats.validationErrors, 0);
  } finally {
    await e.close();
  }
});

test('run options: --run-options file, flags over it; a changed option is a conflict, not a duplicate', async () => {
  const e = await emulator({ rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, 4);
    const file = path.join(d, 'opts.json');
    writeFileSync(file, JSON.stringify({ source_policy: { include_domains: ['a.com'] }, memory_scope_key: 'file', advanced_settings: { location: 'us' } }));
    const r = await runInProcess(['submit', f, '--json', '--base-url', e.url, '--run-options', file, '--memory-scope-key', 'flag'], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    const group = JSON.parse(r.stdout).taskgroup_id;
    const input = await runInput(e.url, (await groupRuns(e.url, group))[0].run.run_id);
    assert.deepEqual(input.source_policy, { include_domains: ['a.com'] });
    assert.equal(input.memory_scope_key, 'flag', 'the flag beats the file');
    assert.deepEqual(input.advanced_settings, { location: 'us' });
    // The same rows with another option: a conflict (exit 2, nothing sent), with the journal or without.
    const before = e.stats.runsCreated;
    const again = await runInProcess(['submit', f, '--base-url', e.url, '--run-options', file, '--memory-scope-key', 'other'], { cwd: d });
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /4 rows of .* differ from the runs the group holds/);
    const other = await runInProcess(['submit', f, '--group', group, '--state', 'x.jsonl', '--base-url', e.url, '--run-options', file], { cwd: d });
    assert.equal(other.code, 2, other.stderr);
    assert.equal(e.stats.runsCreated, before, 'nothing sent');
    // The same options again: nothing to send.
    const same = await runInProcess(['submit', f, '--json', '--base-url', e.url, '--run-options', file, '--memory-scope-key', 'flag'], { cwd: d });
    assert.equal(JSON.parse(same.stdout).submitted, 0, same.stderr);
  } finally {
    await e.close();
  }
});

test('run options are validated before anything is sent: exit 2 naming the flag and the rule', async () => {
  const d = tmp();
  const f = makeCsv(d, 2);
  writeFileSync(path.join(d, 'bad-mcp.json'), JSON.stringify([{ url: 'ftp://x', name: 'n' }]));
  writeFileSync(path.join(d, 'bad-opts.json'), JSON.stringify({ sorce_policy: {} }));
  writeFileSync(path.join(d, 'bad-scope.json'), JSON.stringify({ memory_scope_key: 'team/a' }));
  /** @type {[string[], RegExp][]} */
  const cases = [
    [['--include-domains', 'not a domain'], /--include-domains: "not a domain" is not a domain/],
    [['--exclude-domains', Array.from({ length: 201 }, (_, i) => `d${i}.com`).join(',')], /at most 200 domains/],
    [['--after-date', '2024-02-30'], /--after-date: "2024-02-30" is not a date in the form YYYY-MM-DD/],
    [['--mcp-servers', 'bad-mcp.json'], /--mcp-servers bad-mcp\.json\[0\]\.url: an http\(s\) URL is required/],
    [['--mcp-servers', 'missing.json'], /--mcp-servers missing\.json: cannot read it \(no such file\)/],
    [['--webhook-url', 'hook.example.com'], /--webhook-url: "hook\.example\.com" is not an http\(s\) URL/],
    [['--webhook-url', 'https://h.example.com', '--webhook-events', 'task_run.done'], /webhook event types must be task_run\.status/],
    [['--webhook-events', 'task_run.status'], /--webhook-events goes with --webhook-url/],
    [['--memory-scope-key', ' '], /--memory-scope-key: " " is not a memory scope key: 1 to 128 letters, digits, "_" or "-" \(the API's pattern/],
    [['--memory-scope-key', 'team a'], /--memory-scope-key: "team a" is not a memory scope key/],
    [['--memory-scope-key', 'k'.repeat(129)], /--memory-scope-key: "k{40}…" \(129 characters\) is not a memory scope key/],
    [['--run-options', 'bad-scope.json'], /--run-options bad-scope\.json: memory_scope_key: "team\/a" is not a memory scope key.*\^\[a-zA-Z0-9_-\]\{1,128\}\$/],
    [['--beta', 'bad beta'], /--beta: "bad beta" is not a beta name/],
    [['--run-options', 'bad-opts.json'], /--run-options bad-opts\.json: unknown field "sorce_policy"/],
    [['--rate-unit', 'posts'], /--rate-unit/],
  ];
  for (const [extra, re] of cases) {
    // No server at this address: exit 2 proves nothing was even attempted.
    const r = await runInProcess(['submit', f, '--base-url', 'http://127.0.0.1:9', ...extra], { cwd: d });
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test('402 mid-submit: exit 3 with a credit message, journal intact; after a top-up the same command resumes', async () => {
  const e = await emulator({ rateLimit: null, creditLimit: 250 });
  try {
    const d = tmp();
    const f = makeCsv(d, 600);
    const args = ['submit', f, '--batch-size', '100', '--concurrency', '1', '--json', '--base-url', e.url];
    const r = await runInProcess(args, { cwd: d });
    assert.equal(r.code, 3, r.stderr);
    // --json: stderr carries JSON objects only; the error is the last.
    const err = JSON.parse(r.stderr.trim().split('\n').at(-1) ?? '').error;
    assert.equal(err.code, 'payment_required');
    assert.match(err.message, /^the account is out of credit: the API refused to add runs \(402\)\. 200 of 600 rows are in the group/);
    assert.match(err.hint, /^Add credit .* rerun the same command: it resumes/);
    assert.equal(e.stats.runsCreated, 200);
    e.setFaults({ creditLimit: 10_000 });
    const again = await runInProcess(args, { cwd: d });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).submitted, 400);
    assert.doesNotMatch(again.stderr, /listing/, 'the journal vouched for the group: no listing');
    assertExactlyOnce(await groupRuns(e.url, JSON.parse(again.stdout).taskgroup_id), 600);
  } finally {
    await e.close();
  }
});

test('x-should-retry: false stops at once (exit 4, no retry); true retries an answer tg would not retry', async () => {
  const e = await emulator({ rateLimit: null });
  /** @type {string[]} */
  let script = [];
  let posts = 0;
  // A proxy that answers the first add-runs POSTs from `script` and passes the rest through.
  const px = http.createServer((req, res) => {
    const isAdd = req.method === 'POST' && /\/runs/.test(String(req.url));
    if (isAdd) posts++;
    const fault = isAdd ? script.shift() : undefined;
    const chunks = /** @type {Buffer[]} */ ([]);
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (fault) {
        res.writeHead(fault === 'no' ? 503 : 400, { 'content-type': 'application/json', 'x-should-retry': fault === 'no' ? 'false' : 'true' });
        return res.end(JSON.stringify({ error: { message: `scripted (${fault})` } }));
      }
      const up = http.request(`${e.url}${req.url}`, { method: req.method, headers: req.headers }, (ur) => {
        res.writeHead(Number(ur.statusCode), ur.headers);
        ur.pipe(res);
      });
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise((r) => px.listen(0, '127.0.0.1', () => r(undefined)));
  const url = `http://127.0.0.1:${/** @type {any} */ (px.address()).port}`;
  try {
    const d = tmp();
    const f = makeCsv(d, 200);
    const args = ['submit', f, '--batch-size', '100', '--concurrency', '1', '--json', '--base-url', url];
    script = ['no'];
    const r = await runInProcess(args, { cwd: d });
    assert.equal(r.code, 4, r.stderr);
    assert.equal(posts, 1, 'not retried');
    script = ['yes', 'yes'];
    const again = await runInProcess(args, { cwd: d });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(posts, 1 + 2 + 2, 'two refusals retried, then two batches');
    assertExactlyOnce(await groupRuns(e.url, JSON.parse(again.stdout).taskgroup_id), 200);
  } finally {
    px.close();
    await e.close();
  }
});

test('cancelled and action_required runs: watch counts them (exit 1 for cancelled, 5 while runs wait), status lists them', async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [20, 60], cancelRate: 0.3, seed: 4 });
  try {
    const d = tmp();
    const f = makeCsv(d, 40);
    const r = await runInProcess(['submit', f, '--watch', '-o', 'out.jsonl', '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 1, r.stderr);
    const group = /^(tgrp_\w+)/m.exec(r.stdout)?.[1] ?? String(/watching (tgrp_\w+)/.exec(r.stderr)?.[1]);
    const runs = await groupRuns(e.url, group);
    const cancelled = runs.filter((x) => x.run.status === 'cancelled').length;
    assert.ok(cancelled > 0, 'the emulator cancelled some runs');
    assert.match(r.stderr, new RegExp(`: 40 results, ${cancelled} cancelled in out\\.jsonl`));
    const st = await runInProcess(['status', group, '--base-url', e.url], { cwd: d });
    assert.equal(st.code, 1);
    assert.match(st.stdout, new RegExp(`^cancelled\\s+${cancelled}$`, 'm'));
  } finally {
    await e.close();
  }
  const a = await emulator({ rateLimit: null, latencyMs: [20, 60], actionRequiredRate: 0.5, seed: 4 });
  try {
    const d = tmp();
    const r = await runInProcess(['submit', makeCsv(d, 10), '--watch', '--base-url', a.url], { cwd: d });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /is inactive but runs have not finished \(\d+ action_required\)/);
    const group = String(/watching (tgrp_\w+)/.exec(r.stderr)?.[1]);
    const st = await runInProcess(['status', group, '--base-url', a.url], { cwd: d });
    assert.match(st.stdout, /^action_required\s+\d+$/m);
  } finally {
    await a.close();
  }
});
