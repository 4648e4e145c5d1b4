// --escalate (issue L4): the rows whose answer has a field at low confidence (--escalate-on medium:
// low or medium) are asked again, once, on a stronger processor, as retries are (tg_try, tg_prev,
// tg_esc and the row's own tg_sha); a rerun escalates nothing; --max-cost caps the whole job. The
// emulator's answers and their confidences come from its seed (printed); the expected rows are
// computed here from the first runs' own outputs, never from tg's code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { emulator, groupRuns, makeCsv, runInProcess, runTg, tmp, withFixture, KEY } from './helpers.mjs';

const FIELDS = ['--field', 'ceo_name: full name of the current CEO', '--field', 'founded_year:int: year the company was founded'];
const RANK = { low: 0, medium: 1, high: 2 };

/** The lowest confidence of an answer's top-level fields. */
function lowest(output) {
  const keys = new Set(Object.keys(output?.content ?? {}));
  let low = null;
  for (const b of output?.basis ?? []) if (keys.has(b.field) && b.confidence in RANK && (low === null || RANK[b.confidence] < RANK[low])) low = b.confidence;
  return low;
}

/** The group's runs: the first attempts by tg_key, and every run by tg_key. */
async function runsByRow(url, group) {
  const runs = await groupRuns(url, group, KEY, { output: true });
  const first = new Map();
  const all = new Map();
  for (const r of runs) {
    const k = r.run.metadata.tg_key;
    if (!r.run.metadata.tg_try) first.set(k, r);
    all.set(k, [...(all.get(k) ?? []), r]);
  }
  return { runs, first, all };
}

/** Rows (tg_key) whose first answer is at or below `level`. */
const atOrBelow = (first, level) => [...first].filter(([, r]) => RANK[lowest(r.output)] <= RANK[level]).map(([k]) => k);

const count = (runs, f) => runs.filter(f).length;
/** @param {string} file @returns {any[]} */
const readCsv = (file) => parse(readFileSync(file, 'utf8'), { columns: true });

