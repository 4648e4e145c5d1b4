// The journey of issue I on fixtures/companies.csv: a spec from --field options, --dry-run with
// the cost, a canary (--limit 10), the rest, one injected failure retried, and the enriched CSV
// checked row by row; then resume after SIGKILL, and the files -o may not replace.
// The emulator is seeded so that exactly one of the 60 runs fails and its retry does not (the
// seed is found from the emulator's own fault function and printed); nothing waits on a clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { emulator, fixture, groupRuns, root, runInProcess, runTg, tg, tmp, makeCsv, KEY, withFixture } from './helpers.mjs';

const FIELDS = ['--field', 'ceo_name: full name of the current CEO', '--field', 'founded_year:int: year the company was founded'];

/** The first seed whose fault function fails exactly one of runs 1..n, and not run n+1 (its retry). */
function seedWithOneFailure(rate, n) {
  for (let s = 1; s < 100_000; s++) {
    const failing = [];
    for (let q = 1; q <= n; q++) if (tg.unit(s, q, 3) < rate) failing.push(q);
    if (failing.length === 1 && tg.unit(s, n + 1, 3) >= rate) return { seed: s, row: failing[0] };
  }
  throw new Error('no seed');
}

/** @param {string} file @returns {any[]} */
const readCsv = (file) => parse(readFileSync(file, 'utf8'), { columns: true });

