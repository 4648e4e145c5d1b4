// Secrets and files: the API key appears nowhere tg writes, state files are 0600, plain http to
// a non-loopback host is refused, the emulator binds loopback. (Signals are in signals.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { emulator, runTg, runInProcess, waitFor, tmp, makeCsv, BIN } from './helpers.mjs';

const KEY = 'sk-hygiene-SECRET-7f3a9c2e51';

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

test('the API key never appears in output, logs, state, journal, results or rejects; state files are 0600', async () => {
  const e = await emulator({ apiKey: KEY, latencyMs: [20, 200], failRate: 0.2, seed: 3 });
  try {
    const d = tmp();
    const f = makeCsv(d, 40);
    writeFileSync(f, readFileSync(f, 'utf8') + 'Bad row with too many,https://x.example,extra\n'.replace(',extra', '')); // a valid extra row
    const bad = path.join(d, 'some-bad.jsonl');
    writeFileSync(bad, '{"name":"ok","website":"w"}\n[1,2]\n');
    const env = { PARALLEL_API_KEY: KEY };
    const outs = [];
    // The first submit is bin/tg as a child (what the process itself prints, request logs
    // included); the other commands call run(argv, io) with the same env and directory.
    const run = async (args, extraEnv = env, child = false) => {
      const opts = { cwd: d, env: { ...extraEnv, TG_VERBOSE: '1' } };
      const argv = [...args, '--base-url', e.url, '--verbose'];
      const r = child ? await runTg(argv, opts) : await runInProcess(argv, opts);
      outs.push(r.stdout, r.stderr);
      return r;
    };
    const s = await run(['submit', f, '--json', '--rate', 'off'], env, true);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stderr, /POST \/v1\/tasks\/groups/, '--verbose logs requests');
    const group = JSON.parse(s.stdout).taskgroup_id;
    // Commands that do not depend on each other run side by side (each writes its own files):
    // a second submit beside watch, then (every run finished) the fetches and statuses.
    const [bad1, watched] = await Promise.all([run(['submit', bad, '--skip-invalid', '--json']), run(['watch', group, '-o', 'w.jsonl'])]);
    assert.ok([0, 1].includes(Number(bad1.code)), bad1.stderr);
    assert.ok([0, 1].includes(Number(watched.code)), watched.stderr);
    assert.match(watched.stderr, /GET \S+\/(events|runs)\b/, 'in-process, --verbose logs requests too'); // the run list (catch-up) or the events
    const [csv, joined, , , wrong] = await Promise.all([
      run(['fetch', group, '-o', 'f.csv', '--format', 'csv']),
      run(['fetch', group, '--join', f, '-o', 'joined.csv']),
      run(['status', group, '--json']),
      // The key passed as a flag, and a wrong key: still never echoed.
      run(['status', group, '--api-key', KEY]),
      run(['status', group], { PARALLEL_API_KEY: `${KEY}-wrong` }),
    ]);
    assert.ok([0, 1].includes(Number(csv.code)), csv.stderr);
    assert.ok([0, 1].includes(Number(joined.code)), joined.stderr);
    assert.equal(wrong.code, 3);
    const files = walk(d);
    assert.ok(
      files.some((p) => p.endsWith('.rejects.jsonl')),
      'a rejects file was written',
    );
    for (const p of files) assert.ok(!readFileSync(p, 'latin1').includes(KEY), `${path.relative(d, p)} holds the key`);
    outs.forEach((o, i) => assert.ok(!o.includes(KEY), `output ${i} holds the key`));
    // State files: journals, cursors, rejects are 0600.
    const state = files.filter((p) => /\.tg\/.*\.jsonl?$|\.tg\.json$|\.rejects\.jsonl$/.test(p));
    assert.ok(state.length >= 4, state.join(' '));
    for (const p of state) assert.equal(statSync(p).mode & 0o777, 0o600, `${path.relative(d, p)} mode ${(statSync(p).mode & 0o777).toString(8)}`);
  } finally {
    await e.close();
  }
});

test('plain http to a non-loopback host is refused; the emulator binds loopback by default', async () => {
  const r = await runInProcess(['status', 'tgrp_x', '--base-url', 'http://10.1.2.3:8080'], { env: { PARALLEL_API_KEY: KEY } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /refusing to send the API key over plain http/);
  assert.ok(!r.stderr.includes(KEY));
  const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (b) => (text += b));
  child.stderr.on('data', (b) => (text += b));
  const exited = new Promise((r) => child.on('close', r));
  await waitFor(() => /listening on/.test(text), { what: 'the emulator to say where it listens' });
  child.kill('SIGTERM');
  await exited;
  assert.match(text, /listening on http:\/\/127\.0\.0\.1:\d+/);
});
