// Issue F, continued (a second file, so the two halves run side by side): every scenario ends with exactly one run per row, counted
// through the API. Child processes where the process boundary is the point (a lock held by a
// running tg, signals, the README demo as typed); the other steps call run(argv, io) in-process.
// No wall-clock waits: each step waits for a line on stderr, a proxy or an emulator counter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { emulator, groupRuns, tmp, makeCsv, assertExactlyOnce, stallProxy, runInProcess } from './helpers.mjs';
import { startTg, until, env } from './ledger-helpers.mjs';

test('a changed row is a conflict (exit 2, nothing sent) unless --on-conflict says otherwise', async () => {
  const e = await emulator({ rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, 20);
    const r1 = await runInProcess(['submit', f, '--rate', 'off'], { cwd: d, env: env(d, e) });
    assert.equal(r1.code, 0, r1.stderr);
    const group = r1.stdout.trim();
    writeFileSync(f, readFileSync(f, 'utf8').replace('Company 7,', 'Company Seven,') + 'Company 21,https://c21.example\n');
    const before = e.stats.runCreateRequests;
    const r2 = await runInProcess(['submit', f], { cwd: d, env: env(d, e) });
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, /^tg: .*rows\.csv:8: key "7": the group holds this row with other content/m);
    assert.match(r2.stderr, /1 row of .* differ from the runs the group holds for the same key; nothing was sent\./);
    assert.equal(e.stats.runCreateRequests, before, 'nothing sent');
    const r3 = await runInProcess(['submit', f, '--on-conflict', 'skip', '--json'], { cwd: d, env: env(d, e) });
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(JSON.parse(r3.stdout).submitted, 1);
    const r4 = await runInProcess(['submit', f, '--on-conflict', 'resend', '--json'], { cwd: d, env: env(d, e) });
    assert.equal(JSON.parse(r4.stdout).submitted, 1);
    const runs = await groupRuns(e.url, group);
    assert.equal(runs.length, 22);
    assert.deepEqual(
      runs.filter((x) => x.run.metadata.tg_key === '7').map((x) => x.input.input.name),
      ['Company 7', 'Company Seven'],
    );
  } finally {
    await e.close();
  }
});

test('before the first POST: a bad --timeout, an -o of another group, an unknown processor each stop with exit 2 and nothing sent', async () => {
  const e = await emulator({ rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, 10);
    const g1 = (await runInProcess(['submit', f, '--watch', '-o', 'res.jsonl'], { cwd: d, env: env(d, e) })).stdout;
    assert.ok(readFileSync(path.join(d, 'res.jsonl'), 'utf8').split('\n').filter(Boolean).length === 10, g1);
    const f2 = path.join(d, 'other.csv');
    writeFileSync(f2, 'name,website\nA,https://a.example\n');
    const before = e.stats.runCreateRequests;
    /** @type {[string[], RegExp][]} */
    const cases = [
      [['submit', f2, '--watch', '--timeout', 'soon'], /--timeout must be a positive number of seconds/],
      [['submit', f2, '--watch', '-o', 'res.jsonl'], /res\.jsonl holds results of group tgrp_\w+, not \(a new group\)/],
      [['submit', f2, '--processor', 'turbo'], /--processor "turbo" is not one the API lists/],
    ];
    for (const [args, re] of cases) {
      const r = await runInProcess(args, { cwd: d, env: env(d, e) });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    assert.equal(e.stats.runCreateRequests, before, 'nothing sent');
  } finally {
    await e.close();
  }
});

test('the input changes while sending: only validated rows are sent, the message says how many; the rerun completes', async () => {
  const e = await emulator({ rateLimit: null });
  const px = await stallProxy(e.url);
  try {
    const d = tmp();
    const f = path.join(d, 'rows.csv');
    // 1000 rows of 2 KB: with its second POST held, tg has read about 300 rows (and its stream
    // buffers), far from row 800 when the file changes under it.
    const pad = 'x'.repeat(2000);
    const rows = (change) =>
      [
        'name,website',
        ...Array.from({ length: 1000 }, (_, i) => `Company ${i + 1},https://c${i + 1}.example/${i === 799 && change ? 'CHANGED' + pad.slice(7) : pad}`),
      ].join('\n') + '\n';
    writeFileSync(f, rows(false));
    // Every tg here talks to the API through the proxy (one origin, so one journal), which holds
    // the second POST of runs: the file changes while tg waits on it.
    const via = { ...env(d, e), PARALLEL_BASE_URL: px.url };
    px.holdPostsAfter(1);
    const p = startTg(['submit', f, '--batch-size', '100', '--rate', 'off'], { cwd: d, env: via });
    await until(() => px.held >= 1, 'the first chunk sent and the second POST held');
    // Row 800 changes in place, its length the same: a rewrite (truncate, then write) could let
    // tg read a short file in between, under load, and stop earlier than row 800.
    const at = rows(false).indexOf('https://c800.example/') + 'https://c800.example/'.length;
    const fd = openSync(f, 'r+');
    writeSync(fd, 'CHANGED', at);
    closeSync(fd);
    assert.equal(readFileSync(f, 'utf8'), rows(true));
    await px.release();
    const r = await p.done;
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      /^tg: .*rows\.csv changed while tg was sending it: 700 rows were sent, the rest were not\ntg: hint: Rerun the same command to resume: it validates the input again and sends only the rows the group lacks\.\n/m,
    );
    assert.doesNotMatch(r.stderr, /nothing was sent|--restart/);
    const group = String(/created group (tgrp_\w+)/.exec(r.stderr)?.[1]);
    const again = await runInProcess(['submit', f, '--rate', 'off', '--json'], { cwd: d, env: via });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), {
      taskgroup_id: group,
      submitted: 300,
      skipped: 700,
      rejected: 0,
      repeats: 0,
      processor: 'base',
      estimated_cost_usd: 3,
    });
    const runs = await groupRuns(e.url, group);
    assert.equal(runs.length, 1000);
    assert.equal(new Set(runs.map((x) => x.run.metadata.tg_key)).size, 1000);
    assert.match(runs.find((x) => x.run.metadata.tg_key === '800').input.input.website, /CHANGED/);
  } finally {
    await px.close();
    await e.close();
  }
});

