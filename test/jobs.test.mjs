// `tg jobs` (issue L6): the jobs of this machine's journals, each with its group's progress and
// cost so far. Three jobs on one emulator — one finished, one stopped part-way (out of credit),
// one with failed runs — listed piped (tab-separated), as JSON Lines and as a terminal table;
// then journals of another API, of a group that is gone, damaged ones, and groups that cannot be
// asked. Every number is checked against the group itself (GET /v1/tasks/groups/{id}).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { emulator, makeCsv, runInProcess, tg, tmp, KEY } from './helpers.mjs';

/** @param {string} url @param {string} id */
async function group(url, id) {
  const r = await fetch(`${url}/v1/tasks/groups/${id}`, { headers: { 'x-api-key': KEY } });
  return r.json();
}

/** tg run in-process with stdout a terminal (what a person sees). @param {string[]} argv @param {string} cwd @param {Record<string,string>} env */
async function onTerminal(argv, cwd, env) {
  let stdout = '';
  let stderr = '';
  const sink = (/** @type {(s: string) => void} */ add) => Object.assign(new Writable({ write: (c, _e, cb) => (add(String(c)), cb()) }), { columns: 250 });
  const code = await tg.run(argv, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    stderrIsTTY: false,
    stdoutIsTTY: true,
    env: { PARALLEL_API_KEY: KEY, TG_STATE_DIR: path.join(cwd, '.tg'), ...env },
    cwd,
  });
  return { code, stdout, stderr };
}

