// The adaptive rate budget (src/core/rateBudget.ts) against a simulated sliding-window server:
// an event-driven simulation with a virtual clock, so nothing here waits on wall-clock time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tg } from './helpers.mjs';

/**
 * `workers` concurrent senders push `jobs` POSTs through an AdaptiveBudget to a server that
 * accepts `server.limit` per sliding window (a 429 with the exact retry-after otherwise, or with
 * `retryAfterMs` whatever the truth).
 * @param {{ budget: { limit: number, windowMs: number, unit: string }, server: { limit: number, windowMs: number }, jobs: number, workers?: number, latMs?: number, retryAfterMs?: number }} o
 */
function simulate({ budget, server, jobs, workers = 3, latMs = 20, retryAfterMs }) {
  const b = new tg.AdaptiveBudget(budget);
  /** @type {number[]} */
  const arrivals = [];
  /** @type {number[]} */
  const sends = [];
  /** @type {any[]} */
  const q = [];
  let seq = 0;
  /** @param {any} e */
  const push = (e) => q.push({ ...e, seq: seq++ });
  for (let w = 0; w < workers; w++) push({ t: 0, k: 'ready', retry: false });
  let left = jobs;
  let refused = 0;
  let end = 0;
  while (q.length) {
    q.sort((x, y) => x.t - y.t || x.seq - y.seq);
    const e = q.shift();
    if (e.k === 'ready') {
      if (!e.retry) {
        if (left === 0) continue;
        left--;
      }
      const wait = b.waitMs(1, e.t);
      if (wait > 0) push({ t: e.t + wait, k: 'ready', retry: true });
      else {
        sends.push(e.t);
        push({ t: e.t + latMs / 2, k: 'arrive', r: b.reserve(1, e.t) });
      }
    } else if (e.k === 'arrive') {
      while (arrivals.length && arrivals[0] + server.windowMs <= e.t) arrivals.shift();
      const ok = arrivals.length < server.limit;
      if (ok) arrivals.push(e.t);
      push({ t: e.t + latMs / 2, k: 'answer', r: e.r, ok, wait: ok ? 0 : (retryAfterMs ?? arrivals[0] + server.windowMs - e.t) });
    } else if (e.ok) {
      b.accepted(e.r, e.t);
      end = e.t;
      push({ t: e.t, k: 'ready', retry: false });
    } else {
      b.refused(e.r, e.t, e.wait, true);
      refused++;
      push({ t: e.t, k: 'ready', retry: true });
    }
  }
  let maxInWindow = 0;
  for (let i = 0, j = 0; i < sends.length; i++) {
    while (sends[j] + budget.windowMs <= sends[i]) j++;
    maxInWindow = Math.max(maxInWindow, i - j + 1);
  }
  return { refused, end, maxInWindow, pace: b.pace };
}

test('adaptive budget: a server at half the budget is met at its limit with almost no 429s', () => {
  const r = simulate({ budget: { limit: 100, windowMs: 6000, unit: 'requests' }, server: { limit: 50, windowMs: 6000 }, jobs: 400 });
  const min = (400 / 50 - 1) * 6000; // a sliding window: the first 50 go at once
  assert.ok(r.end <= 1.15 * min, `elapsed ${r.end} ms vs minimum ${min}`);
  assert.ok(r.refused <= 0.02 * 400, `${r.refused} 429s`);
  assert.ok(r.maxInWindow <= 100, 'never over the budget');
  assert.equal(r.pace, 50);
});

test('adaptive budget: at a server as generous as the budget there are no 429s and no slowdown', () => {
  const r = simulate({ budget: { limit: 100, windowMs: 6000, unit: 'requests' }, server: { limit: 100, windowMs: 6000 }, jobs: 400 });
  assert.equal(r.refused, 0);
  assert.ok(r.maxInWindow <= 100);
  assert.ok(r.end <= 1.05 * 3 * 6000, `elapsed ${r.end}`);
  const big = simulate({ budget: { limit: 2000, windowMs: 60000, unit: 'requests' }, server: { limit: 1000, windowMs: 60000 }, jobs: 6000, latMs: 50 });
  assert.ok(big.refused <= 0.01 * 6000, `${big.refused} 429s`);
  assert.ok(big.end <= 1.15 * 5 * 60000, `elapsed ${big.end}`);
});