test('journey: --field spec, dry-run cost, --limit 10, the rest, a failure retried, the enriched CSV row by row', async (t) => {
  const { seed, row: failingRow } = seedWithOneFailure(0.03, 60);
  t.diagnostic(`emulator seed ${seed}: run ${failingRow} fails`);
  const e = await emulator({ failRate: 0.03, seed, latencyMs: [20, 80] });
  try {
    const d = withFixture('companies.csv');
    const base = ['submit', 'companies.csv', ...FIELDS, '--base-url', e.url];
    const enrich = [...base, '--watch', '-o', 'enriched.csv'];

    // The spec those options imply, as `tg spec` writes it.
    const spec = await runInProcess(['spec', ...FIELDS, '--input', 'companies.csv'], { cwd: d });
    assert.equal(spec.code, 0, spec.stderr);
    const s = JSON.parse(spec.stdout);
    assert.deepEqual(Object.keys(s.input_schema.json_schema.properties), ['company_name', 'company_website', 'segment']);
    assert.deepEqual(s.output_schema.json_schema.properties.founded_year, { type: 'integer', description: 'year the company was founded' });

    // The bill before the work.
    const dry = await runInProcess([...base, '--dry-run'], { cwd: d });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^to send {6}60$/m);
    assert.match(dry.stdout, /^cost {9}\$0\.60 \(60 runs × \$10\.00\/1,000 on base, price table of 2026\)$/m);
    assert.match(dry.stdout, /^spec {9}--field ceo_name, founded_year$/m);
    const dryPro = await runInProcess([...base, '--dry-run', '--json', '--processor', 'pro-fast', '--limit', '10'], { cwd: d });
    assert.equal(JSON.parse(dryPro.stdout).estimated_cost_usd, 1);
    assert.equal(e.stats.requests, 0, 'a dry run makes no request');

    // The canary: the first 10 rows only.
    const canary = await runInProcess([...enrich, '--limit', '10'], { cwd: d });
    assert.equal(canary.code, failingRow <= 10 ? 1 : 0, canary.stderr);
    assert.equal(e.stats.runsCreated, 10);
    assert.match(canary.stderr, /10 rows sent, 50 past --limit 10/);
    let rows = readCsv(path.join(d, 'enriched.csv'));
    assert.equal(rows.length, 60);
    assert.equal(rows.filter((r) => r.tg_run_id).length, 10);
    assert.ok(rows.slice(10).every((r) => r.tg_status === '' && r.ceo_name === ''));

    // The same command without --limit sends the rest, once; a dry run says so first.
    const dryRest = await runInProcess([...base, '--dry-run'], { cwd: d });
    assert.match(dryRest.stdout, /^to send {6}50; 10 in the group already$/m);
    const rest = await runInProcess(enrich, { cwd: d });
    assert.equal(rest.code, 1, `one run failed: ${rest.stderr}`);
    assert.equal(e.stats.runsCreated, 60);
    const failedKey = String(failingRow);
    rows = readCsv(path.join(d, 'enriched.csv'));
    assert.deepEqual(
      rows.filter((r) => r.tg_status === 'failed').map((r) => r.company_name),
      [rows[failingRow - 1].company_name],
    );

    // Retry the failed row: exactly once, however often the command is run.
    const retry = await runInProcess([...enrich, '--retry-failed'], { cwd: d });
    assert.equal(retry.code, 0, retry.stderr);
    assert.equal(e.stats.runsCreated, 61);
    const again = await runInProcess([...enrich, '--retry-failed'], { cwd: d });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(e.stats.runsCreated, 61, 'a rerun of the retry sends nothing');

    // The enriched CSV, row by row: the input's rows in order, each with its latest run.
    const group = String(/tgrp_\w+/.exec(rest.stderr)?.[0]);
    const runs = await groupRuns(e.url, group, KEY, { output: true });
    assert.equal(runs.length, 61);
    const retried = runs.find((r) => r.run.metadata.tg_try === 2);
    assert.equal(retried.run.metadata.tg_key, failedKey);
    assert.equal(retried.run.metadata.tg_prev, runs.find((r) => r.run.metadata.tg_key === failedKey && !r.run.metadata.tg_try).run.run_id);
    const latest = new Map(runs.map((r) => [r.run.metadata.tg_key, r])); // later attempts come later
    const input = readCsv(fixture('companies.csv'));
    rows = readCsv(path.join(d, 'enriched.csv'));
    assert.deepEqual(Object.keys(rows[0]), [
      'company_name',
      'company_website',
      'segment',
      'ceo_name',
      'ceo_name_confidence',
      'ceo_name_citations',
      'founded_year',
      'founded_year_confidence',
      'founded_year_citations',
      'tg_status',
      'tg_error',
      'tg_run_id',
    ]);
    assert.equal(rows.length, input.length);
    rows.forEach((r, i) => {
      const run = latest.get(String(i + 1));
      assert.deepEqual([r.company_name, r.company_website, r.segment], [input[i].company_name, input[i].company_website, input[i].segment], `row ${i + 1}`);
      assert.equal(r.tg_run_id, run.run.run_id, `row ${i + 1}: its latest run`);
      assert.equal(r.tg_status, 'completed');
      const basis = Object.fromEntries(run.output.basis.map((b) => [b.field, b]));
      assert.equal(r.ceo_name, run.output.content.ceo_name);
      assert.equal(r.founded_year, String(run.output.content.founded_year));
      assert.equal(r.ceo_name_confidence, basis.ceo_name.confidence);
      assert.equal(r.founded_year_citations, basis.founded_year.citations.map((c) => c.url).join(' '));
    });

    // fetch --join shows the latest attempt too.
    const joined = await runInProcess(['fetch', group, '--join', 'companies.csv', '--base-url', e.url], { cwd: d });
    assert.equal(joined.code, 0, joined.stderr);
    assert.equal(/** @type {any[]} */ (parse(joined.stdout, { columns: true }))[failingRow - 1].tg_status, 'completed');
  } finally {
    await e.close();
  }
});

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
    const done = await runInProcess(args, { cwd: d });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(e.stats.runsCreated, 300, 'every row sent once');
    const first = readFileSync(path.join(d, 'out.csv'), 'utf8');
    const rows = /** @type {any[]} */ (parse(first, { columns: true }));
    assert.deepEqual(
      rows.map((r) => r.name),
      Array.from({ length: 300 }, (_, i) => `Company ${i + 1}`),
    );
    assert.ok(rows.every((r) => r.tg_status === 'completed' && r.summary && r.summary_citations.startsWith('https://')));
    const rerun = await runInProcess(args, { cwd: d });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(readFileSync(path.join(d, 'out.csv'), 'utf8'), first, 'a rerun writes the same file');
  } finally {
    await e.close();
  }
});