test('tg jobs: a finished job, one stopped part-way, one with failures — piped, --json and on a terminal', async (t) => {
  const seed = 5;
  t.diagnostic(`emulator seed ${seed}`);
  const e = await emulator({ latencyMs: [5, 20], failRate: 0.3, seed });
  try {
    const d = tmp();
    const env = { PARALLEL_BASE_URL: e.url };
    const a = makeCsv(d, 5);
    const c = path.join(d, 'twenty.csv');
    // other rows than A's: a file holding A's rows would continue A's group (issue L: a job is found again by its content)
    writeFileSync(c, readFileSync(makeCsv(tmp(), 20), 'utf8').replaceAll('Company ', 'Firm '));
    const b = path.join(d, 'thirty.csv');
    writeFileSync(b, readFileSync(makeCsv(tmp(), 30)));
    // A: 5 rows, waited for; C: 20 rows with failed runs (30% fail), waited for
    for (const f of [a, c]) {
      const r = await runInProcess(['submit', f, '--field', 'ceo: the CEO', '--watch', '-q'], { cwd: d, env });
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
    }
    // B: 30 rows in batches of 10 with credit for 10 more runs: the second POST gets 402, exit 3
    e.setFaults({ creditLimit: e.stats.creditUsed + 10 });
    const stopped = await runInProcess(['submit', b, '--batch-size', '10', '--concurrency', '1', '--processor', 'core', '-q'], { cwd: d, env });
    assert.equal(stopped.code, 3, stopped.stderr);
    const posts = e.stats.requests;

    const piped = await runInProcess(['jobs'], { cwd: d, env });
    assert.equal(piped.code, 0, piped.stderr);
    const lines = piped.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, piped.stdout);
    assert.ok(e.stats.requests - posts <= 3, 'one GET per group');
    const cols = lines.map((l) => l.split('\t'));
    assert.ok(
      cols.every((c) => c.length === 11),
      'eleven tab-separated columns, no header',
    );
    // newest activity first: B, then C, then A
    assert.deepEqual(
      cols.map((c) => path.basename(c[0])),
      ['thirty.csv', 'twenty.csv', path.basename(a)],
    );
    const [cb, cc, ca] = cols;
    const [ga, gc] = [await group(e.url, ca[1]), await group(e.url, cc[1])];
    // A: finished, every number the group's; cost = completed × $10/1000 (base)
    assert.equal(ca[2], 'finished');
    assert.deepEqual(ca.slice(3, 8), [
      '5',
      '5',
      String(ga.status.task_run_status_counts.completed ?? 0),
      String(ga.status.task_run_status_counts.failed ?? 0),
      '0',
    ]);
    assert.equal(Number(ca[8]), ((ga.status.task_run_status_counts.completed ?? 0) * 10) / 1000);
    // C: finished with failed runs, which are counted apart and not priced
    const failedC = gc.status.task_run_status_counts.failed ?? 0;
    assert.ok(failedC > 0, `seed ${seed}: some of C's runs failed`);
    assert.equal(cc[2], 'finished');
    assert.deepEqual(cc.slice(3, 8), ['20', '20', String(gc.status.task_run_status_counts.completed), String(failedC), '0']);
    assert.equal(Number(cc[8]), (gc.status.task_run_status_counts.completed * 10) / 1000);
    assert.match(cc[10], new RegExp(`^${failedC} runs? failed: tg submit … --retry-failed`));
    // B: interrupted after 10 rows; its rows a lower bound (the batches it reached); core's price
    assert.equal(cb[2], 'interrupted');
    assert.deepEqual(cb.slice(3, 5), ['20', '10']);
    assert.match(cb[10], /the last run stopped with 10 rows in a POST whose outcome it did not record; rerun the same tg submit/);
    assert.match(piped.stderr, /tg: cost so far \$0\.\d+ over 3 groups .*failed runs? and 0 cancelled runs not counted/);

    const json = await runInProcess(['jobs', '--json'], { cwd: d, env });
    assert.equal(json.code, 0, json.stderr);
    const jobs = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(jobs.length, 3, 'JSON Lines: one object per job');
    const [jb, jc, ja] = jobs;
    assert.equal(ja.input, a);
    assert.deepEqual(
      { state: ja.state, rows: ja.rows, rows_exact: ja.rows_exact, sent: ja.sent, runs: ja.runs, processor: ja.processor, active: ja.active },
      { state: 'finished', rows: 5, rows_exact: true, sent: 5, runs: 5, processor: 'base', active: false },
    );
    assert.deepEqual(ja.counts, ga.status.task_run_status_counts);
    assert.equal(jc.failed, failedC);
    assert.equal(jc.cost_usd, (jc.completed * 10) / 1000);
    assert.equal(jb.state, 'interrupted');
    assert.equal(jb.processor, 'core');
    assert.equal(jb.price_per_1k_usd, 25);
    assert.deepEqual(
      { rows: jb.rows, rows_exact: jb.rows_exact, sent: jb.sent, pending: jb.pending, runs: jb.runs },
      { rows: 20, rows_exact: false, sent: 10, pending: 10, runs: 10 },
    );
    assert.equal(jb.cost_usd, ((jb.completed ?? 0) * 25) / 1000);
    assert.ok(Date.parse(jb.last_activity) >= Date.parse(jc.last_activity) && Date.parse(jc.last_activity) >= Date.parse(ja.last_activity));

    const term = await onTerminal(['jobs'], d, env);
    assert.equal(term.code, 0, term.stderr);
    t.diagnostic(`tg jobs on a terminal:\n${term.stdout}${term.stderr}`);
    const rows = term.stdout.trimEnd().split('\n');
    assert.match(rows[0], /^INPUT +GROUP +STATE +ROWS +SENT +COMPLETED +FAILED +CANCELLED +COST +ACTIVITY +NOTE$/);
    assert.equal(rows.length, 4);
    assert.match(rows[1], /^thirty\.csv +tgrp_\w+ +interrupted +≥20 +10 /);
    assert.match(rows[2], new RegExp(`^twenty\\.csv +${cc[1]} +finished +20 +20 +\\d+ +${failedC} +0 +\\$0\\.\\d\\d +\\d+s ago +${failedC} runs? failed`));
    assert.match(rows[3], /finished +5 +5 /);

    const limited = await runInProcess(['jobs', '--limit', '1'], { cwd: d, env });
    assert.equal(limited.stdout.trimEnd().split('\n').length, 1);
    assert.match(limited.stderr, /showing the 1 of 3 jobs with the newest activity \(--limit 1\)/);
  } finally {
    await e.close();
  }
});

