// Issue F: the group is the ledger. Every scenario ends with exactly one run per row, counted
// through the API. Child processes where the process boundary is the point (a lock held by a
// running tg, kills); the other steps (reruns, the second of two) call run(argv, io) in-process.
// No wall-clock waits: each step waits for a line on stderr, a proxy or an emulator counter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { emulator, groupRuns, tmp, makeCsv, assertExactlyOnce, stallProxy, runInProcess } from './helpers.mjs';
import { startTg, until, env } from './ledger-helpers.mjs';

test('two submits of the same file at once: the second stops at once naming the first; one run per row', async () => {
  const e = await emulator({ rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, 400);
    // The first sends 50 rows, then waits a minute for its rate budget: it is surely running.
    const first = startTg(['submit', f, '--batch-size', '50', '--rate', '1/60s'], { cwd: d, env: env(d, e) });
    await first.stderrMatch(/created group/);
    await until(() => e.stats.runsCreated >= 50, 'the first batch');
    const second = await runInProcess(['submit', f, '--rate', 'off'], { cwd: d, env: env(d, e) });
    assert.equal(second.code, 75, second.stderr); // busy: its own exit status
    assert.match(second.stderr, /^tg: another tg \(pid \d+\) is submitting .*rows\.csv since /m);
    assert.match(second.stderr, /hint: Wait for it to finish/);
    console.log(`the second submit: ${second.stderr.split('\n')[0]}`);
    first.child.kill('SIGINT');
    assert.equal((await first.done).code, 130);
    const r = await runInProcess(['submit', f, '--rate', 'off'], { cwd: d, env: env(d, e) });
    assert.equal(r.code, 0, r.stderr);
    const group = r.stdout.trim();
    assertExactlyOnce(await groupRuns(e.url, group), 400);
    // A third, after the first finished, sends nothing.
    const third = await runInProcess(['submit', f], { cwd: d, env: env(d, e) });
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stderr, /0 rows sent, 400 already in the group/);
  } finally {
    await e.close();
  }
});

test('two journals into one group at once (--state): the group lock keeps them apart; one run per row', async () => {
  const e = await emulator({ rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, 300);
    const g = (await runInProcess(['create'], { cwd: d, env: env(d, e) })).stdout.trim();
    const first = startTg(['submit', f, '--group', g, '--batch-size', '50', '--rate', '1/60s', '--state', 'a.jsonl'], { cwd: d, env: env(d, e) });
    await until(() => e.stats.runsCreated >= 50, 'the first batch');
    const second = await runInProcess(['submit', f, '--group', g, '--state', 'b.jsonl', '--rate', 'off'], { cwd: d, env: env(d, e) });
    assert.equal(second.code, 75, second.stderr); // busy: its own exit status
    assert.match(second.stderr, /another tg \(pid \d+\) is adding runs to tgrp_/);
    first.child.kill('SIGINT');
    assert.equal((await first.done).code, 130);
    const again = await runInProcess(['submit', f, '--group', g, '--state', 'b.jsonl', '--rate', 'off'], { cwd: d, env: env(d, e) });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /250 rows sent, 50 already in the group/);
    assertExactlyOnce(await groupRuns(e.url, g), 300);
  } finally {
    await e.close();
  }
});

test('killed mid-submit, resumed with --group from another directory through a symlink: every row once', async () => {
  const e = await emulator({ rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, 500);
    const p = startTg(['submit', f, '--batch-size', '50', '--rate', '1/1s'], { cwd: d, env: env(d, e) });
    await p.stderrMatch(/created group (tgrp_\w+)/);
    await until(() => e.stats.runsCreated >= 100, '100 runs');
    p.child.kill('SIGKILL');
    await p.done;
    const group = String(/created group (tgrp_\w+)/.exec((await p.done).stderr)?.[1]);
    const other = path.join(d, 'elsewhere');
    mkdirSync(other);
    symlinkSync(f, path.join(other, 'link.csv'));
    const r = await runInProcess(['submit', 'link.csv', '--group', group, '--rate', 'off'], { cwd: other, env: env(d, e) });
    assert.equal(r.code, 0, r.stderr);
    assertExactlyOnce(await groupRuns(e.url, group), 500);
  } finally {
    await e.close();
  }
});

