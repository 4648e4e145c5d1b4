// watch (and fetch) against the emulator, as child processes of bin/tg where a kill, a signal or
// an outage is the point and in-process through run(argv, io) otherwise: exactly once through
// SIGKILLs (at a seeded number of result lines) and dropped streams; --timeout on an emulator
// whose clock the test holds still; --follow; a sustained outage. No wall-clock waits: every
// step waits for a file, a line on stderr or a counter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { emulator, runTg, runInProcess, spawnTg, waitFor, tmp, makeCsv, lineCount, seeded } from './helpers.mjs';

test('watch -o: one line per terminal run, exactly once through SIGKILLs and dropped streams', async (t) => {
  const { int } = seeded(9, t);
  const e = await emulator({ rateLimit: null, latencyMs: [200, 3000], failRate: 0.1, dropStreamsAfter: 50, errorRate: 0.05, seed: 9 });
  try {
    const d = tmp();
    const f = makeCsv(d, 300);
    const s = await runInProcess(['submit', f, '--rate', 'off', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    const group = JSON.parse(s.stdout).taskgroup_id;
    const out = path.join(d, 'results.jsonl');
    /** @type {any} */
    let last;
    let kills = 0;
    for (let i = 0; i < 8; i++) {
      const target = lineCount(out) + int(15, 90); // killed once the results file has this many lines (about six kills)
      last = await runTg(['watch', group, '-o', out, '--base-url', e.url], { cwd: d, killWhen: () => lineCount(out) >= target });
      if (last.signal !== 'SIGKILL') break;
      kills++;
    }
    t.diagnostic(`${kills} SIGKILLs`);
    assert.ok(kills >= 1, 'at least one kill landed mid-watch');
    if (last.signal === 'SIGKILL') last = await runInProcess(['watch', group, '-o', out, '--base-url', e.url], { cwd: d });
    assert.ok([0, 1].includes(last.code), last.stderr);
    const lines = readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 300);
    assert.equal(new Set(lines.map((l) => l.run.run_id)).size, 300);
    const failed = lines.filter((l) => l.run.status === 'failed');
    assert.equal(last.code, failed.length ? 1 : 0);
    for (const l of lines) {
      if (l.run.status === 'completed') assert.equal(l.output.type, 'json');
      else assert.ok(l.run.error.message);
    }
    // fetch to JSONL of the same group: same runs and outputs as watch.
    const fo = path.join(d, 'fetch.jsonl');
    const fr = await runInProcess(['fetch', group, '-o', fo, '--base-url', e.url], { cwd: d });
    assert.ok(fr.code === 0 || fr.code === 1, fr.stderr);
    const fetched = readFileSync(fo, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const proj = (ls) => ls.map((l) => JSON.stringify([l.run.run_id, l.run.status, l.output?.content ?? null])).sort();
    assert.deepEqual(proj(fetched), proj(lines));
    // A rerun of watch writes no duplicate.
    const again = await runInProcess(['watch', group, '-o', out, '--base-url', e.url], { cwd: d });
    assert.ok(again.code === 0 || again.code === 1);
    assert.equal(readFileSync(out, 'utf8').split('\n').filter(Boolean).length, 300);
  } finally {
    await e.close();
  }
});

test('watch/status --timeout → exit 5 and the same command resumes', async () => {
  // The emulator's clock stands still until the test moves it: no run can finish before that,
  // so both timeouts must fire; then every run is due and the same watch finishes.
  let clock = Date.now();
  const e = await emulator({ rateLimit: null, latencyMs: [1500, 2500], seed: 21, now: () => clock });
  try {
    const d = tmp();
    const f = makeCsv(d, 20);
    const s = await runInProcess(['submit', f, '--json', '--base-url', e.url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    const group = JSON.parse(s.stdout).taskgroup_id;
    const out = path.join(d, 'w.jsonl');
    const w = await runInProcess(['watch', group, '-o', out, '--timeout', '0.5', '--base-url', e.url], { cwd: d });
    assert.equal(w.code, 5, w.stderr);
    assert.match(w.stderr, /again|resume/i);
    const st = await runInProcess(['status', group, '--wait', '--timeout', '0.3', '--base-url', e.url], { cwd: d });
    assert.equal(st.code, 5, st.stderr);
    clock += 60_000;
    const done = await runInProcess(['watch', group, '-o', out, '--base-url', e.url], { cwd: d });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 20);
    assert.equal((await runInProcess(['status', group, '--wait', '--base-url', e.url], { cwd: d })).code, 0);
  } finally {
    await e.close();
  }
});

test('watch --follow picks up runs added later; SIGINT ends it with 130', async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [50, 300], seed: 22 });
  try {
    const d = tmp();
    const s = await runInProcess(['submit', makeCsv(d, 20), '--json', '--base-url', e.url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    const group = JSON.parse(s.stdout).taskgroup_id;
    const fo = path.join(d, 'follow.jsonl');
    const p = spawnTg(['watch', group, '-o', fo, '--follow', '-q', '--base-url', e.url], { cwd: d });
    const lines = (/** @type {number} */ n) => waitFor(() => lineCount(fo) >= n || p.exited, { what: `${n} lines in follow.jsonl` });
    await lines(20);
    assert.equal(lineCount(fo), 20, p.stderr);
    const more = path.join(d, 'more.csv');
    writeFileSync(more, 'name,website\nLate 1,https://l1.example\nLate 2,https://l2.example\n');
    assert.equal((await runInProcess(['submit', more, '--group', group, '--base-url', e.url], { cwd: d })).code, 0);
    await lines(22);
    assert.equal(lineCount(fo), 22, p.stderr);
    assert.ok(!p.exited, `--follow ended by itself: ${p.stderr}`);
    p.kill('SIGINT');
    assert.equal((await p.done).code, 130, p.stderr);
    assert.equal(
      new Set(
        readFileSync(fo, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).run.run_id),
      ).size,
      22,
    );
  } finally {
    await e.close();
  }
});

test('watch through a sustained outage: reconnects, then gives up with exit 4 and a resume hint (TG_OUTAGE_GIVE_UP_S)', { timeout: 120_000 }, async () => {
  const emu = await emulator({ rateLimit: null, latencyMs: [20_000, 30_000] });
  try {
    const url = emu.url;
    const d = tmp();
    const s = await runInProcess(['submit', makeCsv(d, 10), '--json', '--base-url', url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    const group = JSON.parse(s.stdout).taskgroup_id;
    // The API goes away once watch holds its event stream, and stays away.
    const w = spawnTg(['watch', group, '-o', path.join(d, 'w.jsonl'), '--verbose', '--base-url', url], { cwd: d, env: { TG_OUTAGE_GIVE_UP_S: '2' } });
    await w.waitForStderr(/GET \S+\/events\S* 200/);
    await emu.close(); // its streams cut, its port closed
    const r = await w.done;
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /reconnecting/);
    assert.match(r.stderr, /Run the same command again to resume/);
    const bad = await runInProcess(['status', group, '--base-url', url], { cwd: d, env: { TG_OUTAGE_GIVE_UP_S: 'soon' } });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /TG_OUTAGE_GIVE_UP_S must be a positive number/);
  } finally {
    await emu.close();
  }
});