test('--escalate core --watch -o: exactly the low-confidence rows once, on core; the table shows them; a rerun escalates nothing', async (t) => {
  const seed = 4;
  t.diagnostic(`emulator seed ${seed}`);
  const e = await emulator({ seed, latencyMs: [5, 20] });
  try {
    const d = withFixture('companies.csv');
    const base = ['submit', 'companies.csv', ...FIELDS, '--base-url', e.url];
    const esc = [...base, '--escalate', 'core', '--watch', '-o', 'enriched.csv'];

    // The bill: the worst case, every row escalated.
    const dry = await runInProcess([...esc, '--dry-run'], { cwd: d });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /^escalate {5}up to \$1\.50 more if every row escalates to core \(60 runs × \$25\.00\/1,000\); rows with an answer at low confidence/m,
    );
    const dryJson = JSON.parse((await runInProcess([...esc, '--dry-run', '--json', '--max-cost', '1'], { cwd: d })).stdout);
    assert.deepEqual(
      dryJson.escalate,
      { processor: 'core', on: 'low', rows: 60, worst_case_usd: 1.5, max_usd: 0.4 },
      '--max-cost $1 less the $0.60 of base runs',
    );
    assert.equal(e.stats.requests, 0, 'a dry run sends nothing');

    const r = await runInProcess([...esc, '--json'], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const group = out.taskgroup_id;
    const { runs, first, all } = await runsByRow(e.url, group);
    const low = atOrBelow(first, 'low');
    t.diagnostic(`${low.length} of 60 first answers have a field at low confidence`);
    assert.ok(low.length > 5 && low.length < 55, `a seed with some of each: ${low.length}`);
    assert.equal(first.size, 60);
    assert.equal(runs.length, 60 + low.length, 'one more run per low-confidence row, none for the others');
    assert.equal(
      count(runs, (x) => x.run.processor === 'core'),
      low.length,
    );
    assert.equal(
      count(runs, (x) => x.run.processor === 'base'),
      60,
    );
    for (const k of first.keys()) {
      const rs = all.get(k);
      if (!low.includes(k)) {
        assert.equal(rs.length, 1, `row ${k}: confident, asked once`);
        continue;
      }
      assert.equal(rs.length, 2, `row ${k}: escalated once`);
      const [a, b] = rs[0].run.metadata.tg_try ? [rs[1], rs[0]] : rs;
      assert.equal(b.run.processor, 'core');
      assert.deepEqual(
        [b.run.metadata.tg_try, b.run.metadata.tg_prev, b.run.metadata.tg_esc, b.run.metadata.tg_sha],
        [2, a.run.run_id, 'low', a.run.metadata.tg_sha],
        `row ${k}: tg_try, tg_prev, tg_esc and the row's own digest`,
      );
    }
    const [cost, after] = [(low.length * 25) / 1000, 0.6 + (low.length * 25) / 1000];
    const usd = (x) => `\\$${(Math.round(x * 100) / 100).toFixed(2)}`;
    assert.match(
      r.stderr,
      new RegExp(`${low.length} of 60 rows have an answer with a field at low confidence; escalating them to core: estimated ${usd(cost)}`),
    );
    assert.match(r.stderr, new RegExp(`escalated ${low.length} of 60 rows to core: ${usd(cost)}; the job \\$0\\.60 before, ${usd(after)} after`));
    assert.equal(out.escalated, low.length);
    assert.equal(out.cost_usd, Math.round(after * 1e6) / 1e6);

    // The table: each row's latest answer, and which processor gave it.
    const rows = readCsv(path.join(d, 'enriched.csv'));
    assert.deepEqual(Object.keys(rows[0]).slice(-4), ['tg_status', 'tg_error', 'tg_run_id', 'tg_processor']);
    rows.forEach((row, i) => {
      const k = String(i + 1);
      const latest = all.get(k).find((x) => x.run.metadata.tg_try === 2) ?? first.get(k);
      assert.equal(row.tg_run_id, latest.run.run_id, `row ${k}`);
      assert.equal(row.tg_processor, low.includes(k) ? 'core' : 'base', `row ${k}`);
      assert.equal(row.ceo_name, latest.output.content.ceo_name, `row ${k}: the escalated answer`);
      assert.equal(row.ceo_name_confidence, latest.output.basis.find((b) => b.field === 'ceo_name').confidence);
    });

    // Reruns: the same command, and the plain one, send nothing and escalate nothing.
    const again = await runInProcess([...esc, '--json'], { cwd: d });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(e.stats.runsCreated, 60 + low.length, 'a rerun re-asks nothing');
    assert.match(
      again.stderr,
      new RegExp(
        `nothing to escalate among the 60 rows: ${60 - low.length} answered with no field at low confidence; ${low.length} escalated before \\(never twice\\)`,
      ),
    );
    assert.deepEqual(readCsv(path.join(d, 'enriched.csv')), rows, 'the same table again');
    const plain = await runInProcess([...base, '--json'], { cwd: d });
    assert.equal(JSON.parse(plain.stdout).submitted, 0);
    assert.doesNotMatch(plain.stderr, /sent more than once|differ from the runs/, 'an escalation is the same row: no duplicate, no conflict');
    assert.equal(e.stats.runsCreated, 60 + low.length);

    // fetch --join: the group's runs used two processors, so it says which answered each row.
    const joined = await runInProcess(['fetch', group, '--join', 'companies.csv', '--base-url', e.url], { cwd: d });
    assert.equal(joined.code, 0, joined.stderr);
    assert.deepEqual(parse(joined.stdout, { columns: true }), rows);

    // --escalate-on medium widens to the rows whose first answer's lowest field is medium; the
    // rows escalated already are never escalated again.
    const medium = atOrBelow(first, 'medium').filter((k) => !low.includes(k));
    assert.ok(medium.length > 0, `${medium.length} rows at medium`);
    const wide = await runInProcess([...esc, '--escalate-on', 'medium'], { cwd: d });
    assert.equal(wide.code, 0, wide.stderr);
    const later = await runsByRow(e.url, group);
    assert.equal(later.runs.length, 60 + low.length + medium.length);
    const widened = later.runs.filter((x) => x.run.metadata.tg_esc === 'medium');
    assert.deepEqual(widened.map((x) => x.run.metadata.tg_key).sort(), [...medium].sort());
    assert.ok(widened.every((x) => x.run.processor === 'core' && x.run.metadata.tg_try === 2));
    assert.equal((await runInProcess([...esc, '--escalate-on', 'medium'], { cwd: d })).code, 0);
    assert.equal(e.stats.runsCreated, 60 + low.length + medium.length, 'and once only');
  } finally {
    await e.close();
  }
});

