// core/join.ts: which run answers a row, and the one tally (its "open" rule) of every join.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputMatchesRow, JoinTally, runOf, type RunLookup, type StoredRun } from '../../src/core/join';

const run = (status: string, input: unknown, attempt = 1): StoredRun => ({ flat: { status, run_id: `r${attempt}` }, input, attempt });
const lookup = (m: Record<string, StoredRun[]>): RunLookup => ({ get: (k) => m[k] ?? [], runs: Object.values(m).flat().length, keys: Object.keys(m).length });

test('inputMatchesRow: every field sent must equal the row (as text; numbers by value); --input-column text', () => {
  assert.ok(inputMatchesRow({ a: '1.50', b: 'x', c: 'extra' }, { a: 1.5, b: 'x' }));
  assert.ok(!inputMatchesRow({ a: '1', b: 'y' }, { a: 1, b: 'x' }));
  assert.ok(!inputMatchesRow({ a: '1' }, { a: 1, b: '' }), 'a field the row lacks');
  assert.ok(inputMatchesRow({ q: 'what?', n: '1' }, 'what?'));
  assert.ok(inputMatchesRow({ a: 1 }, undefined), 'no stored input: nothing to check');
});

test('runOf: the latest attempt among the runs whose input matches; keyed when any run has the key', () => {
  const idx = lookup({ '1': [run('failed', { a: 'x' }, 1), run('completed', { a: 'x' }, 2), run('completed', { a: 'other' }, 3)] });
  assert.equal(runOf({ a: 'x' }, '1', idx).run?.attempt, 2);
  assert.deepEqual(runOf({ a: 'y' }, '1', idx), { run: null, keyed: true });
  assert.deepEqual(runOf({ a: 'x' }, '2', idx), { run: null, keyed: false });
});

test('JoinTally: open = meant to have a run and no finished one; never-sent rows are not open; mismatches are errors', () => {
  const t = new JoinTally();
  t.add(2, true, run('completed', {}), true);
  t.add(3, true, run('running', {}), true); // open: unfinished
  t.add(4, true, null, false); // open: meant to have a run, has none yet
  t.add(5, false, null, false); // rejected or past --limit: not open
  t.add(6, true, run('failed', {}), true);
  t.add(7, true, null, true); // keyed, no match: a mismatch, not open
  assert.deepEqual([t.rows, t.matched, t.failed, t.openCount, t.open, t.mismatchCount, t.mismatched], [6, 4, 1, 2, [3, 4], 1, [7]]);
  const idx = lookup({ '1': [run('completed', {})] });
  assert.throws(() => t.check(idx, { join: 'rows.csv', group: 'g' }), /1 rows of rows\.csv do not match the input of the run with their key \(line 7\)/);
  const none = new JoinTally();
  none.add(2, true, null, false);
  assert.throws(() => none.check(idx, { join: 'rows.csv', group: 'g' }), /no row of rows\.csv matched a run of g by its key/);
});

test('a completed attempt answers a row before a later one that failed (a failed escalation hides nothing)', () => {
  const idx = lookup({ '1': [run('completed', { a: 'x' }, 1), run('failed', { a: 'x' }, 2)] });
  assert.equal(runOf({ a: 'x' }, '1', idx).run?.attempt, 1);
  const fixed = lookup({ '1': [run('failed', { a: 'x' }, 1), run('completed', { a: 'x' }, 2)] });
  assert.equal(runOf({ a: 'x' }, '1', fixed).run?.attempt, 2);
  const both = lookup({ '1': [run('failed', { a: 'x' }, 1), run('failed', { a: 'x' }, 2)] });
  assert.equal(runOf({ a: 'x' }, '1', both).run?.attempt, 2);
});
