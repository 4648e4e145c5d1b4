// End to end: bin/tg as a child process against the emulator on port 0, in real temp dirs.
// Exactly-once is verified through the API: one run per row, inputs equal to the rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { emulator, runTg, groupRuns, fixture, tmp, makeCsv, assertExactlyOnce, root, inputsInRowOrder } from './helpers.mjs';

test('--help lists every command; --version works', async () => {
  const h = await runTg(['--help']);
  assert.equal(h.code, 0);
  for (const c of ['create', 'submit', 'watch', 'fetch', 'status', 'emulator', 'completion']) assert.match(h.stdout, new RegExp(`\\n  ${c}`));
  const v = await runTg(['--version']);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  const c = await runTg(['completion', 'bash']);
  assert.match(c.stdout, /complete -o filenames -F _tg tg/);
});

test('submit: dry run sends nothing and prints the plan', async () => {
  const e = await emulator();
  try {
    const d = tmp();
    const r = await runTg(['submit', fixture('companies.csv'), '--spec', fixture('company-spec.json'), '--dry-run', '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rows {9}60 \(60 valid, 0 invalid\)/);
    assert.match(r.stdout, /batches {6}1 ×/);
    assert.equal(e.stats.requests, 0);
    assert.equal(existsSync(path.join(d, '.tg')), false);
  } finally {
    await e.close();
  }
});

test('submit: invalid rows → exit 2 naming file:line, column and rule; nothing sent', async () => {
  const e = await emulator();
  try {
    const d = tmp();
    const f = path.join(d, 'bad.csv');
    writeFileSync(f, 'company_name,company_website\nAcme,https://acme.com\nNoSite,\n');
    const r = await runTg(['submit', f, '--spec', fixture('company-spec.json'), '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.csv:3: column "company_website": missing required field \(required\)/);
    assert.equal(e.stats.runsCreated, 0);
    const s = await runTg(['submit', f, '--spec', fixture('company-spec.json'), '--skip-invalid', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual({ ...JSON.parse(s.stdout), taskgroup_id: 'x' }, { taskgroup_id: 'x', submitted: 1, skipped: 0, rejected: 1 });
    const rejects = path.join(d, '.tg', 'journals', readdirSync(path.join(d, '.tg', 'journals')).find((x) => x.endsWith('.rejects.jsonl')));
    assert.equal(JSON.parse(readFileSync(rejects, 'utf8')).line, 3);
    assert.equal(statSync(rejects).mode & 0o777, 0o600);
  } finally {
    await e.close();
  }
});

test('submit: exactly once under lost responses and 5xx; a rerun sends nothing', async () => {
  const e = await emulator({ loseResponses: 0.3, errorRate: 0.1, rateLimit: null, seed: 11 });
  try {
    const d = tmp();
    const f = makeCsv(d, 2500);
    const r = await runTg(['submit', f, '--batch-size', '100', '--rate', 'off', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    const { taskgroup_id } = JSON.parse(r.stdout);
    assert.ok(e.stats.responsesLost > 0 && e.stats.errorsInjected > 0, 'faults were injected');
    assertExactlyOnce(await groupRuns(e.url, taskgroup_id), 2500);
    const again = await runTg(['submit', f, '--batch-size', '100', '--rate', 'off', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).submitted, 0);
    assertExactlyOnce(await groupRuns(e.url, taskgroup_id), 2500);
  } finally {
    await e.close();
  }
});

test('submit: exactly once through repeated SIGKILL at random moments', async () => {
  const e = await emulator({ rateLimit: null, loseResponses: 0.1, seed: 5 });
  try {
    const d = tmp();
    const f = makeCsv(d, 3000);
    const args = ['submit', f, '--batch-size', '50', '--rate', 'off', '--json', '--base-url', e.url];
    let kills = 0;
    let last;
    for (let i = 0; i < 30; i++) {
      last = await runTg(args, { cwd: d, killAfterMs: 150 + Math.floor(Math.random() * 300) });
      if (last.signal === 'SIGKILL') kills++;
      else break;
    }
    if (last.signal === 'SIGKILL') last = await runTg(args, { cwd: d });
    assert.equal(last.code, 0, last.stderr);
    assert.ok(kills >= 1, 'at least one kill landed mid-submit');
    const { taskgroup_id } = JSON.parse(last.stdout);
    assertExactlyOnce(await groupRuns(e.url, taskgroup_id), 3000);
  } finally {
    await e.close();
  }
});

test('submit: 429s are waited out (retry-after honoured), nothing duplicated', async () => {
  const e = await emulator({ rateLimit: { limit: 200, windowMs: 1000 }, rateLimitUnit: 'runs', seed: 2 });
  try {
    const d = tmp();
    const f = makeCsv(d, 600);
    // Client budget deliberately above the server's: the server's 429s must pace it.
    const r = await runTg(['submit', f, '--batch-size', '200', '--rate', '100000', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(e.stats.rateLimited > 0, 'the emulator answered 429');
    assertExactlyOnce(await groupRuns(e.url, JSON.parse(r.stdout).taskgroup_id), 600);
  } finally {
    await e.close();
  }
});

test('submit: an appended row is sent alone; --restart sends everything again into a new group', async () => {
  const e = await emulator();
  try {
    const d = tmp();
    const f = makeCsv(d, 10);
    const r0 = await runTg(['submit', f, '--base-url', e.url], { cwd: d });
    assert.equal(r0.code, 0);
    writeFileSync(f, readFileSync(f, 'utf8') + 'Company 11,https://c11.example\n');
    const r = await runTg(['submit', f, '--json', '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { taskgroup_id: r0.stdout.trim(), submitted: 1, skipped: 10, rejected: 0 });
    const s = await runTg(['submit', f, '--restart', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    assert.equal(JSON.parse(s.stdout).submitted, 11);
    assert.notEqual(JSON.parse(s.stdout).taskgroup_id, r0.stdout.trim());
  } finally {
    await e.close();
  }
});

test('auth and unknown group: exit 3 and 2, the key never printed', async () => {
  const e = await emulator({ apiKey: 'right-key-000000' });
  try {
    const d = tmp();
    const r = await runTg(['status', 'tgrp_x', '--verbose', '--base-url', e.url], { cwd: d, env: { PARALLEL_API_KEY: 'wrong-key-999999' } });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /check PARALLEL_API_KEY/);
    assert.doesNotMatch(r.stdout + r.stderr, /wrong-key-999999/);
    const n = await runTg(['status', 'tgrp_nope', '--json', '--base-url', e.url], { cwd: d, env: { PARALLEL_API_KEY: 'right-key-000000' } });
    assert.equal(n.code, 2);
    assert.match(n.stderr, /TaskGroup not found/);
    assert.equal(JSON.parse(n.stderr.trim().split('\n').at(-1)).error.code, 'not_found');
    const none = await runTg(['status', 'tgrp_x', '--base-url', e.url], { cwd: d, env: { PARALLEL_API_KEY: '' } });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /PARALLEL_API_KEY/);
  } finally {
    await e.close();
  }
});

test('watch -o: one line per terminal run, exactly once through SIGKILLs and dropped streams', async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [200, 3000], failRate: 0.1, dropStreamsAfter: 50, errorRate: 0.05, seed: 9 });
  try {
    const d = tmp();
    const f = makeCsv(d, 400);
    const s = await runTg(['submit', f, '--rate', 'off', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    const group = JSON.parse(s.stdout).taskgroup_id;
    const out = path.join(d, 'results.jsonl');
    let last;
    for (let i = 0; i < 8; i++) {
      last = await runTg(['watch', group, '-o', out, '--base-url', e.url], { cwd: d, killAfterMs: 300 + Math.floor(Math.random() * 500) });
      if (last.signal !== 'SIGKILL') break;
    }
    if (last.signal === 'SIGKILL') last = await runTg(['watch', group, '-o', out, '--base-url', e.url], { cwd: d });
    assert.ok([0, 1].includes(last.code), last.stderr);
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(lines.length, 400);
    assert.equal(new Set(lines.map((l) => l.run.run_id)).size, 400);
    const failed = lines.filter((l) => l.run.status === 'failed');
    assert.equal(last.code, failed.length ? 1 : 0);
    for (const l of lines) {
      if (l.run.status === 'completed') assert.equal(l.output.type, 'json');
      else assert.ok(l.run.error.message);
    }
    // fetch to JSONL of the same group: same runs and outputs as watch.
    const fo = path.join(d, 'fetch.jsonl');
    const fr = await runTg(['fetch', group, '-o', fo, '--base-url', e.url], { cwd: d });
    assert.ok([0, 1].includes(fr.code), fr.stderr);
    const fetched = readFileSync(fo, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const proj = (ls) => ls.map((l) => JSON.stringify([l.run.run_id, l.run.status, l.output?.content ?? null])).sort();
    assert.deepEqual(proj(fetched), proj(lines));
    // A rerun of watch writes no duplicate.
    const again = await runTg(['watch', group, '-o', out, '--base-url', e.url], { cwd: d });
    assert.ok([0, 1].includes(again.code));
    assert.equal(readFileSync(out, 'utf8').split('\n').filter(Boolean).length, 400);
  } finally {
    await e.close();
  }
});

test('fetch: CSV flattening and --join in input order', async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [10, 50] });
  try {
    const d = tmp();
    const r = await runTg(['submit', fixture('companies.csv'), '--spec', fixture('company-spec.json'), '--watch', '-o', path.join(d, 'w.jsonl'), '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    const group = JSON.parse(readFileSync(path.join(d, 'w.jsonl.tg.json'), 'utf8')).group;
    const csv = await runTg(['fetch', group, '--format', 'csv', '--base-url', e.url], { cwd: d });
    assert.equal(csv.code, 0, csv.stderr);
    const header = csv.stdout.split('\n')[0];
    assert.equal(header, 'input.company_name,input.company_website,output.key_insights,output.market_position,output.employee_count,output.headquarters,run_id,status,error');
    assert.equal(csv.stdout.trim().split('\n').length, 61);
    const j = await runTg(['fetch', group, '--join', fixture('companies.csv'), '-o', path.join(d, 'enriched.csv'), '--base-url', e.url], { cwd: d });
    assert.equal(j.code, 0, j.stderr);
    const en = readFileSync(path.join(d, 'enriched.csv'), 'utf8').split('\n');
    assert.match(en[0], /^company_name,company_website,segment,output\.key_insights,/);
    assert.match(en[1], /^Acme Corp,https:\/\/acme\.com,enterprise,/);
    assert.match(en[2], /^Stripe,/);
    // Rows the group has no run for (keys 61, 62) are kept, in order, with blank output columns, and counted.
    const more = path.join(d, 'more.csv');
    writeFileSync(more, readFileSync(fixture('companies.csv'), 'utf8') + 'Extra One,https://one.example,smb\nExtra Two,https://two.example,smb\n');
    const j2 = await runTg(['fetch', group, '--join', more, '-o', path.join(d, 'enriched2.csv'), '--base-url', e.url], { cwd: d });
    assert.equal(j2.code, 0, j2.stderr);
    assert.match(j2.stderr, /2 of 62 rows have no result yet \(left blank\)/);
    const en2 = readFileSync(path.join(d, 'enriched2.csv'), 'utf8').trim().split('\n');
    assert.equal(en2.length, 63);
    assert.equal(en2[61], 'Extra One,https://one.example,smb,,,,,,,');
    assert.equal(en2[62], 'Extra Two,https://two.example,smb,,,,,,,');
    const st = await runTg(['status', group, '--json', '--base-url', e.url], { cwd: d });
    assert.equal(JSON.parse(st.stdout).task_run_status_counts.completed, 60);
  } finally {
    await e.close();
  }
});

test('the main job on the built-in emulator: stdin JSONL, --emulator, no key', async () => {
  const d = tmp();
  const r = await runTg(['submit', '-', '--format', 'jsonl', '--emulator', '--watch', '-o', path.join(d, 'out.jsonl')], { cwd: d, input: readFileSync(fixture('questions.jsonl')), env: { PARALLEL_API_KEY: '' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(d, 'out.jsonl'), 'utf8').trim().split('\n').length, 3);
});

test('inputs: .csv.gz, a JSON array, JSONL and gzipped stdin all give the rows they hold', async () => {
  const e = await emulator({ latencyMs: [10, 20] });
  try {
    const { gzipSync } = await import('node:zlib');
    const d = tmp();
    const spec = fixture('company-spec.json');
    const inputsOf = async (r) => {
      assert.equal(r.code, 0, r.stderr);
      return inputsInRowOrder(await groupRuns(e.url, JSON.parse(r.stdout).taskgroup_id));
    };
    const csv = await inputsOf(await runTg(['submit', fixture('companies.csv'), '--spec', spec, '--json', '--base-url', e.url], { cwd: d }));
    const gz = await inputsOf(await runTg(['submit', fixture('companies.csv.gz'), '--spec', spec, '--json', '--base-url', e.url], { cwd: d }));
    assert.equal(csv.length, 60);
    assert.deepEqual(gz, csv);
    const json = await inputsOf(await runTg(['submit', fixture('companies.json'), '--spec', spec, '--json', '--base-url', e.url], { cwd: d }));
    const jsonl = await inputsOf(await runTg(['submit', fixture('companies.jsonl'), '--spec', spec, '--json', '--base-url', e.url], { cwd: d }));
    const want = JSON.parse(readFileSync(fixture('companies.json'), 'utf8')).map((o) => ({ company_name: o.company_name, company_website: o.company_website }));
    assert.deepEqual(json, want);
    assert.deepEqual(jsonl, readFileSync(fixture('companies.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
    const stdin = await inputsOf(await runTg(['submit', '-', '--format', 'jsonl', '--spec', spec, '--json', '--base-url', e.url], { cwd: d, input: gzipSync(readFileSync(fixture('companies.jsonl'))) }));
    assert.deepEqual(stdin, jsonl);
  } finally {
    await e.close();
  }
});

test('watch/status --timeout → exit 5 and the same command resumes; watch --follow picks up runs added later', async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [1500, 2500], seed: 21 });
  try {
    const d = tmp();
    const f = makeCsv(d, 20);
    const s = await runTg(['submit', f, '--json', '--base-url', e.url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    const group = JSON.parse(s.stdout).taskgroup_id;
    const out = path.join(d, 'w.jsonl');
    const w = await runTg(['watch', group, '-o', out, '--timeout', '0.5', '--base-url', e.url], { cwd: d });
    assert.equal(w.code, 5, w.stderr);
    assert.match(w.stderr, /again|resume/i);
    const st = await runTg(['status', group, '--wait', '--timeout', '0.3', '--base-url', e.url], { cwd: d });
    assert.equal(st.code, 5, st.stderr);
    const done = await runTg(['watch', group, '-o', out, '--base-url', e.url], { cwd: d });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 20);
    assert.equal((await runTg(['status', group, '--wait', '--base-url', e.url], { cwd: d })).code, 0);

    // --follow: keeps listening; runs added to the group later get their lines too.
    const fo = path.join(d, 'follow.jsonl');
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [path.join(root, 'bin/tg'), 'watch', group, '-o', fo, '--follow', '-q', '--base-url', e.url], { cwd: d, env: { ...process.env, PARALLEL_API_KEY: 'test-key-123456' } });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    const closed = new Promise((r) => child.on('close', (code) => r(code)));
    const count = () => (existsSync(fo) ? readFileSync(fo, 'utf8').split('\n').filter(Boolean).length : 0);
    const until = async (n) => {
      for (let i = 0; i < 200 && count() < n; i++) await new Promise((r) => setTimeout(r, 100));
    };
    await until(20);
    assert.equal(count(), 20, stderr);
    const more = path.join(d, 'more.csv');
    writeFileSync(more, 'name,website\nLate 1,https://l1.example\nLate 2,https://l2.example\n');
    assert.equal((await runTg(['submit', more, '--group', group, '--base-url', e.url], { cwd: d })).code, 0);
    await until(22);
    assert.equal(count(), 22, stderr);
    child.kill('SIGINT');
    assert.equal(await closed, 130, stderr);
    assert.equal(new Set(readFileSync(fo, 'utf8').trim().split('\n').map((l) => JSON.parse(l).run.run_id)).size, 22);
  } finally {
    await e.close();
  }
});

test('watch through a sustained outage: reconnects, then gives up with exit 4 and a resume hint (TG_OUTAGE_GIVE_UP_S)', async () => {
  const { spawn } = await import('node:child_process');
  const emu = spawn(process.execPath, [path.join(root, 'bin/tg'), 'emulator', '--port', '0', '--latency', '20s..30s', '--rate-limit', 'off'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const url = await new Promise((resolve) => emu.stdout.once('data', (b) => resolve(/listening on (\S+)/.exec(String(b))[1])));
    const d = tmp();
    const s = await runTg(['submit', makeCsv(d, 10), '--json', '--base-url', url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    const group = JSON.parse(s.stdout).taskgroup_id;
    setTimeout(() => emu.kill('SIGKILL'), 800); // the API goes away mid-stream and stays away
    const t0 = Date.now();
    const w = await runTg(['watch', group, '-o', path.join(d, 'w.jsonl'), '--base-url', url], { cwd: d, env: { TG_OUTAGE_GIVE_UP_S: '2' } });
    assert.equal(w.code, 4, w.stderr);
    assert.match(w.stderr, /reconnecting/);
    assert.match(w.stderr, /Run the same command again to resume/);
    assert.ok(Date.now() - t0 < 15_000, `gave up after ${Date.now() - t0} ms`);
    const bad = await runTg(['status', group, '--base-url', url], { cwd: d, env: { TG_OUTAGE_GIVE_UP_S: 'soon' } });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /TG_OUTAGE_GIVE_UP_S must be a positive number/);
  } finally {
    emu.kill('SIGKILL');
  }
});
