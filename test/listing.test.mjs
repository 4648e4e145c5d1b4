// Listing a group's runs (issue F: the group is the ledger) happens in a worker thread while the
// input is validated: its failures reach the command as the same errors, an interrupt stops it at
// once, and without the worker's file the listing runs on the main thread with the same answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { emulator, root, runInProcess, spawnTg, tmp, makeCsv, waitFor } from './helpers.mjs';
import { fakeApi, makeRuns } from './fake-api.mjs';

const env = (d, url, extra = {}) => ({ TG_STATE_DIR: path.join(d, 'state'), PARALLEL_BASE_URL: url, ...extra });

test('a listing stream that only sends keep-alives ends at the outage give-up: exit 4 with a resume hint', async () => {
  const api = await fakeApi({ runs: makeRuns(30), fault: null });
  try {
    api.state.fault = 'keepalive';
    const d = tmp();
    const f = makeCsv(d, 5);
    const r = await runInProcess(['submit', f, '--group', api.group], { cwd: d, env: env(d, api.url, { TG_OUTAGE_GIVE_UP_S: '1' }) });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /listing the 30 runs of tgrp_fake/);
    assert.match(r.stderr, /^tg: stream .*\/runs: no event for 1 s \(keep-alives only\)/m);
    assert.match(r.stderr, /hint: .*rerun the same command/i);
  } finally {
    await api.close();
  }
});

test('Ctrl-C while the group is listed: exit 130 at once, with the resume hint', async () => {
  const api = await fakeApi({ runs: makeRuns(30) });
  try {
    api.state.fault = 'keepalive';
    const d = tmp();
    const f = makeCsv(d, 5);
    const p = spawnTg(['submit', f, '--group', api.group], { cwd: d, env: env(d, api.url) });
    await p.waitForStderr(/listing the 30 runs/);
    await waitFor(() => api.state.requests >= 2, { what: 'the GET of the runs' });
    p.kill('SIGINT');
    const r = await p.done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /hint: Rerun the same command to resume/);
  } finally {
    await api.close();
  }
});

test('without the worker file beside the bundle, the listing runs on the main thread: the same answer', async () => {
  const e = await emulator({ rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, 40);
    const first = await runInProcess(['submit', f, '--rate', 'off'], { cwd: d, env: { PARALLEL_BASE_URL: e.url } });
    assert.equal(first.code, 0, first.stderr);
    const group = first.stdout.trim();
    rmSync(path.join(d, '.tg', 'journals'), { recursive: true });
    const alone = mkdtempSync(path.join(tmpdir(), 'tg-lib-alone-'));
    copyFileSync(path.join(root, 'dist/lib.cjs'), path.join(alone, 'lib.cjs'));
    const lib = createRequire(import.meta.url)(path.join(alone, 'lib.cjs'));
    let stderr = '';
    const io = {
      stdout: { write: () => true },
      stderr: { write: (/** @type {string} */ s) => ((stderr += s), true) },
      stdin: process.stdin,
      stderrIsTTY: false,
      env: { PARALLEL_API_KEY: 'k', NO_COLOR: '1', TG_STATE_DIR: path.join(d, '.tg'), PARALLEL_BASE_URL: e.url },
      cwd: d,
    };
    const code = await lib.run(['submit', f, '--group', group, '--verbose'], io);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /the group holds 40 of these 40 rows already; 0 to send/);
    assert.match(stderr, /GET \/v1\/tasks\/groups\/tgrp_\w+\/runs 200/);
    assert.doesNotMatch(stderr, /listing thread/);
  } finally {
    await e.close();
  }
});