test('interrupted during --restart: the hint says to rerun without --restart', async () => {
  const e = await emulator({ rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, 200);
    const p = startTg(['submit', f, '--restart', '--batch-size', '50', '--rate', '1/60s'], { cwd: d, env: env(d, e) });
    await until(() => e.stats.runsCreated >= 50, 'the first chunk');
    p.child.kill('SIGINT');
    const r = await p.done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /hint: Rerun the command without --restart to resume/);
    const again = await runInProcess(['submit', f, '--rate', 'off', '--json'], { cwd: d, env: env(d, e) });
    assert.equal(JSON.parse(again.stdout).submitted, 150);
    assertExactlyOnce(await groupRuns(e.url, JSON.parse(again.stdout).taskgroup_id), 200);
  } finally {
    await e.close();
  }
});

test('one writer per results file: a second watch on the same -o stops at once', async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [60_000, 60_000] });
  try {
    const d = tmp();
    const f = makeCsv(d, 5);
    const group = (await runInProcess(['submit', f], { cwd: d, env: env(d, e) })).stdout.trim();
    const first = startTg(['watch', group, '-o', 'res.jsonl'], { cwd: d, env: env(d, e) });
    await until(() => existsSync(path.join(d, 'res.jsonl.tg.lock')), 'the first watch holds the lock');
    const second = await runInProcess(['watch', group, '-o', 'res.jsonl'], { cwd: d, env: env(d, e) });
    assert.equal(second.code, 75, second.stderr); // busy: its own exit status
    assert.match(second.stderr, /^tg: another tg \(pid \d+\) is writing results of tgrp_\w+ into .*res\.jsonl since /m);
    first.child.kill('SIGINT');
    assert.equal((await first.done).code, 130);
    assert.ok(!existsSync(path.join(d, 'res.jsonl.tg.lock')), 'the lock is released');
  } finally {
    await e.close();
  }
});

test('journal lost, group full: the group is listed, nothing sent, and the next rerun needs no listing', async () => {
  const e = await emulator({ rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, 250);
    const r1 = await runInProcess(['submit', f, '--rate', 'off', '--batch-size', '100'], { cwd: d, env: env(d, e) });
    assert.equal(r1.code, 0, r1.stderr);
    const group = r1.stdout.trim();
    rmSync(path.join(d, 'state', 'journals'), { recursive: true });
    const before = e.stats.runCreateRequests;
    const r2 = await runInProcess(['submit', f, '--group', group, '--batch-size', '100', '--json'], { cwd: d, env: env(d, e) });
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /listing the 250 runs of/);
    assert.deepEqual([JSON.parse(r2.stdout).submitted, JSON.parse(r2.stdout).skipped], [0, 250]);
    const r3 = await runInProcess(['submit', f, '--group', group, '--batch-size', '100'], { cwd: d, env: env(d, e) });
    assert.equal(r3.code, 0, r3.stderr);
    assert.doesNotMatch(r3.stderr, /listing the/, 'the journal holds every chunk now');
    assert.equal(e.stats.runCreateRequests, before, 'nothing sent');
    assertExactlyOnce(await groupRuns(e.url, group), 250);
    // Journal lost again and a row changed: the conflict is named, as on the journal's path.
    rmSync(path.join(d, 'state', 'journals'), { recursive: true });
    writeFileSync(f, readFileSync(f, 'utf8').replace('Company 9,', 'Company Nine,'));
    const r4 = await runInProcess(['submit', f, '--group', group, '--batch-size', '100'], { cwd: d, env: env(d, e) });
    assert.equal(r4.code, 2, r4.stderr);
    assert.match(r4.stderr, /rows\.csv:10: key "9": the group holds this row with other content/);
    assert.equal(e.stats.runCreateRequests, before, 'nothing sent');
  } finally {
    await e.close();
  }
});