test("adaptive budget: a server whose window is shorter than the budget's is met at its own pace", () => {
  const budget = { limit: 2000, windowMs: 60000, unit: 'requests' };
  // 3 per 5 s (the README's tmux demo) and 50 per 5 s, against the default 2000 per 60 s
  for (const [server, jobs] of /** @type {const} */ ([
    [{ limit: 3, windowMs: 5000 }, 12],
    [{ limit: 50, windowMs: 5000 }, 600],
  ])) {
    const r = simulate({ budget, server, jobs });
    const min = (jobs / server.limit - 1) * server.windowMs;
    assert.ok(r.end <= 1.15 * min, `${server.limit}/${server.windowMs}: elapsed ${r.end} ms vs minimum ${min}`);
    assert.ok(r.refused <= Math.max(3, 0.02 * jobs), `${r.refused} 429s`);
    assert.ok(r.maxInWindow <= budget.limit, 'never over the budget');
  }
  // A retry-after that says nothing true (always 1 s, or 30 s) is never slower than pacing in the budget's window.
  for (const retryAfterMs of [1000, 30000]) {
    const r = simulate({ budget, server: { limit: 50, windowMs: 5000 }, jobs: 600, retryAfterMs });
    assert.ok(r.end <= 12.1 * 55000, `retry-after ${retryAfterMs}: elapsed ${r.end}`);
    assert.ok(r.refused <= 0.02 * 600, `${r.refused} 429s`);
  }
  const same = simulate({ budget, server: { limit: 1000, windowMs: 60000 }, jobs: 6000, latMs: 50, retryAfterMs: 1000 });
  assert.ok(same.end <= 1.15 * 5 * 60000 && same.refused <= 0.01 * 6000, `${same.end} ms, ${same.refused} 429s`);
});

test('adaptive budget: cost by unit, retry-after holds every sender, probes go one at a time', () => {
  const runs = new tg.AdaptiveBudget({ limit: 2000, windowMs: 60000, unit: 'runs' });
  assert.equal(runs.cost(1000), 1000);
  const req = new tg.AdaptiveBudget({ limit: 100, windowMs: 1000, unit: 'requests' });
  assert.equal(req.cost(1000), 1);
  for (let i = 0; i < 20; i++) req.accepted(req.reserve(1, i), i + 5);
  req.refused(req.reserve(1, 30), 40, 3000);
  assert.equal(req.pace, 20, 'the pace drops to what the server took');
  assert.equal(req.waitMs(1, 100), 2940, 'retry-after holds');
  assert.equal(req.refusals, 1);
  // After three calm windows the pace rises by a tenth; the first request past the refusal level
  // is a probe, and the next one waits for its answer.
  req.accepted(req.reserve(1, 3040), 3050);
  assert.equal(req.pace, 22);
  let t = 5000;
  for (let i = 0; i < 20; i++) req.accepted(req.reserve(1, t), t++);
  assert.equal(req.waitMs(1, t), 0);
  const p = req.reserve(1, t);
  assert.equal(p.probe, true);
  assert.equal(req.waitMs(1, t + 1), tg.PROBE_WAIT_MS);
  req.accepted(p, t + 2);
  assert.equal(req.waitMs(1, t + 3), 0, 'an accepted probe raises the refusal level');
});

test('adaptive budget: answers that arrive after the refusal, for POSTs sent before it, count as taken', () => {
  const b = new tg.AdaptiveBudget({ limit: 100, windowMs: 1000, unit: 'requests' });
  const rs = Array.from({ length: 20 }, (_, i) => b.reserve(1, i));
  for (const r of rs.slice(0, 18)) b.accepted(r, 25);
  b.refused(b.reserve(1, 21), 30, 900);
  assert.equal(b.pace, 18, 'what had been answered when the 429 came');
  b.accepted(rs[18], 35);
  b.accepted(rs[19], 36);
  assert.equal(b.pace, 20, 'the two answered late were taken by the server too');
  // A POST sent after the refusal raises nothing.
  const later = b.reserve(1, 1000);
  b.accepted(later, 1010);
  assert.equal(b.pace, 20);
});
