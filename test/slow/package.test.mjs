// What the Install table promises, each from its artefact: the npm tarball (`npm pack`) installs
// with the registry unreachable (the bundle in dist/ carries every runtime dependency, so npm has
// nothing to download) and, unpacked with tar alone, runs on Node; the single executable
// (`npm run package`, Node SEA) runs the real job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Parallel from 'parallel-web';
import { root, fixture, tmp } from '../helpers.mjs';

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** This process's env without the npm_config_* / npm_package_* that `npm run` sets (they would steer the inner npm). */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k)));
}

/** The 60-row fixture through `<bin> submit --emulator --watch -o results.jsonl`, in dir; asserts 60 distinct completed runs. */
function submitsOnEmulator(cmd, dir) {
  const out = path.join(dir, 'results.jsonl');
  const s = spawnSync(cmd, ['submit', fixture('companies.csv'), '--spec', fixture('company-spec.json'), '--emulator', '--watch', '-o', out, '-q'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...cleanEnv(), PARALLEL_API_KEY: '', NO_COLOR: '1', TG_STATE_DIR: path.join(dir, 'state') },
  });
  assert.equal(s.status, 0, s.stderr);
  const lines = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 60);
  assert.equal(new Set(lines.map((l) => l.run.run_id)).size, 60);
  assert.ok(lines.every((l) => l.run.status === 'completed' && l.output.type === 'json'));
}

/** `npm pack` of this checkout into dir; resolves the tarball's path and its file list. */
function npmPack(dir) {
  const r = spawnSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8', env: cleanEnv() });
  assert.equal(r.status, 0, r.stderr);
  const [info] = JSON.parse(r.stdout);
  return { tgz: path.join(dir, info.filename), files: info.files.map((f) => f.path).sort() };
}

test('npm pack: the tarball installs with the registry unreachable, then runs tg from node_modules/.bin', { timeout: 180_000 }, () => {
  const d = tmp();
  const { tgz, files } = npmPack(d);
  assert.equal(path.basename(tgz), `tg-cli-${pkg.version}.tgz`, 'the name the README gives');
  assert.ok(
    files.includes('bin/tg') && files.includes('dist/tg.cjs') && files.includes('dist/list-worker.cjs') && files.includes('dist/parse-worker.cjs'),
    files.join(' '),
  );
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('node_modules/')), `only the bundle ships: ${files.join(' ')}`);
  // A fresh project; npm pointed at a port nothing listens on and an empty cache: any download fails the install.
  const proj = path.join(d, 'proj');
  mkdirSync(proj);
  writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const cache = path.join(d, 'empty-cache');
  const i = spawnSync(
    'npm',
    ['install', tgz, '--registry', 'http://127.0.0.1:9', '--cache', cache, '--fetch-retries', '0', '--no-audit', '--no-fund', '--no-update-notifier'],
    { cwd: proj, encoding: 'utf8', env: cleanEnv() },
  );
  assert.equal(i.status, 0, `npm install of the tarball needed the registry:\n${i.stdout}${i.stderr}`);
  assert.match(i.stdout, /added 1 package\b/);
  const installed = readdirSync(path.join(proj, 'node_modules')).filter((n) => !n.startsWith('.'));
  assert.deepEqual(installed, ['tg-cli'], 'nothing but tg itself in node_modules');
  const manifest = JSON.parse(readFileSync(path.join(proj, 'node_modules/tg-cli/package.json'), 'utf8'));
  assert.equal(manifest.dependencies, undefined, 'the installed manifest asks for no dependencies');
  const tg = path.join(proj, 'node_modules/.bin/tg');
  const v = spawnSync(tg, ['--version'], { cwd: proj, encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), pkg.version);
  submitsOnEmulator(tg, proj);
  // The same tarball unpacked with tar alone, outside any project: package/bin/tg needs only Node.
  const bare = path.join(d, 'bare');
  mkdirSync(bare);
  const x = spawnSync('tar', ['-xzf', tgz, '-C', bare], { encoding: 'utf8' });
  assert.equal(x.status, 0, x.stderr);
  const unpacked = path.join(bare, 'package/bin/tg');
  const v2 = spawnSync(unpacked, ['--version'], { cwd: bare, encoding: 'utf8' });
  assert.equal(v2.status, 0, v2.stderr);
  assert.equal(v2.stdout.trim(), pkg.version);
  submitsOnEmulator(unpacked, bare);
  rmSync(d, { recursive: true, force: true });
});

test('npm run package builds dist/tg; the binary prints its version and submits on --emulator', { timeout: 120_000 }, () => {
  const b = spawnSync(process.execPath, [path.join(root, 'scripts/package.mjs')], { cwd: root, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stdout, /built dist\/tg: [\d.]+ MB/);
  const bin = path.join(root, 'dist/tg');
  assert.ok(statSync(bin).mode & 0o100, 'executable');
  const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), pkg.version);
  assert.equal(v.stderr, '', 'no SEA warning or other noise on stderr');
  submitsOnEmulator(bin, tmp());
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

test('the binary parses a large listing in its worker thread (an asset of the executable): fetch writes every run', { timeout: 180_000 }, async () => {
  // A copy alone in a directory: no dist/parse-worker.cjs beside it, so the worker comes from the asset.
  const bin = path.join(tmp(), 'tg');
  copyFileSync(path.join(root, 'dist/tg'), bin);
  const emu = spawn(bin, ['emulator', '--port', '0', '--latency', '1ms..5ms', '--rate-limit', 'off'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise((resolve) => emu.stdout.once('data', (d) => resolve(String(/listening on (\S+)/.exec(String(d))?.[1]))));
    const sdk = new Parallel({ apiKey: 'k', baseURL: url });
    const { taskgroup_id: group } = await sdk.taskGroup.create({});
    for (let i = 0; i < 5000; i += 1000) {
      const inputs = Array.from({ length: 1000 }, (_, k) => ({ input: `row ${i + k + 1}`, processor: 'base' }));
      await sdk.taskGroup.addRuns(group, { inputs, refresh_status: false });
    }
    const d = tmp();
    const env = { ...process.env, PARALLEL_API_KEY: 'k', PARALLEL_BASE_URL: url, TG_STATE_DIR: path.join(d, 'state') };
    const r = spawnSync(bin, ['fetch', group, '--verbose'], { cwd: d, encoding: 'utf8', env, maxBuffer: 1 << 30 });
    assert.ok([0, 5].includes(r.status ?? -1), r.stderr);
    assert.match(r.stderr, /http GET \/v1\/tasks\/groups\/tgrp_\w+\/runs: its events parsed in a worker thread/);
    const runs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).run.run_id);
    assert.equal(new Set(runs).size, 5000);
  } finally {
    emu.kill();
  }
});
