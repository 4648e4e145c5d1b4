// submit against the emulator: exactly once under lost responses, 5xx and 429s (in-process,
// through run(argv, io)) and through repeated SIGKILLs of bin/tg as a child process. A kill lands
// when the emulator has created a seeded number of further runs (the seed is printed), never at
// a wall-clock moment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulator, runTg, groupRuns, tmp, makeCsv, assertExactlyOnce, seeded, runInProcess } from './helpers.mjs';

test('submit: exactly once under lost responses and 5xx; a rerun sends nothing', async () => {
  const e = await emulator({ loseResponses: 0.3, errorRate: 0.1, rateLimit: null, seed: 11 });
  try {
    const d = tmp();
    // 1000 rows in 25 batches of 40: every batch a seeded chance of a lost answer or a 5xx. One
    // POST at a time, so the seeded faults fall on the same requests every run (the chaos suite
    // covers lost answers with POSTs in flight together).
    const f = makeCsv(d, 1000);
    const r = await runInProcess(['submit', f, '--batch-size', '40', '--rate', 'off', '--concurrency', '1', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    const { taskgroup_id } = JSON.parse(r.stdout);
    assert.ok(e.stats.responsesLost > 0 && e.stats.errorsInjected > 0, 'faults were injected');
    assertExactlyOnce(await groupRuns(e.url, taskgroup_id), 1000);
    const again = await runInProcess(['submit', f, '--batch-size', '40', '--rate', 'off', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).submitted, 0);
    assertExactlyOnce(await groupRuns(e.url, taskgroup_id), 1000);
  } finally {
    await e.close();
  }
});

test('submit: exactly once through repeated SIGKILL at seeded moments', async (t) => {
  const { int } = seeded(5, t);
  const e = await emulator({ rateLimit: null, loseResponses: 0.1, seed: 5 });
  try {
    const d = tmp();
    // 1200 rows in batches of 50, killed every 50-300 runs: about seven kills, each at a seeded
    // point of a batch's life (read, sent, answered, journalled), then a rerun that completes.
    const f = makeCsv(d, 1200);
    const args = ['submit', f, '--batch-size', '50', '--rate', 'off', '--json', '--base-url', e.url];
    let kills = 0;
    /** @type {any} */
    let last;
    for (let i = 0; i < 30; i++) {
      const target = e.stats.runsCreated + int(50, 300); // killed once this many runs exist
      last = await runTg(args, { cwd: d, killWhen: () => e.stats.runsCreated >= target });
      if (last.signal === 'SIGKILL') kills++;
      else break;
    }
    if (last.signal === 'SIGKILL') last = await runInProcess(args, { cwd: d });
    assert.equal(last.code, 0, last.stderr);
    assert.ok(kills >= 1, 'at least one kill landed mid-submit');
    t.diagnostic(`${kills} SIGKILLs`);
    const { taskgroup_id } = JSON.parse(last.stdout);
    assertExactlyOnce(await groupRuns(e.url, taskgroup_id), 1200);
  } finally {
    await e.close();
  }
});

test('submit: 429s are waited out (retry-after honoured), nothing duplicated', async () => {
  const e = await emulator({ rateLimit: { limit: 200, windowMs: 1000 }, rateLimitUnit: 'runs', seed: 2 });
  try {
    const d = tmp();
    const f = makeCsv(d, 600);
    // Client budget deliberately above the server's (in the same 1 s window: the pace the 429s
    // set is counted in --rate's window): the server's 429s must pace it.
    const r = await runInProcess(['submit', f, '--batch-size', '200', '--rate', '100/1s', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(e.stats.rateLimited > 0, 'the emulator answered 429');
    assertExactlyOnce(await groupRuns(e.url, JSON.parse(r.stdout).taskgroup_id), 600);
  } finally {
    await e.close();
  }
});
