// The bill before the work: --dry-run with the cost, a --limit canary then the rest exactly once,
// --max-cost (only rows the group lacks count), and the question on a terminal above $50.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { emulator, fixture, groupRuns, runInProcess, tg, KEY, withFixture } from './helpers.mjs';

const FIELDS = ['--field', 'ceo_name: full name of the current CEO', '--field', 'founded_year:int: year the company was founded'];

test('--dry-run prints the cost; --limit 10 sends a canary, the same command without it the rest, once', async () => {
  const e = await emulator({ latencyMs: [10, 20] });
  try {
    const d = withFixture('companies.csv');
    const base = ['submit', 'companies.csv', ...FIELDS, '--base-url', e.url];
    const dry = await runInProcess([...base, '--dry-run'], { cwd: d });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^to send {6}60$/m);
    assert.match(dry.stdout, /^cost {9}\$0\.60 \(60 runs × \$10\.00\/1,000 on base, price table of 2026\)$/m);
    assert.match(dry.stdout, /^spec {9}--field ceo_name, founded_year$/m);
    const json = JSON.parse((await runInProcess([...base, '--dry-run', '--json', '--processor', 'pro-fast', '--limit', '10'], { cwd: d })).stdout);
    assert.deepEqual([json.to_send, json.price_per_1k_usd, json.estimated_cost_usd], [10, 100, 1]);
    assert.equal(e.stats.requests, 0, 'a dry run makes no request');

    const canary = await runInProcess([...base, '--limit', '10', '--json'], { cwd: d });
    assert.equal(canary.code, 0, canary.stderr);
    assert.match(canary.stderr, /10 rows sent, 50 past --limit 10/);
    assert.equal(e.stats.runsCreated, 10);
    assert.equal((await runInProcess([...base, '--limit', '10'], { cwd: d })).code, 0);
    assert.equal(e.stats.runsCreated, 10, 'the same canary again sends nothing');
    assert.match((await runInProcess([...base, '--dry-run'], { cwd: d })).stdout, /^to send {6}50; 10 in the group already$/m);
    const rest = await runInProcess(base, { cwd: d });
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stderr, /50 rows sent, 10 already in the group/);
    const runs = await groupRuns(e.url, JSON.parse(canary.stdout).taskgroup_id);
    assert.deepEqual(
      runs.map((r) => Number(r.run.metadata.tg_key)).sort((a, b) => a - b),
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    // another processor: the group holds these rows with other content; the dry run refuses as the run would
    const posts = e.stats.addRunsPosts;
    const changed = await runInProcess([...base, '--processor', 'pro', '--dry-run'], { cwd: d });
    assert.equal(changed.code, 2, changed.stderr);
    assert.match(changed.stderr, /60 rows of companies\.csv differ from the runs the group holds for the same key; nothing was sent/);
    assert.equal((await runInProcess([...base, '--processor', 'pro'], { cwd: d })).code, 2);
    assert.equal(e.stats.addRunsPosts, posts, 'neither sent anything');
    // --restart sends every row into a new group: so says its dry run
    const restart = await runInProcess([...base, '--processor', 'pro', '--dry-run', '--restart'], { cwd: d });
    assert.equal(restart.code, 0, restart.stderr);
    assert.match(restart.stdout, /^to send {6}60$/m);
    assert.match(restart.stdout, /^group {8}\(a new group\)$/m);
    // a --group that does not exist: the dry run fails as the run does
    const other = await runInProcess([...base, '--dry-run', '--group', 'tgrp_other'], { cwd: d });
    const real = await runInProcess([...base, '--group', 'tgrp_other'], { cwd: d });
    assert.equal(other.code, 2, other.stderr);
    assert.equal(real.code, 2, real.stderr);
    assert.match(other.stderr, /^tg: GET \/v1\/tasks\/groups\/tgrp_other → 404: TaskGroup not found/);
    // a --state journal of another group than --group: the same usage error, dry or not
    const group = JSON.parse(canary.stdout).taskgroup_id;
    const st = await runInProcess([...base, '--state', 's.jsonl', '--limit', '1', '--json'], { cwd: d });
    assert.equal(st.code, 0, st.stderr);
    const stGroup = JSON.parse(st.stdout).taskgroup_id;
    for (const dry of [['--dry-run'], []]) {
      const r = await runInProcess([...base, '--state', 's.jsonl', '--group', group, ...dry], { cwd: d });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^tg: the journal .*s\\.jsonl belongs to group ${stGroup}, not ${group}`));
    }
    assert.equal(e.stats.addRunsPosts, posts + 1, 'only the --state canary was sent');
  } finally {
    await e.close();
  }
});

test('--max-cost refuses before anything is sent; rows the group holds cost nothing; --field with --spec is a usage error', async () => {
  const e = await emulator({ latencyMs: [10, 20] });
  try {
    const d = withFixture('companies.csv');
    const base = ['submit', 'companies.csv', ...FIELDS, '--processor', 'ultra8x', '--base-url', e.url];
    const r = await runInProcess([...base, '--max-cost', '100'], { cwd: d });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the 60 rows to send would cost about \$144\.00, over --max-cost \$100\.00; nothing was sent/);
    assert.equal(e.stats.requests, 0);
    const ok = await runInProcess([...base, '--max-cost', '150'], { cwd: d });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(e.stats.runsCreated, 60);
    const posts = e.stats.addRunsPosts;
    const resume = await runInProcess([...base, '--max-cost', '1'], { cwd: d });
    assert.equal(resume.code, 0, `rows in the group already cost nothing: ${resume.stderr}`);
    assert.equal(e.stats.addRunsPosts, posts);
    const dry = await runInProcess(['submit', 'companies.csv', '--processor', 'ultra', '--max-cost', '$5', '--dry-run'], { cwd: withFixture('companies.csv') });
    assert.equal(dry.code, 2, 'a dry run over the cap says so with exit 2');
    assert.match(dry.stdout, /^cost {9}\$18\.00/m);
    const both = await runInProcess(['submit', 'companies.csv', ...FIELDS, '--spec', fixture('company-spec.json')], { cwd: d });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--field and --spec cannot go together/);
    const bad = await runInProcess(['submit', 'companies.csv', '--field', 'x:integer: y'], { cwd: d });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--field "x:integer: y": unknown type "integer"/);
  } finally {
    await e.close();
  }
});

/** run() with a terminal on stdin and stderr, answering `answer` to a question. */
async function onTerminal(argv, cwd, answer) {
  let stderr = '';
  const io = {
    stdout: new Writable({ write: (_c, _e, cb) => cb() }),
    stderr: new Writable({
      write(c, _e, cb) {
        stderr += c;
        cb();
      },
    }),
    stdin: Readable.from([answer]),
    stderrIsTTY: true,
    stdinIsTTY: true,
    env: { PARALLEL_API_KEY: KEY, NO_COLOR: '1', TG_STATE_DIR: path.join(cwd, '.tg') },
    cwd,
  };
  return { code: await tg.run(['--quiet', ...argv], io), stderr };
}

test('above $50 a terminal asks (--yes skips); without a terminal tg goes ahead and says so', async () => {
  const e = await emulator({ latencyMs: [10, 20] });
  try {
    const args = ['submit', 'companies.csv', ...FIELDS, '--price-per-1k', '1000', '--base-url', e.url];
    const d = withFixture('companies.csv');
    const no = await onTerminal(args, d, 'n\n');
    assert.equal(no.code, 2);
    assert.match(no.stderr, /send 60 runs for about \$60\.00\? \[y\/N\]/);
    assert.match(no.stderr, /not confirmed; nothing was sent/);
    assert.equal(e.stats.runsCreated, 0);
    const yes = await onTerminal(args, d, 'y\n');
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal(e.stats.runsCreated, 60);
    const skip = await onTerminal([...args, '--yes'], withFixture('companies.csv'), '');
    assert.equal(skip.code, 0, skip.stderr);
    assert.doesNotMatch(skip.stderr, /\[y\/N\]/);
    const piped = await runInProcess(args, { cwd: withFixture('companies.csv') });
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stderr, /over \$50\.00 and no terminal to ask on: going ahead \(cap it with --max-cost\)/);
    assert.equal(e.stats.runsCreated, 180);
  } finally {
    await e.close();
  }
});
