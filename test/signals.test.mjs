// Signals (a file of its own so it runs beside the secrets tests of hygiene.test.mjs):
// SIGINT/SIGTERM during submit, watch and fetch → exit 130 with a resume hint, files intact; a
// second SIGINT exits at once. bin/tg runs as a child (a signal is the point); each signal lands
// at a point the stall proxy holds (a POST of runs, an event stream), never at a wall-clock moment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, KEY, emulator, runInProcess, spawnTg, stallProxy, waitFor, groupRuns, tmp, makeCsv, assertExactlyOnce } from './helpers.mjs';

function jsonLines(file) {
  const text = readFileSync(file, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), `${file}: no partial last line`);
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

test('SIGINT/SIGTERM during submit, watch and fetch: exit 130, resume hint, a rerun finishes exactly once', async () => {
  const e = await emulator({ latencyMs: [300, 1500], seed: 5, rateLimit: null });
  const px = await stallProxy(e.url);
  try {
    const d = tmp();
    const n = 600;
    const f = makeCsv(d, n);
    // submit through the proxy, which holds its second POST of runs: tg is signalled with that
    // POST in flight and rows still to read and send; released, the POST is answered and tg stops.
    // Each of the two rounds sends 200 rows (one before the held POST, the held one), the rerun the rest.
    // One POST in flight (--concurrency 1): the held POST is the second, so each round sends two.
    const args = ['submit', f, '--batch-size', '100', '--rate', 'off', '--concurrency', '1', '--json', '--base-url', px.url];
    for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
      px.holdPostsAfter(1);
      const held = px.held;
      const p = spawnTg(args, { cwd: d });
      await waitFor(() => p.exited || px.held > held, { what: 'a POST of runs held' });
      assert.ok(!p.exited, `submit ended before its POST was held: ${p.stderr}`);
      p.kill(sig);
      // tg says what it waits for before it stops: the held POST's answer
      await waitFor(() => p.exited || /stopping: waiting for the answer to 1 add-runs request in flight/.test(p.stderr), { what: 'the stopping line' });
      await px.release();
      const a = await p.done;
      assert.equal(a.code, 130, `${sig}: ${a.stderr}`);
      assert.match(a.stderr, /stopping: waiting for the answer to 1 add-runs request in flight/);
      assert.match(a.stderr, /interrupted/);
      assert.match(a.stderr, /rerun|resume/i);
    }
    assert.equal(e.stats.runsCreated, 400, 'each interrupted submit sent the rows of its two POSTs');
    const c = await runInProcess(args, { cwd: d });
    assert.equal(c.code, 0, c.stderr);
    const group = JSON.parse(c.stdout).taskgroup_id;
    assertExactlyOnce(await groupRuns(e.url, group), n);
    // watch and fetch read through the proxy, which stalls their event stream after 200 more
    // frames: each is signalled while it cannot have finished, then the rerun completes.
    for (const cmd of [
      ['watch', group, '-o', 'w.jsonl'],
      ['fetch', group, '-o', 'f.jsonl'],
    ]) {
      const file = path.join(d, cmd[3]);
      for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
        px.stallStreamsAfter(200);
        const stalled = px.stalled;
        const p = spawnTg([...cmd, '--base-url', px.url], { cwd: d });
        await waitFor(() => p.exited || px.stalled > stalled, { what: `${cmd[0]}'s stream to stall` });
        assert.ok(!p.exited, `${cmd[0]} ended before its stream stalled: ${p.stderr}`);
        p.kill(sig);
        const r = await p.done;
        await px.release();
        assert.equal(r.code, 130, `${cmd[0]} ${sig}: ${r.stderr}`);
        assert.match(r.stderr, /resume|again/i);
        if (existsSync(file)) jsonLines(file); // whole lines only
      }
      const done = await runInProcess([...cmd, '--base-url', e.url], { cwd: d });
      assert.equal(done.code, 0, done.stderr);
      const lines = jsonLines(file);
      assert.equal(lines.length, n, cmd[0]);
      assert.equal(new Set(lines.map((l) => l.run.run_id)).size, n, `${cmd[0]}: no duplicates`);
    }
  } finally {
    await px.close();
    await e.close();
  }
});

