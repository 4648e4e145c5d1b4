// The single executable: `npm run package` builds dist/tg (Node SEA); the binary runs the real job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
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