test('--escalate without --watch: the rows answered so far; --max-cost caps the whole job, low confidence first', async (t) => {
  const seed = 11;
  t.diagnostic(`emulator seed ${seed}`);
  const e = await emulator({ seed, latencyMs: [5, 20] });
  try {
    const d = withFixture('companies.csv');
    const base = ['submit', 'companies.csv', ...FIELDS, '--base-url', e.url];
    const first = await runInProcess([...base, '--json'], { cwd: d });
    assert.equal(first.code, 0, first.stderr);
    const group = JSON.parse(first.stdout).taskgroup_id;
    assert.equal((await runInProcess(['status', group, '--wait', '--base-url', e.url], { cwd: d })).code, 0);
    const { first: firsts } = await runsByRow(e.url, group);
    const low = atOrBelow(firsts, 'low');
    const medium = atOrBelow(firsts, 'medium').filter((k) => !low.includes(k));
    t.diagnostic(`${low.length} rows at low, ${medium.length} at medium`);
    assert.ok(low.length > 10 && medium.length > 0);

    // $0.60 of base runs; --max-cost $0.85 leaves $0.25: 10 runs on core, all of them rows at low
    // confidence (before any at medium), in input order.
    const capped = await runInProcess([...base, '--escalate', 'core', '--escalate-on', 'medium', '--max-cost', '0.85', '--json'], { cwd: d });
    assert.equal(capped.code, 0, capped.stderr);
    const n = low.length + medium.length;
    assert.match(
      capped.stderr,
      new RegExp(
        `--max-cost \\$0\\.85: the job so far costs \\$0\\.60, leaving \\$0\\.25: ${n - 10} rows of the ${n} to escalate are not \\(10 fit, at low confidence first\\)`,
      ),
    );
    assert.match(capped.stderr, /escalated 10 of 60 rows to core: \$0\.25; the job \$0\.60 before, \$0\.85 after/);
    assert.deepEqual(JSON.parse(capped.stdout), {
      taskgroup_id: group,
      submitted: 0,
      skipped: 60,
      rejected: 0,
      repeats: 0,
      processor: 'base',
      estimated_cost_usd: 0,
      escalated: 10,
      cost_usd: 0.85,
    });
    let runs = (await runsByRow(e.url, group)).runs.filter((x) => x.run.metadata.tg_esc);
    assert.deepEqual(
      runs.map((x) => x.run.metadata.tg_key),
      low.slice(0, 10),
    );
    assert.ok(runs.every((x) => x.run.metadata.tg_esc === 'low'));

    // The same cap again: the job has spent it (its escalations count); nothing more.
    const spent = await runInProcess([...base, '--escalate', 'core', '--escalate-on', 'medium', '--max-cost', '0.85'], { cwd: d });
    assert.equal(spent.code, 0, spent.stderr);
    assert.match(spent.stderr, /leaving \$0\.00: \d+ rows of the \d+ to escalate are not \(none fits\)/);
    assert.equal(e.stats.runsCreated, 70);

    // Without the cap: the rest, each once; a rerun nothing.
    const rest = await runInProcess([...base, '--escalate', 'core', '--escalate-on', 'medium'], { cwd: d });
    assert.equal(rest.code, 0, rest.stderr);
    assert.equal(e.stats.runsCreated, 60 + n);
    assert.equal((await runInProcess([...base, '--escalate', 'core', '--escalate-on', 'medium'], { cwd: d })).code, 0);
    assert.equal(e.stats.runsCreated, 60 + n, 'a rerun re-asks nothing');
    runs = (await runsByRow(e.url, group)).runs.filter((x) => x.run.metadata.tg_esc);
    assert.deepEqual(runs.map((x) => x.run.metadata.tg_key).sort(), [...low, ...medium].sort());
    // tg status speaks of them
    const st = await runInProcess(['status', group, '--json', '--base-url', e.url], { cwd: d });
    assert.equal(JSON.parse(st.stdout).escalations, n);
  } finally {
    await e.close();
  }
});