test('a second SIGINT exits at once; the files stay consistent and a rerun completes', async () => {
  // The emulator's clock stands still: no run finishes, so the group stays active and tg's
  // event stream stays open (an inactive group's stream ends, and tg would be between streams).
  const clock = Date.now();
  const e = await emulator({ latencyMs: [300, 1500], seed: 6, rateLimit: null, now: () => clock });
  const px = await stallProxy(e.url);
  try {
    const d = tmp();
    const n = 1000;
    const f = makeCsv(d, n);
    const args = ['submit', f, '--batch-size', '50', '--rate', '500/1s', '--json', '--base-url', px.url];
    // submit --watch through the proxy, which holds the 4th POST of runs unanswered: after the
    // first SIGINT tg waits for that POST's outcome (the graceful path cannot finish) and drops
    // its event stream (the proxy sees that: the first SIGINT was handled). The second SIGINT
    // must then end the process by itself.
    px.holdPostsAfter(3);
    const p = spawnTg([...args, '--watch', '-o', 'w.jsonl'], { cwd: d });
    await waitFor(() => p.exited || (px.held >= 1 && px.openStreams >= 1), { what: 'a held POST and an open event stream' });
    assert.ok(!p.exited, p.stderr);
    const closed = px.streamsClosedByClient;
    p.kill('SIGINT');
    await waitFor(() => p.exited || px.streamsClosedByClient > closed, { what: 'tg to drop its event stream after the first SIGINT' });
    p.kill('SIGINT');
    const a = await p.done;
    // 130, or killed by the second SIGINT itself when it lands while node tears the process
    // down (its handlers are gone by then): a shell reports both as $? = 130.
    assert.ok(a.code === 130 || (a.code === null && a.signal === 'SIGINT'), `${a.code} ${a.signal} ${a.stderr}`);
    assert.match(a.stderr, /again: exiting now|interrupted/);
    await px.release(); // the held POST now reaches the API: its runs exist, its answer is lost
    const c = await runInProcess(args, { cwd: d });
    assert.equal(c.code, 0, c.stderr);
    assertExactlyOnce(await groupRuns(e.url, JSON.parse(c.stdout).taskgroup_id), n);
    if (existsSync(path.join(d, 'w.jsonl'))) jsonLines(path.join(d, 'w.jsonl'));
  } finally {
    await px.close();
    await e.close();
  }
});

/**
 * A submit of a large input (its validation keeps tg busy: signals sent then reach it before it
 * can act on either, as when timeout(1) fires), started under `wrap` (e.g. ['timeout', '600']).
 * Resolves once the journal's lock exists (the validation begins), with the child and its output.
 * @param {string[]} wrap
 */
async function busySubmit(wrap) {
  const e = await emulator({ rateLimit: null });
  const d = tmp();
  const f = makeCsv(d, 200_000);
  const journals = path.join(d, '.tg', 'journals');
  const args = [...wrap, process.execPath, BIN, 'submit', f, '--base-url', e.url, '--yes', '--max-cost', '1000000'];
  const child = spawn(args[0], args.slice(1), {
    cwd: d,
    env: { ...process.env, PARALLEL_API_KEY: KEY, NO_COLOR: '1', TG_STATE_DIR: path.join(d, '.tg') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let exited = false;
  child.stderr.on('data', (b) => (stderr += b));
  /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null, stderr: string }>} */
  const done = new Promise((r) =>
    child.on('close', (code, signal) => {
      exited = true;
      r({ code, signal, stderr });
    }),
  );
  await waitFor(() => exited || (existsSync(journals) && readdirSync(journals).some((x) => x.endsWith('.jsonl.lock'))), { what: 'the journal lock' });
  assert.ok(!exited, stderr);
  return { child, done, close: () => e.close() };
}

/** One signal, however many times it was delivered: tg stopped cleanly, said so once, exit 130. */
function assertOneInterrupt(/** @type {{ code: number | null, signal: NodeJS.Signals | null, stderr: string }} */ r) {
  assert.equal(r.code, 130, `${r.code} ${r.signal} ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /exiting now/, 'a second signal was never sent');
  assert.match(r.stderr, /^tg: interrupted\ntg: hint: Rerun the same command to resume/m);
}

test('timeout(1) signals tg and its process group: one SIGTERM, so tg stops cleanly (no "again: exiting now")', async () => {
  // timeout relays a signal it receives exactly as it sends its own when the time is up: to the
  // command, then to the process group. Here it is signalled at a known point, not after a time.
  const s = await busySubmit(['timeout', '600']);
  try {
    s.child.kill('SIGTERM');
    assertOneInterrupt(await s.done); // timeout exits with its command's status
  } finally {
    await s.close();
  }
});

test('the same signal sent twice at once by the test is one event; a second one after tg reacted exits at once', async () => {
  const s = await busySubmit([]);
  try {
    s.child.kill('SIGTERM');
    s.child.kill('SIGTERM');
    assertOneInterrupt(await s.done);
  } finally {
    await s.close();
  }
  // The real second Ctrl-C is in the test above ('a second SIGINT exits at once'): sent once tg
  // dropped its event stream, i.e. after it acted on the first.
});
