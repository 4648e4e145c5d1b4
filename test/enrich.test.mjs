// `submit --watch -o enriched.csv`: resume after SIGKILL, and the files -o may not replace.
// Nothing waits on a clock: kills land on emulator counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { emulator, fixture, runInProcess, runTg, tmp, makeCsv, withFixture } from './helpers.mjs';

const FIELDS = ['--field', 'ceo_name: full name of the current CEO', '--field', 'founded_year:int: year the company was founded'];

test('enriched CSV: a SIGKILL while sending or waiting, then the same command: the same file, no row twice', async () => {
  const e = await emulator({ latencyMs: [200, 400], rateLimit: null, seed: 4 });
  try {
    const d = tmp();
    makeCsv(d, 300);
    const args = [
      'submit',
      'rows.csv',
      '--field',
      'summary: one line on the company',
      '--batch-size',
      '50',
      '--rate',
      'off',
      '--watch',
      '-o',
      'out.csv',
      '--base-url',
      e.url,
    ];
    const killed = await runTg(args, { cwd: d, killWhen: () => e.stats.runsCreated >= 100 });
    assert.equal(killed.signal, 'SIGKILL', 'killed while sending');
    const waiting = await runTg(args, { cwd: d, killWhen: () => e.stats.runsCreated >= 300 });
    assert.equal(waiting.signal, 'SIGKILL', 'killed while waiting');
    assert.ok(!existsSync(path.join(d, 'out.csv')), 'nothing half-written in place of the file');
    const done = await runTg(args, { cwd: d });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(e.stats.runsCreated, 300, 'every row sent once');
    const first = readFileSync(path.join(d, 'out.csv'), 'utf8');
    const rows = /** @type {any[]} */ (parse(first, { columns: true }));
    assert.deepEqual(
      rows.map((r) => r.name),
      Array.from({ length: 300 }, (_, i) => `Company ${i + 1}`),
    );
    assert.ok(rows.every((r) => r.tg_status === 'completed' && r.summary && r.summary_citations.startsWith('https://')));
    const rerun = await runTg(args, { cwd: d });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(readFileSync(path.join(d, 'out.csv'), 'utf8'), first, 'a rerun writes the same file');
  } finally {
    await e.close();
  }
});

test('enriched CSV: -o never replaces a file tg did not write, nor the input', async () => {
  const d = withFixture('companies.csv');
  copyFileSync(fixture('companies.csv'), path.join(d, 'theirs.csv'));
  const theirs = await runInProcess(['submit', 'companies.csv', ...FIELDS, '--watch', '-o', 'theirs.csv', '--emulator'], { cwd: d });
  assert.equal(theirs.code, 2);
  assert.match(theirs.stderr, /the file exists and was not written by tg --join; not replacing it/);
  const input = await runInProcess(['submit', 'companies.csv', ...FIELDS, '--watch', '-o', 'companies.csv', '--emulator'], { cwd: d });
  assert.equal(input.code, 2);
  assert.match(input.stderr, /is the --join input itself; tg never replaces its input/);
  assert.equal(readFileSync(path.join(d, 'theirs.csv'), 'utf8'), readFileSync(fixture('companies.csv'), 'utf8'));
});