test('enriched CSV: -o never replaces a file tg did not write, nor the input; --retry-* with --watch wants a CSV', async () => {
  const d = withFixture('companies.csv');
  copyFileSync(fixture('companies.csv'), path.join(d, 'theirs.csv'));
  const theirs = await runInProcess(['submit', 'companies.csv', ...FIELDS, '--watch', '-o', 'theirs.csv', '--emulator'], { cwd: d });
  assert.equal(theirs.code, 2);
  assert.match(theirs.stderr, /the file exists and was not written by tg; not replacing it\ntg: hint: .*add --force to `tg submit --watch`/);
  const input = await runInProcess(['submit', 'companies.csv', ...FIELDS, '--watch', '-o', 'companies.csv', '--emulator', '--force'], { cwd: d });
  assert.equal(input.code, 2);
  assert.match(input.stderr, /is the input itself; tg never replaces its input/);
  const jsonl = await runInProcess(['submit', 'companies.csv', ...FIELDS, '--watch', '-o', 'r.jsonl', '--retry-failed', '--emulator'], { cwd: d });
  assert.equal(jsonl.code, 2);
  assert.match(jsonl.stderr, /--retry-failed\/--retry-cancelled with --watch write an enriched CSV/);
  assert.equal(readFileSync(path.join(d, 'theirs.csv'), 'utf8'), readFileSync(fixture('companies.csv'), 'utf8'));
  // --force is for an enriched CSV; a JSONL results file is resumed, never replaced
  const jsonlForce = await runInProcess(['submit', 'companies.csv', ...FIELDS, '--watch', '-o', 'r.jsonl', '--emulator', '--force'], { cwd: d });
  assert.equal(jsonlForce.code, 2);
  assert.match(jsonlForce.stderr, /--force goes with --watch -o <file>\.csv/);
  // the user says so: --force replaces theirs.csv (never the input, above)
  const forced = await runInProcess(['submit', 'companies.csv', ...FIELDS, '--watch', '-o', 'theirs.csv', '--emulator', '--force'], { cwd: d });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(readFileSync(path.join(d, 'theirs.csv'), 'utf8'), /^company_name,.*,tg_run_id\n/);
});

test('--retry-failed and --retry-cancelled without --watch: each such row once, a rerun sends nothing', async () => {
  const e = await emulator({ failRate: 0.15, cancelRate: 0.15, latencyMs: [10, 30], seed: 9 });
  try {
    const d = withFixture('companies.csv');
    const base = ['submit', 'companies.csv', ...FIELDS, '--base-url', e.url];
    const first = await runInProcess([...base, '--json'], { cwd: d });
    assert.equal(first.code, 0, first.stderr);
    const group = JSON.parse(first.stdout).taskgroup_id;
    await runInProcess(['status', group, '--wait', '--base-url', e.url], { cwd: d });
    const runs = await groupRuns(e.url, group);
    const failed = runs.filter((r) => r.run.status === 'failed').length;
    const cancelled = runs.filter((r) => r.run.status === 'cancelled').length;
    assert.ok(failed > 0 && cancelled > 0, `seeded faults: ${failed} failed, ${cancelled} cancelled`);
    const retry = await runInProcess([...base, '--retry-failed'], { cwd: d });
    assert.equal(retry.code, 0, retry.stderr);
    assert.equal(e.stats.runsCreated, 60 + failed);
    assert.equal((await runInProcess([...base, '--retry-failed'], { cwd: d })).code, 0);
    assert.equal(e.stats.runsCreated, 60 + failed, 'the retries are in the group: not sent again');
    const cancel = await runInProcess([...base, '--retry-cancelled'], { cwd: d });
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal(e.stats.runsCreated, 60 + failed + cancelled);
    const tries = (await groupRuns(e.url, group)).filter((r) => r.run.metadata.tg_try === 2);
    assert.equal(tries.length, failed + cancelled);
    assert.ok(tries.every((r) => typeof r.run.metadata.tg_prev === 'string' && r.run.metadata.tg_prev.startsWith('trun_')));
    const plain = await runInProcess([...base, '--json'], { cwd: d });
    assert.equal(JSON.parse(plain.stdout).submitted, 0, 'a plain rerun lists the group and sends nothing');
    assert.doesNotMatch(plain.stderr, /sent more than once/, 'retries are not duplicates');
  } finally {
    await e.close();
  }
});

