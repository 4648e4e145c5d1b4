// Issue I.8: the README's recipes, run as they are written there (the lines are read from
// README.md), against the emulator: the cron pair over three "days" of a growing file, and the
// CI job's `run:` steps twice with its cached state directory. No wall-clock waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { root, BIN, KEY, emulator, fixture, tmp, groupRuns } from './helpers.mjs';

const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/** The fenced block that follows `marker` in the README. @param {string} marker */
function blockAfter(marker) {
  const at = readme.indexOf(marker);
  assert.ok(at >= 0, `README has no ${marker}`);
  const m = /```\w*\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(m, `no code block after ${marker}`);
  return m[1];
}

/**
 * A shell line run by /bin/sh (as cron and CI do), asynchronously: the emulator answers from
 * this process.
 * @param {string} line @param {{ cwd: string, env: NodeJS.ProcessEnv }} opts
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
function sh(line, { cwd, env }) {
  const child = spawn('/bin/sh', ['-c', line], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** PATH with a directory holding `tg` (a link to bin/tg), as after `npm install -g .`. */
function pathWithTg() {
  const dir = tmp();
  symlinkSync(BIN, path.join(dir, 'tg'));
  return `${dir}:${process.env.PATH}`;
}

test('README cron recipe, line for line: three days of a growing file into one group, every result once', async () => {
  const lines = blockAfter('**Cron**')
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/).slice(5).join(' ')); // minute hour day month weekday: cron's part
  assert.equal(lines.length, 2);
  const e = await emulator({ rateLimit: null, latencyMs: [10, 50] });
  try {
    const data = tmp();
    copyFileSync(fixture('company-spec.json'), path.join(data, 'spec.json'));
    writeFileSync(path.join(data, 'leads.csv'), 'company_name,company_website\n');
    const [submitLine, watchLine] = lines.map((l) => l.replace('cd /data', `cd '${data}'`).replace('PARALLEL_API_KEY=…', `PARALLEL_API_KEY=${KEY}`));
    const env = { ...process.env, PATH: pathWithTg(), PARALLEL_BASE_URL: e.url, TG_STATE_DIR: path.join(data, 'state') };
    let n = 0;
    for (const day of [1, 2, 3]) {
      for (let i = 0; i < 40 * day; i++) (n++, appendFileSync(path.join(data, 'leads.csv'), `Company ${n},https://c${n}.example\n`));
      const s = await sh(submitLine, { cwd: data, env });
      assert.equal(s.code, 0, `day ${day} submit: ${s.stderr}`);
      assert.equal(s.stderr, '', 'quiet: nothing on stderr');
      const w = await sh(watchLine, { cwd: data, env });
      assert.equal(w.code, 0, `day ${day} watch: ${w.stderr}`);
      const results = readFileSync(path.join(data, 'results.jsonl'), 'utf8').trim().split('\n');
      assert.equal(results.length, n, `day ${day}: one result per row so far`);
      console.log(`day ${day}: ${n} rows, ${results.length} results`);
    }
    const submitted = readFileSync(path.join(data, 'submitted.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      submitted.map((s) => s.submitted),
      [40, 80, 120],
    );
    assert.equal(new Set(submitted.map((s) => s.taskgroup_id)).size, 1, 'one group for every day');
    const runs = await groupRuns(e.url, submitted[0].taskgroup_id);
    assert.equal(runs.length, n);
    assert.equal(new Set(runs.map((r) => r.run.metadata.tg_key)).size, n);
  } finally {
    await e.close();
  }
});

test('README CI recipe, run: steps as written: the packed tarball, never npx; a second job resumes from the cached state', async (t) => {
  const yaml = blockAfter('**A CI job**');
  const runs = [...yaml.matchAll(/^- run: (.*)$/gm)].map((m) => m[1]);
  assert.ok(runs.length >= 2, yaml);
  assert.ok(!/\bnpx\s+tg\b/.test(yaml), 'never `npx tg`: that is another package on the registry');
  const stateDir = /TG_STATE_DIR: ([^\s,}]+)/.exec(yaml)?.[1];
  assert.equal(stateDir, '.tg-state');
  const tarball = /vendor\/(tg-cli-[\d.]+\.tgz)/.exec(yaml)?.[1];
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.equal(tarball, `tg-cli-${pkg.version}.tgz`, 'the README names the tarball npm pack makes');
  const repo = tmp();
  mkdirSync(path.join(repo, 'vendor'));
  mkdirSync(path.join(repo, 'data'));
  const pack = spawnSync('npm', ['pack', '--silent', '--pack-destination', path.join(repo, 'vendor')], { cwd: root, encoding: 'utf8' });
  if (pack.status !== 0) return t.skip(`npm pack failed here: ${pack.stderr.trim().split('\n')[0]}`);
  copyFileSync(fixture('companies.csv'), path.join(repo, 'data/companies.csv'));
  copyFileSync(fixture('company-spec.json'), path.join(repo, 'data/spec.json'));
  const e = await emulator({ rateLimit: null, latencyMs: [10, 50] });
  try {
    // tg on PATH must not matter: the recipe calls its own copy by path.
    const env = { ...process.env, PATH: process.env.PATH ?? '', PARALLEL_API_KEY: KEY, PARALLEL_BASE_URL: e.url, TG_STATE_DIR: stateDir };
    for (const job of [1, 2]) {
      rmSync(path.join(repo, 'results.jsonl'), { force: true }); // a fresh checkout; .tg-state comes from the cache
      rmSync(path.join(repo, 'results.jsonl.tg.json'), { force: true });
      for (const line of runs) {
        const r = await sh(line, { cwd: repo, env });
        assert.equal(r.code, 0, `job ${job}: ${line}\n${r.stderr}`);
      }
      assert.equal(readFileSync(path.join(repo, 'results.jsonl'), 'utf8').trim().split('\n').length, 60, `job ${job}: 60 results`);
    }
    assert.equal(e.stats.runsCreated, 60, 'the second job sent nothing: its journal was in the cached state directory');
    assert.ok(existsSync(path.join(repo, 'data/companies.tg-group.json')), 'the first job wrote the group file');

    // Two machines: a second clone with the group file committed, a state directory of its own
    // (no cache), and five rows more: it continues the group and sends only those five.
    const clone = tmp();
    cpSync(repo, clone, { recursive: true, filter: (f) => !f.includes('.tg-state') && !f.includes('results.jsonl') });
    appendFileSync(path.join(clone, 'data/companies.csv'), [1, 2, 3, 4, 5].map((i) => `New Co ${i},https://new${i}.example,smb`).join('\n') + '\n');
    const env2 = { ...env, TG_STATE_DIR: stateDir }; // .tg-state relative to the clone: empty there
    for (const line of runs) {
      const r = await sh(line, { cwd: clone, env: env2 });
      assert.equal(r.code, 0, `machine 2: ${line}\n${r.stderr}`);
    }
    assert.equal(e.stats.runsCreated, 65, 'machine 2 sent only the five new rows');
    assert.equal(readFileSync(path.join(clone, 'results.jsonl'), 'utf8').trim().split('\n').length, 65, 'machine 2: 65 results');
  } finally {
    await e.close();
  }
});
