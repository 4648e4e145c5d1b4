// Unit tests: OrderedWindow (watch's ordered window), RunIdSet, the CSV formula guard, the join's
// row/input check and writeFileAtomic's exclusive temp file. Seeded; no timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, symlinkSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tg } from './helpers.mjs';

const { OrderedWindow, RunIdSet, neutralise, inputMatchesRow, writeFileAtomic, writeAllAt, utf8Chunks, mulberry32 } = tg;

function deferred() {
  /** @type {(v?: unknown) => void} */
  let resolve = () => {};
  /** @type {(e?: unknown) => void} */
  let reject = () => {};
  const promise = new Promise((a, b) => ((resolve = a), (reject = b)));
  return { promise, resolve, reject };
}

function recorder() {
  const log = [];
  let flushes = 0;
  return {
    log,
    get flushes() {
      return flushes;
    },
    sink: { write: (x) => log.push(x), flush: async () => void flushes++ },
  };
}

test('OrderedWindow writes in push order whatever order items settle in (seeded)', async () => {
  const seed = 20240611;
  console.log(`seed ${seed}`);
  const rnd = mulberry32(seed);
  const r = recorder();
  const w = new OrderedWindow(r.sink, { size: 8, flushMs: 1e9, now: () => 0 });
  const pending = [];
  let done = false;
  const producer = (async () => {
    for (let i = 0; i < 200; i++) {
      if (rnd() < 0.5) await w.push(i);
      else {
        const d = deferred();
        pending.push({ d, i });
        await w.push(d.promise);
      }
    }
  })().then(() => (done = true));
  // settle the pending items in a random order until the producer is done
  let spins = 0;
  while (pending.length || !done) {
    if (pending.length) {
      const k = Math.floor(rnd() * pending.length);
      const [{ d, i }] = pending.splice(k, 1);
      d.resolve(i);
    }
    await new Promise((res) => setImmediate(res));
    assert.ok(++spins < 10_000);
  }
  await producer;
  await w.settle();
  assert.deepEqual(
    r.log,
    Array.from({ length: 200 }, (_, i) => i),
  );
  assert.ok(r.flushes >= 1);
});

test('OrderedWindow is bounded: push waits while the window is full', async () => {
  const r = recorder();
  const w = new OrderedWindow(r.sink, { size: 2, flushMs: 0, now: () => 0 });
  const a = deferred();
  await w.push(a.promise);
  let second = false;
  const p = w.push(1).then(() => (second = true));
  await new Promise((res) => setImmediate(res));
  assert.equal(second, false, 'waits: the head is still pending');
  assert.equal(w.length, 2);
  a.resolve(0);
  await p;
  assert.deepEqual(r.log, [0, 1]);
});

test('OrderedWindow flushes when it runs empty, or every flushMs while busy', async () => {
  let t = 0;
  const r = recorder();
  const w = new OrderedWindow(r.sink, { size: 10, flushMs: 100, now: () => t });
  const head = deferred();
  await w.push(head.promise);
  await w.push(1);
  assert.equal(r.flushes, 0, 'nothing written yet');
  head.resolve(0);
  await w.settle();
  assert.equal(r.flushes, 1, 'ran empty: one flush');
  const d = deferred();
  await w.push(2);
  await w.settle();
  assert.equal(r.flushes, 2);
  await w.push(d.promise);
  await w.push(3);
  t = 50;
  d.resolve(9);
  await w.settle();
  assert.deepEqual(r.log, [0, 1, 2, 9, 3]);
});

test('OrderedWindow: a failed item stops writing at that point and rejects push and settle', async () => {
  const r = recorder();
  const w = new OrderedWindow(r.sink, { size: 4, flushMs: 0, now: () => 0 });
  const bad = deferred();
  await w.push(0);
  await w.push(bad.promise);
  await w.push(2);
  bad.reject(new Error('boom'));
  await assert.rejects(w.settle(), /boom/);
  await assert.rejects(w.push(3), /boom/);
  assert.deepEqual(r.log, [0]);
  await w.stop();
});

test('OrderedWindow: stop keeps what was written and ignores items that settle later', async () => {
  const r = recorder();
  const w = new OrderedWindow(r.sink, { size: 4, flushMs: 0, now: () => 0 });
  const late = deferred();
  await w.push(0);
  await w.push(late.promise);
  await w.stop();
  late.resolve(1);
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(r.log, [0]);
});

