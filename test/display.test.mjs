// Issue I.6/I.7: the progress display and machine-friendly output. The ETA maths is pure (an
// injected clock); the display is driven with a fake terminal and an injected clock; the JSON
// channels and help text through run(argv, io). No wall-clock waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { tg, emulator, runInProcess, fixture, tmp } from './helpers.mjs';

test('ETA: hidden until it means something, then the slowest of pace, budget and wait', () => {
  // One result after 2 s says nothing (no "3h30m" after the first result).
  assert.equal(tg.estimateEta({ done: 1, total: 6000, startDone: 0, elapsedMs: 2000 }).etaMs, null);
  // Enough time but too little work: still hidden.
  assert.equal(tg.estimateEta({ done: 3, total: 6000, startDone: 0, elapsedMs: 60_000 }).etaMs, null);
  // 5% of the work after 5 s: shown, from the pace (300 of 6000 in 30 s → 5700 in 570 s).
  assert.equal(tg.estimateEta({ done: 300, total: 6000, startDone: 0, elapsedMs: 30_000 }).etaMs, 570_000);
  // A resume: what was done before says nothing about the pace.
  assert.equal(tg.estimateEta({ done: 5001, total: 6000, startDone: 5000, elapsedMs: 30_000 }).etaMs, null);
  // The budget bounds it: 2000 rows/min and 4000 rows left → at least 2 min, however fast so far.
  const b = { limit: 2000, windowMs: 60_000, remainingUnits: 4000 };
  assert.equal(tg.estimateEta({ done: 2000, total: 6000, startDone: 0, elapsedMs: 6000, budget: b }).etaMs, 120_000);
  // …and is known before the pace is, when the rest needs more than one window.
  assert.equal(tg.estimateEta({ done: 0, total: 6000, startDone: 0, elapsedMs: 100, budget: { ...b, remainingUnits: 6000 } }).etaMs, 180_000);
  assert.equal(tg.estimateEta({ done: 0, total: 100, startDone: 0, elapsedMs: 100, budget: { ...b, remainingUnits: 100 } }).etaMs, null);
  // A wait under way (a retry-after of 90 s) is never less than the ETA.
  assert.equal(tg.estimateEta({ done: 300, total: 600, startDone: 0, elapsedMs: 30_000, waitMs: 90_000 }).etaMs, 90_000);
  assert.equal(tg.estimateEta({ done: 10, total: 10, startDone: 0, elapsedMs: 1 }).etaMs, 0);
});

/** A fake terminal: what was written, and the screen it makes (\r, ESC[K, \n). @param {number} [columns] */
function terminal(columns = 60) {
  const out = {
    columns,
    raw: '',
    write(s) {
      out.raw += s;
    },
    /** The lines on screen: \r returns to column 0, ESC[K clears to the end of the line. */
    screen() {
      /** @type {string[]} */
      const lines = [''];
      let col = 0;
      const last = () => lines[lines.length - 1];
      for (let i = 0; i < out.raw.length; i++) {
        const ch = out.raw[i];
        if (out.raw.startsWith('\x1b[K', i)) {
          lines[lines.length - 1] = last().slice(0, col);
          i += 2;
        } else if (ch === '\r') col = 0;
        else if (ch === '\n') (lines.push(''), (col = 0));
        else {
          const l = last();
          lines[lines.length - 1] = l.slice(0, col) + ch + l.slice(col + 1);
          col++;
        }
      }
      return lines;
    },
  };
  return out;
}

const source = (body) => ({ bar: () => body(), line: () => `tg: ${body()}`, event: () => ({ body: body() }) });

