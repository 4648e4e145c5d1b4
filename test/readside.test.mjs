// The read side at the size where tg parses listings in a worker thread (5000 runs and up): fetch
// and watch of a completed group write the API's events as they are, the same lines both, and
// resume exactly from a cursor left mid-way (lines past it and a torn line cut off). Also the
// parse pipeline itself (order, breaks, bad data; worker and main thread alike) and the results
// file's snapshot rule (a flush saves only what was queued before it began). Seeded; no timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import Parallel from 'parallel-web';
import { tg, emulator, runInProcess, tmp, KEY, fixture, seeded } from './helpers.mjs';

const { parsedLines, workerParser, inlineParser, describeEvents, FileSink, NetworkError, mulberry32 } = tg;

const NAMES = ['Société Générale', 'Zürich ✓', 'Acme 🚀 Rockets', 'O\'Brien "Quotes" & Co', 'Plain'];

/** A completed group of n runs on the emulator (inputs with accents, emoji and quotes). */
async function completedGroup(url, n) {
  const sdk = new Parallel({ apiKey: KEY, baseURL: url });
  const spec = JSON.parse(readFileSync(fixture('company-spec.json'), 'utf8'));
  const { taskgroup_id: id } = await sdk.taskGroup.create({});
  for (let i = 0; i < n; i += 1000) {
    const inputs = [];
    for (let k = i + 1; k <= Math.min(n, i + 1000); k++)
      inputs.push({
        input: { company_name: `${NAMES[k % NAMES.length]} ${k}`, company_website: `https://c${k}.example` },
        processor: 'base',
        metadata: { tg_key: String(k) },
      });
    await sdk.taskGroup.addRuns(id, { inputs, default_task_spec: spec, refresh_status: false });
  }
  for (;;) {
    const g = await sdk.taskGroup.retrieve(id);
    if (!g.status.is_active) return { sdk, id };
    await new Promise((r) => setImmediate(r));
  }
}

const linesOf = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

/** Leave `file` as a kill after `k` durable lines would: the cursor at line k, then more whole lines and a torn one. */
function cutAt(file, k, cursorOf) {
  const all = linesOf(file);
  const bytes = Buffer.byteLength(all.slice(0, k).join('\n') + '\n');
  const state = JSON.parse(readFileSync(`${file}.tg.json`, 'utf8'));
  const last = JSON.parse(all[k - 1]);
  Object.assign(state, { bytes, lines: k, counts: { completed: k } }, cursorOf(last.event_id));
  writeFileSync(`${file}.tg.json`, JSON.stringify(state) + '\n');
  writeFileSync(file, all.slice(0, k + 40).join('\n') + '\n');
  appendFileSync(file, all[k + 40].slice(0, 100)); // a torn last line
}

test(
  'fetch and watch of a 6000-run group: the API events as sent, the same lines, and an exact resume from a cursor mid-way',
  { timeout: 240_000 },
  async (t) => {
    const { int } = seeded(17, t);
    const e = await emulator({ rateLimit: null, latencyMs: [1, 5] });
    try {
      const n = 6000;
      const { sdk, id } = await completedGroup(e.url, n);
      const d = tmp();
      const f = await runInProcess(['fetch', id, '-o', 'f.jsonl', '--verbose', '--base-url', e.url], { cwd: d });
      assert.equal(f.code, 0, f.stderr);
      assert.match(f.stderr, /http GET \/v1\/tasks\/groups\/\w+\/runs: its events parsed in a worker thread/);
      const fetched = linesOf(path.join(d, 'f.jsonl'));
      assert.equal(fetched.length, n);
      // Each line is the event the API lists, with its input and output (the SDK reads the same listing).
      const listed = [];
      for await (const ev of await sdk.taskGroup.getRuns(id, { include_input: true, include_output: true })) listed.push(ev);
      assert.deepEqual(
        fetched.map((l) => JSON.parse(l)),
        listed,
      );
      assert.match(fetched.find((l) => l.includes('🚀')) ?? '', /"company_name":"Acme 🚀 Rockets \d+"/);
      const w = await runInProcess(['watch', id, '-o', 'w.jsonl', '--verbose', '--base-url', e.url], { cwd: d });
      assert.equal(w.code, 0, w.stderr);
      assert.match(w.stderr, /its events parsed in a worker thread/);
      assert.doesNotMatch(w.stderr, /\/result/, 'no result GET');
      const ref = readFileSync(path.join(d, 'f.jsonl'), 'utf8');
      assert.equal(readFileSync(path.join(d, 'w.jsonl'), 'utf8'), ref);
      // Killed mid-way: the same command cuts the file back to its cursor and ends with the same file.
      /** @type {[string, string, (eventId: string) => object][]} */
      const cases = [
        ['watch', 'w.jsonl', (eventId) => ({ extra: { runs: eventId }, last_event_id: null })],
        ['fetch', 'f.jsonl', (eventId) => ({ last_event_id: eventId })],
      ];
      for (const [cmd, file, cursorOf] of cases) {
        const k = int(1, n - 100);
        cutAt(path.join(d, file), k, cursorOf);
        const r = await runInProcess([cmd, id, '-o', file, '--base-url', e.url], { cwd: d });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(readFileSync(path.join(d, file), 'utf8'), ref, `${cmd} resumed at line ${k}`);
        assert.equal(JSON.parse(readFileSync(path.join(d, `${file}.tg.json`), 'utf8')).lines, n);
      }
    } finally {
      await e.close();
    }
  },
);

