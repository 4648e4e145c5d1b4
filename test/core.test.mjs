// Pure core: retry maths, rate budget, plans, flattening, row preparation, journal replay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tg, seeded } from './helpers.mjs';

test('backoff grows, is capped and jittered down by at most 25%', () => {
  const d = [0, 1, 2, 3, 10].map((a) => tg.backoffDelay(a, () => 0));
  assert.deepEqual(d, [500, 1000, 2000, 4000, 30000]);
  assert.equal(
    tg.backoffDelay(1, () => 0.9999),
    Math.round(1000 * (1 - 0.9999 * 0.25)),
  );
});

test('retry-after: ms header first, then seconds, then HTTP date; never shortened', () => {
  assert.equal(tg.serverRetryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '9' }, 0), 1500);
  assert.equal(tg.serverRetryAfterMs({ 'retry-after': '90' }, 0), 90000);
  assert.equal(tg.serverRetryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 4000), 6000);
  assert.equal(tg.serverRetryAfterMs({}, 0), undefined);
  assert.equal(
    tg.retryDelay(0, 120000, () => 0.5),
    120000,
  );
});

test('RunBudget never exceeds the limit in any window and reaches it exactly', () => {
  const b = new tg.RunBudget(2000, 6000);
  let now = 0;
  const sends = [];
  for (let i = 0; i < 20; i++) {
    now += b.waitMs(1000, now);
    const r = b.reserve(1000, now);
    b.commit(r, now);
    sends.push(now);
  }
  // Two batches per window: the 20th batch goes at 9 windows.
  assert.equal(sends.at(-1), 54000);
  for (const t of sends) assert.ok(sends.filter((s) => s > t - 6000 && s <= t).length * 1000 <= 2000);
  const c = new tg.RunBudget(10, 1000);
  const r = c.reserve(10, 0);
  assert.equal(c.waitMs(5, 0), 1000);
  c.cancel(r);
  assert.equal(c.waitMs(5, 0), 0);
});

test('shownPath: inside the cwd relative, under home ~/, else absolute', () => {
  assert.equal(tg.shownPath('/w/a/b.jsonl', '/w', '/root'), 'a/b.jsonl');
  assert.equal(tg.shownPath('/root/.local/state/tg/j.jsonl', '/tmp/x', '/root'), '~/.local/state/tg/j.jsonl');
  assert.equal(tg.shownPath('/root/.local/state/tg/j.jsonl', '/tmp/x', '/root/'), '~/.local/state/tg/j.jsonl');
  assert.equal(tg.shownPath('/rootless/j', '/tmp/x', '/root'), '/rootless/j');
  assert.equal(tg.shownPath('/var/j', '/tmp/x', undefined), '/var/j');
});

test("parseRate and parseDuration; --timeout beyond a timer's 24.8 days is 24.8 days, not 1 ms", () => {
  assert.equal(tg.parseTimeout('600'), 600_000);
  assert.equal(tg.parseTimeout('3000000'), tg.MAX_TIMER_MS);
  assert.equal(tg.parseTimeout(undefined), undefined);
  assert.deepEqual(tg.parseRate('2000'), { limit: 2000, windowMs: 60000 });
  assert.deepEqual(tg.parseRate('2500/5s'), { limit: 2500, windowMs: 5000 });
  assert.deepEqual(tg.parseRate('100/500ms'), { limit: 100, windowMs: 500 });
  assert.equal(tg.parseRate('off'), null);
  assert.throws(() => tg.parseRate('fast'));
  assert.equal(tg.parseDuration('200ms'), 200);
  assert.equal(tg.parseDuration('6s'), 6000);
});

test('plan: batches and minimum duration at the rate limit', () => {
  const runs = { limit: 2000, windowMs: 6000, unit: 'runs' };
  assert.deepEqual(tg.planBatches(20000, 1000, runs), { rows: 20000, batchSize: 1000, batches: 20, minDurationMs: 54000 });
  assert.equal(tg.planBatches(1500, 1000, { ...runs, windowMs: 60000 }).minDurationMs, 0);
  // Counting requests (the default): 20 POSTs fit one window of 2000.
  assert.equal(tg.planBatches(20000, 1000, { limit: 2000, windowMs: 6000 }).minDurationMs, 0);
  assert.equal(tg.planBatches(20000, 100, { limit: 50, windowMs: 6000, unit: 'requests' }).minDurationMs, 3 * 6000);
  assert.equal(tg.planBatches(0, 1000, null).batches, 0);
  assert.equal(tg.formatDuration(3_723_000), '1h02m');
});