test("the README's first command runs twice in a row: the enriched CSV of fixtures/, replaced by tg", async () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const line = /```sh\nnpm ci && npm run build && \.\/bin\/tg (.*)\n/.exec(readme)?.[1] ?? '';
  const args = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
  assert.deepEqual(args.slice(0, 2), ['submit', 'fixtures/companies.csv'], line);
  assert.ok(args.includes('--emulator') && args.at(-1) === 'enriched.csv', line);
  const d = tmp();
  mkdirSync(path.join(d, 'fixtures'));
  copyFileSync(fixture('companies.csv'), path.join(d, 'fixtures', 'companies.csv'));
  for (const round of [1, 2]) {
    const r = await runTg([...args, '-q'], { cwd: d, env: { TG_STATE_DIR: path.join(d, 'state') } });
    assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
    const rows = /** @type {any[]} */ (parse(readFileSync(path.join(d, 'enriched.csv'), 'utf8'), { columns: true }));
    assert.equal(rows.length, 60, `round ${round}`);
    assert.ok(rows.every((r) => r.tg_status === 'completed' && r.ceo_name && r.founded_year_citations));
  }
});

test('--retry-failed exactly once through lost responses and a SIGKILL mid-retry', async (t) => {
  const seed = 21;
  t.diagnostic(`emulator seed ${seed}`);
  const e = await emulator({ failRate: 0.3, latencyMs: [10, 30], rateLimit: null, seed });
  try {
    const d = tmp();
    makeCsv(d, 200);
    const base = ['submit', 'rows.csv', '--field', 'summary: one line', '--batch-size', '20', '--rate', 'off', '--base-url', e.url];
    const first = await runInProcess([...base, '--json'], { cwd: d });
    assert.equal(first.code, 0, first.stderr);
    const group = JSON.parse(first.stdout).taskgroup_id;
    await runInProcess(['status', group, '--wait', '--base-url', e.url], { cwd: d });
    const failed = (await groupRuns(e.url, group)).filter((r) => r.run.status === 'failed').length;
    assert.ok(failed > 40, `${failed} failed`);
    e.setFaults({ loseResponses: 0.5 });
    const killed = await runTg([...base, '--retry-failed'], { cwd: d, killWhen: () => e.stats.runsCreated >= 200 + 20 });
    t.diagnostic(killed.signal === 'SIGKILL' ? 'killed mid-retry' : `the retry ended first (${killed.code})`);
    const done = await runInProcess([...base, '--retry-failed'], { cwd: d });
    assert.equal(done.code, 0, done.stderr);
    assert.ok(e.stats.responsesLost > 0, 'responses were lost');
    const runs = await groupRuns(e.url, group);
    const retries = runs.filter((r) => r.run.metadata.tg_try === 2);
    assert.equal(retries.length, failed, 'each failed row sent again once');
    assert.equal(new Set(retries.map((r) => r.run.metadata.tg_key)).size, failed);
    assert.equal(runs.length, 200 + failed);
  } finally {
    await e.close();
  }
});