/** Seeded event texts: some completed with output, some failed (no output), one spread over lines, a group status. */
function eventTexts(n, rnd) {
  return Array.from({ length: n }, (_, i) => {
    if (i % 97 === 5) return JSON.stringify({ type: 'task_group_status', event_id: `e.${i}`, status: { is_active: true } });
    const failed = rnd() < 0.2;
    const ev = {
      type: 'task_run.state',
      event_id: `r.${i}`,
      input: { input: { name: `${NAMES[i % NAMES.length]} ${i}` } },
      run: { run_id: `trun_${i}`, status: failed ? 'failed' : 'completed' },
      output: failed ? null : { type: 'json', content: { n: i, text: 'x'.repeat(Math.floor(rnd() * 3000)) } },
    };
    return i === 333 ? JSON.stringify(ev, null, 1) : JSON.stringify(ev);
  });
}

/** The texts cut into batches of seeded sizes. */
function batchesOf(texts, rnd) {
  const out = [];
  for (let i = 0; i < texts.length;) {
    const k = 1 + Math.floor(rnd() * 60);
    out.push(texts.slice(i, i + k));
    i += k;
  }
  return out;
}

async function* source(batches, end) {
  for (const b of batches) {
    yield [...b];
    await new Promise((r) => setImmediate(r)); // a network read at a time
  }
  if (end) throw end;
}

/** @returns {Promise<{ got: any[], error: any }>} */
async function collect(gen) {
  const got = [];
  try {
    for await (const b of gen) got.push(b);
  } catch (e) {
    return { got, error: e };
  }
  return { got, error: null };
}

test('the parse pipeline: batches in order with their descriptions, the same in the worker thread and here; a break delivers what came before it; bad data stops at its batch', async (t) => {
  const seed = 23;
  t.diagnostic(`seed ${seed}`);
  const rnd = mulberry32(seed);
  const texts = eventTexts(3000, rnd);
  const batches = batchesOf(texts, rnd);
  const want = describeEvents(texts.map((s) => s)).meta;
  const compact = texts.map((s) => JSON.stringify(JSON.parse(s)));
  const parser = workerParser();
  assert.ok(parser, 'the worker is built beside the bundle (dist/parse-worker.cjs)');
  try {
    for (const [name, p] of [
      ['worker', parser],
      ['here', inlineParser()],
    ]) {
      const bad = (s) => new Error(`bad: ${s}`);
      const whole = await collect(parsedLines(source(batches), p, bad));
      assert.equal(whole.error, null, name);
      assert.deepEqual(
        whole.got.flatMap((b) => b.texts),
        compact,
        `${name}: the texts in order, the one spread over lines made compact`,
      );
      assert.deepEqual(
        whole.got.flatMap((b) => b.meta),
        want,
        name,
      );
      const broke = new NetworkError('the connection broke', true);
      const cut = await collect(parsedLines(source(batches.slice(0, 40), broke), p, bad));
      assert.equal(cut.error, broke, name);
      assert.equal(cut.got.flatMap((b) => b.texts).length, batches.slice(0, 40).flat().length, `${name}: everything read before the break`);
      const spoilt = batches.map((b, i) => (i === 30 ? [...b.slice(0, -1), '{"type":"task_run.state","event_id":"r.x",'] : b));
      const stopped = await collect(parsedLines(source(spoilt), p, bad));
      assert.match(String(stopped.error?.message), /^bad: \{"type":"task_run.state","event_id":"r.x",$/, name);
      const before = stopped.got.flatMap((b) => b.texts);
      assert.ok(before.length <= batches.slice(0, 31).flat().length - 1, `${name}: nothing from the bad text on`);
      assert.deepEqual(before, compact.slice(0, before.length), `${name}: what came before it, in order`);
    }
  } finally {
    parser.close();
  }
});

test('a results file: a flush saves the lines queued before it began, not those queued while it runs', async () => {
  const d = tmp();
  const file = path.join(d, 'r.jsonl');
  const sink = FileSink.open(file, 'fetch-jsonl', 'tgrp_x');
  sink.line('{"a":1}', 'completed');
  sink.line('{"b":"é"}', 'failed');
  sink.setEventId('r.2');
  const flushed = sink.flush();
  sink.line('{"c":3}', 'completed');
  sink.setEventId('r.3');
  sink.setExtra({ runs: 'r.3' });
  await flushed;
  const mid = JSON.parse(readFileSync(`${file}.tg.json`, 'utf8'));
  assert.deepEqual(
    [mid.lines, mid.bytes, mid.last_event_id, mid.counts, mid.extra],
    [2, Buffer.byteLength('{"a":1}\n{"b":"é"}\n'), 'r.2', { completed: 1, failed: 1 }, undefined],
  );
  await sink.close();
  const end = JSON.parse(readFileSync(`${file}.tg.json`, 'utf8'));
  assert.deepEqual([end.lines, end.last_event_id, end.counts, end.extra], [3, 'r.3', { completed: 2, failed: 1 }, { runs: 'r.3' }]);
  assert.equal(readFileSync(file, 'utf8'), '{"a":1}\n{"b":"é"}\n{"c":3}\n');
  assert.equal(end.bytes, Buffer.byteLength(readFileSync(file)));
});