test('stdin: an interrupted submit resumes with the same stdin and no --state; a damaged journal is rebuilt from the group', async () => {
  const e = await emulator({ rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, 300);
    const text = readFileSync(f, 'utf8');
    const p = startTg(['submit', '-', '--format', 'csv', '--batch-size', '50', '--rate', '1/1s'], { cwd: d, env: env(d, e), input: text });
    await until(() => e.stats.runsCreated >= 100, '100 runs');
    p.child.kill('SIGINT');
    const r1 = await p.done;
    assert.equal(r1.code, 130, r1.stderr);
    assert.match(r1.stderr, /hint: Rerun the same command to resume \(with the same stdin\)/);
    assert.doesNotMatch(r1.stderr, /--restart/);
    const group = String(/created group (tgrp_\w+)/.exec(r1.stderr)?.[1]);
    // Damage a middle record of the journal: tg warns, keeps the original, lists the group.
    const jdir = path.join(d, 'state', 'journals');
    const journal = path.join(jdir, String(readdirSync(jdir).find((n) => n.startsWith('stdin-') && n.endsWith('.jsonl'))));
    const lines = readFileSync(journal, 'utf8').split('\n');
    lines[2] = '{"t":"sent","g":"tgrp_x",garbage';
    writeFileSync(journal, lines.join('\n'));
    const r2 = await runInProcess(['submit', '-', '--format', 'csv', '--rate', 'off'], { cwd: d, env: env(d, e), stdin: text });
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r2.stdout.trim(), group, 'the same group');
    assert.match(r2.stderr, /warning: skipped 1 damaged record of the journal/);
    assertExactlyOnce(await groupRuns(e.url, group), 300);
    // An unknown journal version is a clear error, nothing sent.
    writeFileSync(journal, JSON.stringify({ t: 'header', v: 99 }) + '\n');
    const before = e.stats.runCreateRequests;
    const r3 = await runInProcess(['submit', '-', '--format', 'csv'], { cwd: d, env: env(d, e), stdin: text });
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /a tg journal of version 99; this tg reads version 2/);
    assert.equal(e.stats.runCreateRequests, before);
  } finally {
    await e.close();
  }
});

test('cron recipe: a file that grows every day goes into one group; day 3 crashes and is rerun; every row once', async () => {
  const e = await emulator({ rateLimit: null });
  const px = await stallProxy(e.url);
  try {
    const d = tmp();
    const f = path.join(d, 'leads.csv');
    writeFileSync(f, 'name,website\n');
    // Every day's tg talks to the API through the proxy (one origin, so one journal).
    const via = { ...env(d, e), PARALLEL_BASE_URL: px.url };
    let group = null;
    let n = 0;
    const addDay = (k) => {
      for (let i = 0; i < k; i++) (n++, appendFileSync(f, `Company ${n},https://c${n}.example\n`));
    };
    for (const day of [1, 2, 3, 4]) {
      addDay(day === 3 ? 400 : 100);
      const args = ['submit', f, ...(group ? ['--group', group] : []), '-q', '--json', '--batch-size', '50'];
      if (day === 3) {
        // Through the proxy, which holds day 3's third POST of runs: tg is killed while it waits
        // on it; released after the kill, that POST's runs exist and its answer is lost.
        px.holdPostsAfter(2);
        const p = startTg([...args, '--rate', 'off'], { cwd: d, env: via });
        await until(() => px.held >= 1, 'day 3: 100 rows sent and a third POST held');
        p.child.kill('SIGKILL');
        await p.done;
        await px.release();
      }
      const r = await runInProcess([...args, '--rate', 'off'], { cwd: d, env: via });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      group ??= out.taskgroup_id;
      assert.equal(out.taskgroup_id, group, 'one group for every day');
      console.log(`day ${day}: ${n} rows in the file, submitted ${out.submitted}, skipped ${out.skipped}`);
    }
    assertExactlyOnce(await groupRuns(e.url, group), n);
  } finally {
    await px.close();
    await e.close();
  }
});