test('display on a terminal: log lines above the live line, never on it; a wait counts down', () => {
  let now = 1_000_000;
  const out = terminal(70);
  const d = new tg.Display({ out, mode: 'tty', quiet: false, intervalMs: 10_000, now: () => now });
  d.phase('validating rows.csv'); // before there is a bar: the phase alone
  assert.deepEqual(out.screen(), ['tg: validating rows.csv']);
  d.phase('');
  assert.deepEqual(out.screen(), ['']);
  let n = 0;
  const src = source(() => `submit ${n}/100 rows`);
  d.attach(src);
  d.log('tg: created group tgrp_1');
  n = 10;
  d.waiting(42_000, 'rate limit (429)');
  d.log('tg: warning: something to say');
  assert.deepEqual(out.screen(), ['tg: created group tgrp_1', 'tg: warning: something to say', 'submit 10/100 rows | waiting 42 s: rate limit (429)']);
  now += 12_000;
  d.log('tg: http POST /runs 429 3ms');
  assert.equal(out.screen().at(-1), 'submit 10/100 rows | waiting 30 s: rate limit (429)', 'the countdown moves');
  now += 31_000;
  d.phase('sending');
  d.log('tg: http POST /runs 200 3ms');
  assert.equal(out.screen().at(-1), 'submit 10/100 rows | sending', 'the wait is over: the phase again');
  // A long bar gives way to the wait: what tg waits for stays whole on a narrow terminal.
  n = 20;
  d.waiting(9_000, 'rate limit (paced after 429s)');
  const long = source(() => `submit ████████████████████ ${n}/100 rows | 599/min (--rate 2000 requests/60s) | ETA 56s`);
  d.attach(long);
  d.log('y');
  assert.match(String(out.screen().at(-1)), /^submit █+.*… \| waiting 9 s: rate limit \(paced after 429s\)$/);
  assert.ok(String(out.screen().at(-1)).length < 70);
  d.detach(long, false);
  d.attach(src);
  now += 10_000;
  // Never wider than the terminal (a wrapped line could not be redrawn in place).
  n = 1e30;
  d.log('x');
  assert.ok(
    out.screen().every((l) => l.length < 70),
    out.screen().join('\n'),
  );
  d.detach(src, true);
  assert.equal(out.screen().at(-1), '', 'the final state stays, the cursor below it');
  assert.match(String(out.screen().at(-2)), /^submit 1e\+30/);
  d.close();
});

test('display without a terminal: no escape codes; plain status lines; --json: JSON lines only', () => {
  let now = 0;
  const plain = terminal();
  const d = new tg.Display({ out: plain, mode: 'plain', quiet: false, intervalMs: 10_000, now: () => now });
  const src = source(() => 'results 5/10 runs');
  d.attach(src);
  d.log('tg: one');
  now += 6000;
  d.waiting(60_000, 'rate limit (429)'); // a long wait is said at once, not at the next interval
  d.detach(src, true);
  assert.ok(!plain.raw.includes('\x1b') && !plain.raw.includes('\r'), 'no escape codes');
  assert.deepEqual(plain.raw.trim().split('\n'), [
    'tg: one',
    'tg: results 5/10 runs; waiting 60 s: rate limit (429)',
    'tg: results 5/10 runs; waiting 60 s: rate limit (429)',
  ]);
  const j = terminal();
  const dj = new tg.Display({ out: j, mode: 'json', quiet: false, intervalMs: 10_000, now: () => now });
  dj.attach(src);
  dj.log('tg: warning: careful', 'info');
  dj.error(['tg: bad', 'tg: hint: fix it'], { error: { code: 'usage', message: 'bad' } });
  dj.detach(src, true);
  const lines = j.raw
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines[0], { log: { level: 'warning', message: 'careful' } });
  assert.deepEqual(lines[1], { error: { code: 'usage', message: 'bad' } });
  assert.equal(lines[2].progress.body, 'results 5/10 runs');
  // On a terminal whose stdout carries the results, the bar would cross them: plain lines there.
  const t = terminal();
  const dt = new tg.Display({ out: t, mode: 'tty', quiet: false, intervalMs: 10_000, now: () => now });
  dt.attach(src, false);
  dt.log('tg: two');
  dt.detach(src, true);
  assert.deepEqual(t.raw, 'tg: two\ntg: results 5/10 runs\n');
  assert.equal(tg.displayMode({ stderrIsTTY: true, env: { TERM: 'dumb' } }), 'plain');
  assert.equal(tg.displayMode({ stderrIsTTY: true, env: { TERM: 'xterm' } }), 'tty');
  assert.equal(tg.displayMode({ json: true, stderrIsTTY: true, env: {} }), 'json');
});

/** Every stderr line is a JSON object. @param {string} s */
const jsonLines = (s) =>
  s
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        assert.fail(`not JSON on stderr: ${l}`);
      }
    });

