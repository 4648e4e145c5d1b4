// The single executable: `npm run package` builds dist/tg (Node SEA); the binary runs the real job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { root, fixture, tmp } from '../helpers.mjs';

test('npm run package builds dist/tg; the binary prints its version and submits on --emulator', { timeout: 120_000 }, () => {
  const b = spawnSync(process.execPath, [path.join(root, 'scripts/package.mjs')], { cwd: root, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stdout, /built dist\/tg: [\d.]+ MB/);
  const bin = path.join(root, 'dist/tg');
  assert.ok(statSync(bin).mode & 0o100, 'executable');
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), pkg.version);
  assert.equal(v.stderr, '', 'no SEA warning or other noise on stderr');
  const d = tmp();
  const out = path.join(d, 'results.jsonl');
  const env = { ...process.env, PARALLEL_API_KEY: '', NO_COLOR: '1' };
  const s = spawnSync(bin, ['submit', fixture('companies.csv'), '--spec', fixture('company-spec.json'), '--emulator', '--watch', '-o', out, '--json', '-q'], {
    cwd: d,
    encoding: 'utf8',
    env,
  });
  assert.equal(s.status, 0, s.stderr);
  const lines = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 60);
  assert.equal(new Set(lines.map((l) => l.run.run_id)).size, 60);
  assert.ok(lines.every((l) => l.run.status === 'completed' && l.output.type === 'json'));
});

test('the binary lists a group in its worker thread (an asset of the executable): a lost journal resumes', { timeout: 120_000 }, async () => {
  // A copy alone in a directory: no dist/list-worker.cjs beside it, so the worker comes from the asset.
  const bin = path.join(tmp(), 'tg');
  copyFileSync(path.join(root, 'dist/tg'), bin);
  const emu = spawn(bin, ['emulator', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise((resolve) => emu.stdout.once('data', (d) => resolve(String(/listening on (\S+)/.exec(String(d))?.[1]))));
    const d = tmp();
    const env = { ...process.env, PARALLEL_API_KEY: 'k', PARALLEL_BASE_URL: url, TG_STATE_DIR: path.join(d, 'state') };
    const first = spawnSync(bin, ['submit', fixture('companies.csv'), '--spec', fixture('company-spec.json')], { cwd: d, encoding: 'utf8', env });
    assert.equal(first.status, 0, first.stderr);
    const group = first.stdout.trim();
    rmSync(path.join(d, 'state', 'journals'), { recursive: true });
    const again = spawnSync(bin, ['submit', fixture('companies.csv'), '--spec', fixture('company-spec.json'), '--group', group, '--verbose'], {
      cwd: d,
      encoding: 'utf8',
      env,
    });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /listing the 60 runs of/);
    assert.match(again.stderr, /http GET \/v1\/tasks\/groups\/tgrp_\w+\/runs 200 \d+ms \(listing thread\)/, 'the worker relays its request log');
    assert.match(again.stderr, /the group holds 60 of these 60 rows already; 0 to send/);
  } finally {
    emu.kill();
  }
});