test('progress maths uses the budget when faster than observed', () => {
  const s = tg.progressStats(500, 2500, 0, 15000, 2000);
  assert.equal(Math.round(s.perMin), 2000);
  assert.equal(Math.round(s.etaMs), 60000);
  assert.equal(tg.progressStats(10, 10, 0, 1000).etaMs, 0);
});

test('CSV flattening: input.*, output.*, run_id, status, error; nested values as JSON', () => {
  const flat = tg.flatten({
    input: { input: { name: 'Acme, Inc.' } },
    run: { run_id: 'trun_1', status: 'completed', error: null },
    output: { type: 'json', content: { tags: ['a', 'b'], n: 3 } },
  });
  assert.deepEqual(flat, { 'input.name': 'Acme, Inc.', 'output.tags': ['a', 'b'], 'output.n': 3, run_id: 'trun_1', status: 'completed', error: null });
  assert.equal(tg.csvLine(['Acme, Inc.', ['a'], 'say "hi"', null, 3]), '"Acme, Inc.","[""a""]","say ""hi""",,3');
  assert.deepEqual(tg.orderColumns(['run_id', 'output.x', 'error', 'input.a', 'status']), ['input.a', 'output.x', 'run_id', 'status', 'error']);
});

test('prepareRow: coercion, required fields, keys, size limit', async () => {
  const spec = await tg.loadSpec(
    's.json',
    JSON.stringify({
      input_schema: {
        type: 'json',
        json_schema: { type: 'object', properties: { name: { type: 'string' }, n: { type: 'integer' } }, required: ['name', 'n'] },
      },
      output_schema: { type: 'json', json_schema: { type: 'object', properties: { x: { type: 'string' } } } },
    }),
    true,
  );
  const ok = tg.prepareRow({ name: 'A', n: '7', extra: 'dropped' }, 0, { textCells: true, spec });
  assert.deepEqual(ok, { ok: true, key: '1', input: { name: 'A', n: 7 }, json: '{"name":"A","n":7}', chars: 18 });
  const bad = tg.prepareRow({ name: 'A', n: 'seven' }, 4, { textCells: true, spec });
  assert.equal(bad.ok, false);
  assert.equal(tg.formatIssue('f.csv:6', bad.issues[0], true), 'f.csv:6: column "n": must be integer (type)');
  const miss = tg.prepareRow({ n: '1', name: '' }, 0, { textCells: true, spec });
  assert.equal(miss.issues[0].field, 'name');
  assert.equal(miss.issues[0].rule, 'required');
  const big = tg.prepareRow({ q: 'x'.repeat(25001) }, 0, { textCells: false, spec: null });
  assert.equal(big.issues[0].rule, 'size');
  const keyed = tg.prepareRow({ id: 42, q: 'x' }, 0, { textCells: false, keyColumn: 'id', spec: null });
  assert.equal(keyed.key, '42');
  assert.equal(tg.prepareRow('just text', 2, { textCells: false, spec: null }).input, 'just text');
});

test('spec errors are clear', async () => {
  await assert.rejects(tg.loadSpec('s.json', '{"output_schema": ', false), /s\.json.*not valid JSON/);
  await assert.rejects(tg.loadSpec('s.json', '[]', false), /must be a JSON object/);
  await assert.rejects(
    tg.loadSpec('s.json', JSON.stringify({ output_schema: { type: 'json', json_schema: { type: 'array' } } }), false),
    /root must have "type": "object"/,
  );
  await assert.rejects(
    tg.loadSpec(
      's.json',
      JSON.stringify({ output_schema: { type: 'json', json_schema: { type: 'object', properties: { a: { type: 'string', colour: 1 } } } } }),
      false,
    ),
    /unknown keyword: "colour"/,
  );
});

test('journal replay: sent, pending, held and partially reconciled chunks; the runs it accounts for', () => {
  const r = tg.replayJournal([
    { t: 'header', v: 2 },
    { t: 'group', id: 'g' },
    { t: 'sending', g: 'g', c: 0, h: 'h0', n: 3 },
    { t: 'sent', g: 'g', c: 0, run_ids: ['a', 'b', 'c'], run_cursor: null },
    { t: 'sending', g: 'g', c: 1, h: 'h1', n: 3 },
    { t: 'sent', g: 'g', c: 1, run_ids: ['d', 'e', 'f'], run_cursor: 'r.3' },
    { t: 'sending', g: 'g', c: 2, h: 'h2', n: 3 },
    { t: 'found', g: 'g', c: 2, offsets: [0], run_ids: ['g'] },
    { t: 'sending', g: 'g', c: 2, h: 'h2', n: 3, offsets: [1, 2] },
    { t: 'held', g: 'g', c: 3, h: 'h3', n: 2 },
  ]);
  assert.equal(r.group, 'g');
  assert.equal(r.chunks.get(0).covered, 'all');
  assert.equal(r.chunks.get(2).pending, true);
  assert.equal(r.chunks.get(2).scanFrom, 'r.3');
  assert.deepEqual([...r.chunks.get(2).covered], [0]);
  assert.equal(r.chunks.get(3).covered, 'all');
  assert.equal(r.knownRuns, 3 + 3 + 1 + 2);
  // A chunk recorded again with other rows (the input changed) replaces the old record.
  const r2 = tg.replayJournal([
    { t: 'sending', g: 'g', c: 0, h: 'old', n: 3 },
    { t: 'sent', g: 'g', c: 0, run_ids: ['a', 'b', 'c'], run_cursor: null },
    { t: 'held', g: 'g', c: 0, h: 'new', n: 4, offsets: [0, 1, 2] },
  ]);
  assert.equal(r2.group, 'g');
  assert.equal(r2.knownRuns, 3);
  assert.deepEqual([...r2.chunks.get(0).covered], [0, 1, 2]);
});

