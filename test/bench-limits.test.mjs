// bench:limits' own arithmetic (bench/limits-pacing.mjs): the server's minimum for a sliding window,
// with and without POSTs still held from a killed run, the pacing trace, the request-log pattern.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { POST_LOG, parseWindow, serverMinimum, traceText, windowTrace } from '../bench/limits-pacing.mjs';

test('parseWindow reads N/duration as the emulator takes it', () => {
  assert.deepEqual(parseWindow('20/10s'), { limit: 20, windowMs: 10_000 });
  assert.deepEqual(parseWindow('2000/60s'), { limit: 2000, windowMs: 60_000 });
  assert.deepEqual(parseWindow('50/500ms'), { limit: 50, windowMs: 500 });
  assert.throws(() => parseWindow('20 per 10s'), /N\/<duration>/);
});

test('a fresh send: the last POST waits (ceil(posts / limit) - 1) windows', () => {
  assert.equal(serverMinimum({ limit: 20, windowMs: 10_000, posts: 180 }), 80_000);
  assert.equal(serverMinimum({ limit: 10, windowMs: 2000, posts: 400 }), 78_000);
  assert.equal(serverMinimum({ limit: 2000, windowMs: 60_000, posts: 4000 }), 60_000);
  assert.equal(serverMinimum({ limit: 20, windowMs: 10_000, posts: 20 }), 0);
  assert.equal(serverMinimum({ limit: 20, windowMs: 10_000, posts: 21 }), 10_000);
  assert.equal(serverMinimum({ limit: 20, windowMs: 10_000, posts: 0 }), 0);
});

test("a rerun: the killed run's POSTs hold the window until each is windowMs old", () => {
  // 20 POSTs 1 s before the rerun fill a 20/10s window: the first new one goes at 9 s.
  const full = Array.from({ length: 20 }, () => -1000);
  assert.equal(serverMinimum({ limit: 20, windowMs: 10_000, posts: 1, held: full }), 9000);
  assert.equal(serverMinimum({ limit: 20, windowMs: 10_000, posts: 20, held: full }), 9000);
  assert.equal(serverMinimum({ limit: 20, windowMs: 10_000, posts: 21, held: full }), 19_000);
  // 5 held, spread out: 15 go at once, then each waits for the next held one to expire.
  const spread = [-9000, -7000, -5000, -3000, -1000];
  assert.equal(serverMinimum({ limit: 20, windowMs: 10_000, posts: 15, held: spread }), 0);
  assert.equal(serverMinimum({ limit: 20, windowMs: 10_000, posts: 17, held: spread }), 3000);
  // POSTs older than the window hold nothing.
  assert.equal(serverMinimum({ limit: 20, windowMs: 10_000, posts: 20, held: Array(20).fill(-10_000) }), 0);
});

test('the trace counts POSTs in the sliding window and per bucket', () => {
  const events = [
    { t: 100, status: 200, phase: 'killed' },
    { t: 200, status: 429, phase: 'killed' },
    { t: 1500, status: 200, phase: 'rerun' },
    { t: 2600, status: 200, phase: 'rerun' },
  ];
  const trace = windowTrace(events, { windowMs: 2000, stepMs: 1000, endMs: 3000, phaseAt: (t) => (t < 1000 ? 'killed' : 'rerun') });
  assert.deepEqual(
    trace.map((x) => [x.t, x.accepted, x.refused]),
    [
      [1000, 1, 1],
      [2000, 2, 1],
      [3000, 2, 0],
    ],
  );
  const text = traceText(events, { limit: 2, windowMs: 2000, endMs: 3000 });
  assert.equal(text.length, 2);
  assert.match(text[0], /^ {2}0–2 s +killed\+rerun +ok +2 +429 +1 +#{20}$/);
  assert.match(text[1], /^ {2}2–4 s +rerun +ok +1 +429 +0 +#{10}$/);
});

test("the emulator's request log line for an add-runs POST", () => {
  const m = POST_LOG.exec('emulator: POST /v1/tasks/groups/tgrp_ab12/runs?refresh_status=false 429 3ms');
  assert.deepEqual([m?.[1], m?.[2]], ['429', '3']);
  assert.equal(POST_LOG.exec('emulator: GET /v1/tasks/groups/tgrp_ab12/runs 200 3ms'), null);
  assert.equal(POST_LOG.exec('emulator: POST /v1/tasks/groups 200 1ms'), null);
});