test('--json: stderr carries only JSON (errors, usage errors, logs); stdout a summary object', async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [10, 30] });
  try {
    const d = tmp();
    const nf = await runInProcess(['status', 'tgrp_nope', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(nf.code, 2);
    assert.deepEqual(Object.keys(jsonLines(nf.stderr)[0].error), ['code', 'message', 'hint']);
    console.log(`a --json error: ${nf.stderr.trim()}`);
    const usage = await runInProcess(['submit', '--bogus', '--json'], { cwd: d });
    assert.equal(usage.code, 2);
    assert.equal(jsonLines(usage.stderr)[0].error.code, 'usage');
    const out = path.join(d, 'r.jsonl');
    const w = await runInProcess(['submit', fixture('companies.csv'), '--watch', '-o', out, '--json', '--base-url', e.url], { cwd: d });
    assert.equal(w.code, 0, w.stderr);
    const logs = jsonLines(w.stderr);
    assert.ok(logs.some((l) => l.log?.message.startsWith('created group')));
    const s = JSON.parse(w.stdout);
    assert.equal(s.results, 60);
    assert.equal(s.submitted, 60);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 60);
    // Results on stdout: stdout stays pure JSON Lines; the summary goes to stderr.
    const f = await runInProcess(['fetch', s.taskgroup_id, '--json', '--base-url', e.url], { cwd: d });
    assert.equal(f.code, 0, f.stderr);
    assert.equal(f.stdout.trim().split('\n').length, 60);
    assert.equal(jsonLines(f.stderr).find((l) => l.summary)?.summary.runs, 60);
  } finally {
    await e.close();
  }
});

test('status --wait shows progress (counts by status) while it waits', async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [1500, 2500] });
  try {
    const d = tmp();
    const s = await runInProcess(['submit', fixture('companies.csv'), '--base-url', e.url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    const r = await runInProcess(['status', s.stdout.trim(), '--wait', '--progress-interval', '0.1', '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^tg: status \d+\/60 runs finished .*\| (queued|running) \d+.*; waiting for tgrp_/m);
    assert.match(r.stdout, /completed 60/);
  } finally {
    await e.close();
  }
});

test("help: a command's --help lists its own options and points to tg --help for the global ones", async () => {
  const h = await runInProcess(['submit', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /--batch-size/);
  assert.doesNotMatch(h.stdout, /^ +(--api-key|--base-url|--insecure-http|--progress-interval)/m);
  assert.match(h.stdout, /Global options .* see tg --help/);
  const root = await runInProcess(['--help']);
  assert.match(root.stdout, /--api-key/);
});

test('progress: rows the group held are left out of the rate; --rate is shown as given; a budget for the ETA only is not shown', () => {
  let now = 0;
  const ctx = { clock: { now: () => now }, display: { waitLeft: () => 0 }, io: { env: { NO_COLOR: '1' } }, global: {} };
  const budget = { limit: 2_000_000, windowMs: 60_000 };
  const p = new tg.Progress(ctx, { label: 'submit', unit: 'rows', total: 60, done: 0, budget: { ...budget, shown: '2000 requests/60s' } });
  now = 1000;
  p.update(60, '', 60); // a resume: all 60 held by the group, none sent
  assert.equal(p.line(now), 'tg: submit 60/60 rows (100.0%), 0/min (--rate 2000 requests/60s), ETA 0s');
  p.update(60, '', 30); // 30 sent in 1 s
  assert.match(p.line(now), /, 1800\/min \(--rate 2000 requests\/60s\)/);
  assert.match(p.bar(now), /\| 1800\/min \(--rate 2000 requests\/60s\) \|/);
  // short of room, the bar's blocks go first; the counts stay
  assert.match(p.bar(now), /^submit #{20} 60\/60 rows/);
  assert.match(p.bar(now, 70), /^submit 60\/60 rows \| 1800\/min/);
  const w = new tg.Progress(ctx, { label: 'results', unit: 'runs', total: 10, done: 0, budget: { ...budget, shown: null } });
  now = 2000;
  w.update(5);
  assert.match(w.line(now), /^tg: results 5\/10 runs \(50\.0%\), 300\/min, ETA /);
});