test('--escalate without --watch right after sending: only completed answers are escalated', async (t) => {
  const seed = 5;
  t.diagnostic(`emulator seed ${seed}`);
  const e = await emulator({ seed, latencyMs: [60_000, 60_000] }); // nothing finishes during the first command
  try {
    const d = withFixture('companies.csv');
    const cmd = ['submit', 'companies.csv', ...FIELDS, '--base-url', e.url, '--escalate', 'core'];
    const r = await runInProcess(cmd, { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /nothing to escalate among the 60 rows: 60 not answered yet: the same command escalates them later\n/);
    assert.equal(e.stats.runsCreated, 60);
  } finally {
    await e.close();
  }
});

test('a failed escalation is retried on its own processor, as an escalation', async (t) => {
  const seed = 8;
  t.diagnostic(`emulator seed ${seed}`);
  const e = await emulator({ seed, latencyMs: [5, 20], failRate: 0.25 });
  try {
    const d = withFixture('companies.csv');
    const cmd = ['submit', 'companies.csv', ...FIELDS, '--base-url', e.url, '--escalate', 'core', '--retry-failed', '--max-attempts', '4'];
    const r = await runInProcess([...cmd, '--watch', '-o', 'enriched.csv'], { cwd: d });
    const group = String(/tgrp_\w+/.exec(r.stderr)?.[0]);
    const runs = await groupRuns(e.url, group, KEY, { output: true });
    const byId = new Map(runs.map((x) => [x.run.run_id, x]));
    const retriesOfEsc = runs.filter((x) => x.run.metadata.tg_prev && byId.get(x.run.metadata.tg_prev).run.metadata.tg_esc);
    t.diagnostic(`${retriesOfEsc.length} retries of failed escalations; exit ${r.code}`);
    assert.ok(retriesOfEsc.length > 0, 'the seed fails some escalations');
    for (const x of retriesOfEsc) {
      const prev = byId.get(x.run.metadata.tg_prev);
      assert.equal(prev.run.status, 'failed');
      assert.equal(x.run.processor, 'core');
      assert.equal(x.run.metadata.tg_esc, prev.run.metadata.tg_esc);
      assert.equal(x.run.metadata.tg_try, prev.run.metadata.tg_try + 1);
    }
    // No row is escalated twice (an escalation's retry is not a new escalation).
    const escByRow = new Map();
    for (const x of runs)
      if (x.run.metadata.tg_esc && !byId.get(x.run.metadata.tg_prev)?.run.metadata.tg_esc)
        escByRow.set(x.run.metadata.tg_key, (escByRow.get(x.run.metadata.tg_key) ?? 0) + 1);
    assert.ok([...escByRow.values()].every((v) => v === 1));
    // Every row ended completed or after --max-attempts: a rerun sends nothing, escalates nothing.
    const before = e.stats.runsCreated;
    const again = await runInProcess([...cmd, '--watch', '-o', 'enriched.csv'], { cwd: d });
    assert.equal(again.code, r.code, again.stderr);
    assert.equal(e.stats.runsCreated, before);
    const table = readCsv(path.join(d, 'enriched.csv'));
    assert.ok(table.some((x) => x.tg_processor === 'core'));
  } finally {
    await e.close();
  }
});

test('--escalate exactly once through lost responses and a SIGKILL mid-escalation', async (t) => {
  const seed = 23;
  t.diagnostic(`emulator seed ${seed}`);
  const e = await emulator({ seed, latencyMs: [5, 20], rateLimit: null });
  try {
    const d = tmp();
    makeCsv(d, 200);
    const base = [
      'submit',
      'rows.csv',
      '--field',
      'summary: one line',
      '--field',
      'employees:int: head count',
      '--batch-size',
      '10',
      '--rate',
      'off',
      '--base-url',
      e.url,
    ];
    const first = await runInProcess([...base, '--json'], { cwd: d });
    assert.equal(first.code, 0, first.stderr);
    const group = JSON.parse(first.stdout).taskgroup_id;
    await runInProcess(['status', group, '--wait', '--base-url', e.url], { cwd: d });
    const { first: firsts } = await runsByRow(e.url, group);
    const low = atOrBelow(firsts, 'low');
    t.diagnostic(`${low.length} of 200 rows at low confidence`);
    assert.ok(low.length > 40, `${low.length}`);
    e.setFaults({ loseResponses: 0.5 });
    const killed = await runTg([...base, '--escalate', 'core'], { cwd: d, killWhen: () => e.stats.runsCreated >= 200 + 20 });
    t.diagnostic(killed.signal === 'SIGKILL' ? 'killed mid-escalation' : `the escalation ended first (${killed.code})`);
    const done = await runInProcess([...base, '--escalate', 'core'], { cwd: d });
    assert.equal(done.code, 0, done.stderr);
    assert.ok(e.stats.responsesLost > 0, 'responses were lost');
    const runs = await groupRuns(e.url, group);
    const esc = runs.filter((r) => r.run.metadata.tg_esc);
    assert.equal(esc.length, low.length, 'each low-confidence row escalated once');
    assert.deepEqual(esc.map((r) => r.run.metadata.tg_key).sort(), [...low].sort());
    assert.ok(esc.every((r) => r.run.processor === 'core' && r.run.metadata.tg_try === 2));
    assert.equal(runs.length, 200 + low.length);
  } finally {
    await e.close();
  }
});

test('--escalate usage errors: exit 2, nothing sent', async () => {
  const e = await emulator();
  try {
    const d = withFixture('companies.csv');
    const base = ['submit', 'companies.csv', ...FIELDS, '--base-url', e.url];
    /** @type {[string[], RegExp][]} */
    const cases = [
      [['--escalate', 'base'], /--escalate base is the job's own processor/],
      [['--processor', 'core', '--escalate', 'core'], /--escalate core is the job's own processor/],
      [['--escalate', 'cor'], /--escalate "cor" is not a processor the API lists/],
      [['--escalate-on', 'medium'], /--escalate-on goes with --escalate/],
      [['--escalate', 'core', '--watch', '-o', 'r.jsonl'], /--escalate with --watch writes an enriched table/],
      [['--escalate', 'core', '--watch'], /--escalate with --watch writes an enriched table/],
      [['--escalate', 'newproc', '--unlisted-processor', '--max-cost', '5'], /--max-cost: no price is known for --escalate newproc/],
    ];
    for (const [args, re] of cases) {
      const r = await runInProcess([...base, ...args], { cwd: d });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    const bad = await runInProcess([...base, '--escalate', 'core', '--escalate-on', 'high'], { cwd: d });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--escalate-on.*Allowed choices are low, medium/);
    assert.equal(e.stats.requests, 0);
  } finally {
    await e.close();
  }
});