test('OrderedWindow: an item pushed into a failed window is dropped, its rejection handled', async () => {
  const r = recorder();
  const w = new OrderedWindow(r.sink, { size: 4, flushMs: 0, now: () => 0 });
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    await w.push(Promise.reject(new Error('first')));
    await assert.rejects(w.settle(), /first/);
    const late = deferred();
    await assert.rejects(w.push(late.promise), /first/);
    late.reject(new Error('late'));
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('RunIdSet: distinct ids, growth, 200k ids without a false hit among seeded lookups', () => {
  const s = new RunIdSet(4);
  assert.equal(s.add('trun_1'), true);
  assert.equal(s.add('trun_1'), false);
  assert.equal(s.has('trun_2'), false);
  for (let i = 0; i < 200_000; i++) s.add(`trun_${i.toString(36)}_x`);
  assert.equal(s.size, 200_001);
  for (let i = 0; i < 200_000; i += 997) assert.equal(s.has(`trun_${i.toString(36)}_x`), true);
  const rnd = mulberry32(7);
  for (let i = 0; i < 20_000; i++) assert.equal(s.has(`other_${Math.floor(rnd() * 1e12)}`), false);
});

test('CSV formula guard: = + - @ tab and CR get an apostrophe, numbers do not', () => {
  for (const v of ['=SUM(A1)', '+cmd', '-2+3', '@x', '\t=1', '\r=1']) assert.equal(neutralise(v), `'${v}`);
  for (const v of ['-5', '+1.5e3', '12', 'plain', '', "'=already"]) assert.equal(neutralise(v), v);
});

test('join check: CSV strings against schema-coerced run inputs', () => {
  assert.equal(inputMatchesRow({ name: 'A', n: '1.50', ok: 'true' }, { name: 'A', n: 1.5, ok: true }), true);
  assert.equal(inputMatchesRow({ name: 'B', n: '1' }, { name: 'A', n: 1 }), false);
  assert.equal(inputMatchesRow({ name: 'A' }, { name: 'A', extra: 'x' }), false);
  assert.equal(inputMatchesRow({ q: 'What is 2+2?', id: '7' }, 'What is 2+2?'), true); // --input-column
  assert.equal(inputMatchesRow({ name: 'A' }, undefined), true); // no stored input to check
});

test('writeFileAtomic never follows a planted symlink and leaves no temp file', () => {
  const d = mkdtempSync(path.join(tmpdir(), 'tg-atomic-'));
  const victim = path.join(d, 'victim');
  writeFileSync(victim, 'keep');
  // The old predictable name was .<base>.<pid>.tmp: plant links at every pid-like name we can guess.
  symlinkSync(victim, path.join(d, `.state.json.${process.pid}.tmp`));
  writeFileAtomic(path.join(d, 'state.json'), '{"a":1}\n');
  assert.equal(readFileSync(victim, 'utf8'), 'keep');
  assert.equal(readFileSync(path.join(d, 'state.json'), 'utf8'), '{"a":1}\n');
  assert.deepEqual(readdirSync(d).sort(), ['.state.json.' + process.pid + '.tmp', 'state.json', 'victim'].sort());
});

test('writeAllAt: lines at a position in one writev; a short write is finished from a copy', () => {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'tg-writev-')), 'out.jsonl');
  writeFileSync(f, 'kept\nstale tail');
  const bufs = ['{"a":"é"}\n', '{"b":2}\n'].map((s) => Buffer.from(s));
  const total = bufs[0].length + bufs[1].length;
  const fd = fs.openSync(f, 'r+');
  writeAllAt(fd, bufs, total, 5);
  // an error part-way: writev wrote 3 bytes; the rest goes out with writeSync
  const calls = [];
  const io = {
    writevSync: (d, b, p) => fs.writeSync(d, b[0], 0, 3, p),
    writeSync: (d, b, off, len, p) => (calls.push([off, len]), fs.writeSync(d, b, off, len, p)),
  };
  writeAllAt(fd, bufs, total, 5 + total, io);
  fs.closeSync(fd);
  assert.equal(readFileSync(f, 'utf8'), 'kept\n{"a":"é"}\n{"b":2}\n{"a":"é"}\n{"b":2}\n');
  assert.deepEqual(calls, [[3, total - 3]]);
});

test('utf8Chunks: a character split between chunks stays whole; only a leading BOM is dropped', () => {
  const bytes = Buffer.from('\ufeffdata: {"a":"é☕"}\n\ufeff');
  for (let cut = 0; cut <= bytes.length; cut++) {
    const text = utf8Chunks();
    assert.equal(text(bytes.subarray(0, cut)) + text(bytes.subarray(cut)), 'data: {"a":"é☕"}\n\ufeff', `cut at ${cut}`);
  }
  assert.equal(utf8Chunks()(Buffer.from([0x61, 0xff, 0x62])), 'a\ufffdb');
});