test('ledger: identities by source or key column; present, new, conflict; a key-column change is seen', () => {
  const { Ledger, rowMarks, rowSha, keyColumnChange } = tg;
  const l = new Ledger();
  const j = (x) => JSON.stringify(x);
  const sha = rowSha(j({ a: 1 }), 'base', null);
  const sha2 = rowSha(j({ a: 2 }), 'base', null);
  assert.match(sha, /^[0-9a-f]{16}$/);
  assert.notEqual(sha, rowSha(j({ a: 1 }), 'core', null), 'the processor is part of the digest');
  assert.notEqual(sha, rowSha(j({ a: 1 }), 'base', 'spec'), 'the spec is part of the digest');
  assert.notEqual(rowSha(j('1'), 'base', null), rowSha(j(1), 'base', null));
  const many = new Set(Array.from({ length: 20000 }, (_, i) => rowSha(j({ n: i }), 'base', null)));
  assert.equal(many.size, 20000, 'no collisions among 20k similar rows');
  l.add({ tg_key: '1', tg_src: 'srcA', tg_sha: sha });
  l.add({ tg_key: 'x@y', tg_src: 'srcB', tg_kc: 'email', tg_sha: sha });
  l.add({ other: 'not tg' });
  assert.equal(l.runs, 3);
  assert.equal(l.tagged, 2);
  const st = (src, kc, key, s) => l.stateOf(...rowMarks(src, kc, key, s));
  assert.equal(st('srcA', undefined, '1', sha), 'present');
  assert.equal(st('srcB', undefined, '1', sha), 'present', 'the same row from another source (stdin, a copy)');
  assert.equal(st('srcB', undefined, '1', sha2), 'new', "another file's row 1");
  assert.equal(st('srcA', undefined, '1', sha2), 'conflict', 'row 1 of the same source changed');
  assert.equal(st('srcZ', 'email', 'x@y', sha), 'present', 'an explicit key is shared by every source');
  assert.equal(st('srcZ', 'email', 'x@y', sha2), 'conflict');
  assert.equal(keyColumnChange(l, 'srcA', 'email'), '');
  assert.equal(keyColumnChange(l, 'srcA', undefined), null);
  assert.equal(keyColumnChange(l, 'srcB', undefined), 'email');
});

test('NumTable: the same answers as a Map for random 52-bit keys, through growth; key 0 is a key', (t) => {
  const { random } = seeded(52, t);
  const table = new tg.NumTable(true, 4);
  const set = new tg.NumTable(false);
  const oracle = new Map();
  const keys = [0, 2 ** 52 - 1, ...Array.from({ length: 5000 }, () => Math.floor(random() * 2 ** 52))];
  for (const [i, k] of keys.entries()) {
    table.set(k, i);
    set.set(k);
    oracle.set(k, i);
  }
  assert.equal(table.size, oracle.size);
  assert.equal(set.size, oracle.size);
  for (const [k, v] of oracle) {
    assert.equal(table.get(k), v);
    assert.equal(set.get(k), 0);
    assert.ok(set.has(k));
  }
  for (let i = 0; i < 5000; i++) {
    const k = Math.floor(random() * 2 ** 52);
    assert.equal(table.has(k), oracle.has(k));
    assert.equal(table.get(k), oracle.get(k));
  }
});

test('emulator timestamps: the ISO form with microseconds, whatever the order of calls', () => {
  const { random } = seeded(20261125);
  const base = Date.UTC(2026, 10, 25, 23, 59, 58);
  for (let i = 0; i < 2000; i++) {
    const ms = base + Math.floor(random() * 4000) + (i % 3 ? 0 : random());
    assert.equal(tg.iso(ms), new Date(ms).toISOString().slice(0, -1) + '000Z');
  }
});
