// core/escalate.ts: which rows --escalate asks again, what the job has cost, what a budget fits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { affordable, answerConfidence, chooseWithin, RowRunsTable, triggers, verdictOf, type RunSeen } from '../../src/core/escalate';
import { pricePer1k } from '../../src/core/pricing';
import { outputCells, outputColumns } from '../../src/core/columns';

const basis = (...pairs: [string, string | null][]) => pairs.map(([field, confidence]) => ({ field, reasoning: '', citations: [], confidence }));

test('answerConfidence: the lowest of the top-level fields; list elements and unstated ones do not count', () => {
  const content = { ceo: 'A', tags: ['x', 'y'] };
  assert.equal(answerConfidence({ content, basis: basis(['ceo', 'high'], ['tags', 'medium'], ['tags.0', 'low']) }), 'medium');
  assert.equal(answerConfidence({ content, basis: basis(['ceo', 'HIGH'], ['tags', 'Low']) }), 'low', 'case does not matter');
  assert.equal(answerConfidence({ content, basis: basis(['ceo', null], ['tags', 'high']) }), 'high');
  assert.equal(answerConfidence({ content, basis: basis(['ceo', null], ['other', 'low']) }), null, 'no stated confidence of a field');
  assert.equal(answerConfidence({ content: 'text', basis: basis(['output', 'medium']) }), 'medium', 'a text answer');
  assert.equal(answerConfidence({ content, basis: basis(['ceo', 'unsure']) }), null, 'an unknown word is not a level');
  assert.equal(answerConfidence(null), null);
});

test('triggers: --escalate-on low takes low; medium takes low and medium; never high or none', () => {
  assert.deepEqual(
    (['low', 'medium', 'high', null] as const).map((c) => [triggers(c, 'low'), triggers(c, 'medium')]),
    [
      [true, true],
      [false, true],
      [false, false],
      [false, false],
    ],
  );
});

const run = (attempt: number, status: string, processor: string, conf: string | null, escalation = false): RunSeen => ({
  runId: `r${attempt}`,
  status,
  processor,
  attempt,
  escalation,
  output: conf === null ? null : { content: { f: 1 }, basis: basis(['f', conf]) },
});

test('RowRunsTable: the latest attempt decides whatever the listing order; an escalation anywhere marks the row; cost of paid runs', () => {
  const t = new RowRunsTable((p) => pricePer1k(p));
  t.add('a', run(2, 'completed', 'core', 'low', true));
  t.add('a', run(1, 'completed', 'base', 'low'));
  t.add('b', run(1, 'failed', 'base', null));
  t.add('b', run(2, 'completed', 'base', 'medium'));
  t.add('c', run(1, 'completed', 'base', 'low'));
  t.add('c', run(2, 'failed', 'core', null, true));
  t.add('d', run(1, 'running', 'base', null));
  const a = t.take('a')!;
  assert.deepEqual([a.attempt, a.runId, a.confidence, a.escalated, a.usd], [2, 'r2', 'low', true, 0.035]);
  assert.equal(verdictOf(a, 'low'), 'escalated-before', 'never escalated twice, even when its new answer is low');
  const b = t.take('b')!;
  assert.deepEqual([b.confidence, b.escalated, b.usd], ['medium', false, 0.01], 'the failed run is not paid');
  assert.equal(verdictOf(b, 'low'), 'confident');
  assert.equal(verdictOf(b, 'medium'), 'escalate');
  const c = t.take('c')!;
  assert.equal(verdictOf(c, 'low'), 'escalated-before', 'a failed escalation is not a reason to escalate again');
  assert.equal(verdictOf(t.take('d')!, 'low'), 'not-answered');
  assert.equal(t.take('a'), undefined, 'taken once: a repeated row is counted once');
  t.add('e', run(1, 'completed', 'mystery', 'low'));
  assert.equal(t.take('e')!.usd, null, 'a processor without a price: cost unknown');
  t.add('f', run(1, 'cancelled', 'base', null));
  assert.equal(verdictOf(t.take('f')!, 'low'), 'failed');
});

test('affordable: the runs a budget pays for, on the decimal value', () => {
  assert.equal(affordable(0.4, 25), 16, '$0.40 at $25/1,000 is 16 runs, not 15');
  assert.equal(affordable(0.25, 25), 10);
  assert.equal(affordable(0.249, 25), 9);
  assert.equal(affordable(0, 25), 0);
  assert.equal(affordable(-1, 25), 0);
  assert.equal(affordable(Infinity, 25), Infinity);
  assert.equal(affordable(1, 0), Infinity);
});

test('chooseWithin: all when they fit; else low confidence first, each in input order', () => {
  const c = ['medium', 'low', 'medium', 'low', 'low'].map((level, i) => ({ level: level as 'low' | 'medium', i }));
  assert.deepEqual(chooseWithin(c, 10), { chosen: c, cut: 0 });
  assert.deepEqual(
    chooseWithin(c, 2).chosen.map((x) => x.i),
    [1, 3],
  );
  assert.deepEqual(
    chooseWithin(c, 4).chosen.map((x) => x.i),
    [0, 1, 3, 4],
    'input order kept',
  );
  assert.equal(chooseWithin(c, 4).cut, 1);
  assert.deepEqual(chooseWithin(c, 0), { chosen: [], cut: 5 });
});

test('outputColumns: tg_processor last when asked, after tg_status, tg_error, tg_run_id', () => {
  const cols = outputColumns(['name'], ['ceo'], false, true);
  assert.deepEqual(
    cols.map((c) => c.name),
    ['ceo', 'ceo_confidence', 'ceo_citations', 'tg_status', 'tg_error', 'tg_run_id', 'tg_processor'],
  );
  assert.deepEqual(outputCells(cols, { run_id: 'r', status: 'completed', processor: 'core', output: { content: { ceo: 'A' }, basis: [] } }).slice(-4), [
    'completed',
    undefined,
    'r',
    'core',
  ]);
  assert.equal(outputColumns(['name'], ['ceo'], false).at(-1)!.name, 'tg_run_id', 'without it: the layout as before');
});
