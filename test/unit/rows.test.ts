// core/rows.ts: a group's runs in rows — the latest attempt decides — and what they cost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowTally, rowsText } from '../../src/core/rows';

const md = (key: number, tryN = 1, extra: Record<string, unknown> = {}) => ({
  tg_key: String(key),
  tg_src: 'abc',
  tg_sha: 'f'.repeat(16),
  ...(tryN > 1 ? { tg_try: tryN } : {}),
  ...extra,
});

test('a row whose failure a retry fixed is completed; runs stand beside rows where they differ', () => {
  const t = new RowTally();
  for (let k = 1; k <= 300; k++) t.add({ status: k <= 18 ? 'failed' : 'completed', processor: 'base', metadata: md(k) });
  for (let k = 1; k <= 18; k++) t.add({ status: 'completed', processor: 'base', metadata: md(k, 2) });
  assert.equal(t.rows, 300);
  assert.equal(t.runs, 318);
  assert.equal(t.failedRows, 0);
  assert.deepEqual(t.rowStates(), { completed: 300 });
  assert.equal(rowsText(t), '300 rows: completed 300 (318 runs: 18 retried)');
  assert.equal(t.costUsd, 3, '300 completed runs × $10/1,000; failed runs are not counted');
});

test('the latest attempt wins whatever the listing order; escalations and foreign runs', () => {
  const t = new RowTally();
  t.add({ status: 'completed', processor: 'core', metadata: md(1, 2, { tg_esc: 'low' }) });
  t.add({ status: 'completed', processor: 'base', metadata: md(1) });
  t.add({ status: 'failed', processor: 'base', metadata: md(2) });
  t.add({ status: 'running', processor: 'base', metadata: null });
  assert.deepEqual(t.rowStates(), { running: 1, completed: 1, failed: 1 });
  assert.equal(t.escalations, 1);
  assert.equal(t.failedRows, 1);
  assert.equal(t.openRows, 1);
  assert.equal(t.costUsd, 0.025 + 0.01);
  t.add({ status: 'completed', processor: 'mystery', metadata: md(3) });
  assert.equal(t.costUsd, null, 'a processor without a price: no total');
});