test('tg jobs: another API, a group that is gone, damaged journals; no key; every request failing', async (t) => {
  const e = await emulator({ latencyMs: [5, 10] });
  try {
    const d = tmp();
    const env = { PARALLEL_BASE_URL: e.url };
    const r = await runInProcess(['submit', makeCsv(d, 3), '-q'], { cwd: d, env });
    assert.equal(r.code, 0, r.stderr);
    const dir = path.join(d, '.tg', 'journals');
    const [real] = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    // A canary (--limit 2 of 6 rows), waited for: partial
    const canaryDir = tmp();
    const canary = await runInProcess(['submit', makeCsv(canaryDir, 6), '--limit', '2', '--watch', '-q'], { cwd: canaryDir, env });
    assert.equal(canary.code, 0, canary.stderr);
    const partial = await runInProcess(['jobs'], { cwd: canaryDir, env });
    assert.match(partial.stdout, /\tpartial\t6\t2\t2\t0\t0\t0\.02\t\S+\t4 rows not sent yet \(--limit\): the same tg submit without --limit sends them\n$/);
    const text = readFileSync(path.join(dir, real), 'utf8');
    writeFileSync(path.join(dir, 'gone.csv-000000000001.jsonl'), text.replace(/tgrp_\w+/g, 'tgrp_nope'));
    writeFileSync(path.join(dir, 'garbage.csv-000000000002.jsonl'), 'not a journal\n');
    writeFileSync(path.join(dir, 'future.csv-000000000003.jsonl'), text.replace('"v":2', '"v":99'));
    writeFileSync(path.join(dir, 'x.csv-000000000004.jsonl.rejects.jsonl'), '{"line":2}\n'); // a rejects file: not a job
    const all = await runInProcess(['jobs', '--json'], { cwd: d, env });
    assert.equal(all.code, 0, all.stderr);
    t.diagnostic(`tg jobs --json:\n${all.stdout}`);
    const byJournal = Object.fromEntries(
      all.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l))
        .map((j) => [path.basename(j.journal), j]),
    );
    assert.deepEqual(
      Object.keys(byJournal).sort(),
      [real, 'future.csv-000000000003.jsonl', 'garbage.csv-000000000002.jsonl', 'gone.csv-000000000001.jsonl'].sort(),
    );
    assert.equal(byJournal[real].state, 'finished');
    assert.equal(byJournal['gone.csv-000000000001.jsonl'].state, 'gone');
    assert.equal(byJournal['gone.csv-000000000001.jsonl'].note, 'the group is gone (404)');
    assert.equal(byJournal['garbage.csv-000000000002.jsonl'].state, 'damaged');
    assert.match(byJournal['garbage.csv-000000000002.jsonl'].note, /not a tg journal/);
    assert.equal(byJournal['future.csv-000000000003.jsonl'].state, 'damaged');
    assert.match(byJournal['future.csv-000000000003.jsonl'].note, /a tg journal of version 99/);

    // Another --base-url: nothing is asked, each job says where it was sent
    const before = e.stats.requests;
    const other = await runInProcess(['jobs'], { cwd: d, env: { PARALLEL_BASE_URL: 'https://api.example.com' } });
    assert.equal(other.code, 0, other.stderr);
    assert.equal(e.stats.requests, before);
    assert.match(
      other.stdout,
      new RegExp(`\\tother-api\\t.*\\tsent to ${e.url.replace(/[.]/g, '\\.')}, not https://api\\.example\\.com \\(--base-url\\): not asked\\n`),
    );

    // No key: the journals' own account, a warning, exit 0
    const nokey = await runInProcess(['jobs'], { cwd: d, env: { ...env, PARALLEL_API_KEY: undefined } });
    assert.equal(nokey.code, 0, nokey.stderr);
    assert.match(nokey.stderr, /no API key \(PARALLEL_API_KEY\): the groups were not asked/);
    assert.match(nokey.stdout, /\tunknown\t3\t3\t\t\t\t\t.*no API key: the group was not asked/);

    // Every group request refused for the key: the lines, then exit 3
    e.setFaults({ authFault: 1 });
    const refused = await runInProcess(['jobs'], { cwd: d, env });
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stdout, /\tunknown\t/);
    assert.match(refused.stderr, /tg: none of the 2 groups could be asked: .*401/);
    e.setFaults({ authFault: 0 });

    // Every request failing on the network (the journals' API is down): exit 4 after the lines
    const down = 'http://127.0.0.1:9';
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.jsonl')))
      writeFileSync(path.join(dir, f), readFileSync(path.join(dir, f), 'utf8').replaceAll(`"origin":"${e.url}"`, `"origin":"${down}"`));
    const net = await runInProcess(['jobs'], { cwd: d, env: { PARALLEL_BASE_URL: down, TG_OUTAGE_GIVE_UP_S: '0.05' } });
    assert.equal(net.code, 4, net.stderr);
    t.diagnostic(`tg jobs, the API down:\n${net.stdout}${net.stderr}`);
    assert.equal(net.stdout.trimEnd().split('\n').length, 4);
    assert.match(net.stderr, /tg: none of the 2 groups could be asked: GET \/v1\/tasks\/groups\/tgrp_\w+: .*ECONNREFUSED/);

    // --help: the columns and examples
    const help = await runInProcess(['jobs', '--help'], { cwd: d });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tg jobs \[options\]/);
    assert.match(help.stdout, /Examples:\n {2}tg jobs\n {2}tg jobs --limit 5\n {2}tg jobs --json \| jq/);
    assert.match(help.stdout, /Columns: INPUT GROUP STATE ROWS SENT COMPLETED FAILED CANCELLED COST ACTIVITY NOTE/);
    // Bad usage
    const bad = await runInProcess(['jobs', '--limit', '0'], { cwd: d, env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--limit must be a whole number from 1/);
    // An empty state dir: nothing on stdout, a line on stderr
    const empty = await runInProcess(['jobs'], { cwd: tmp(), env });
    assert.equal(empty.code, 0);
    assert.equal(empty.stdout, '');
    assert.match(empty.stderr, /tg: no jobs in \.tg\/journals/);
  } finally {
    await e.close();
  }
});
