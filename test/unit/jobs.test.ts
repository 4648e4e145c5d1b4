// tg jobs, its pure parts: a journal's account (rows, sent, pending, whether the last run ended),
// a job's state and cost so far, and its line as a table and as tab-separated values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromRecords, type LocalJob } from '../../src/commands/jobs/local';
import { ago, jobView, tableText, tsvLines } from '../../src/commands/jobs/view';
import type { JournalRec } from '../../src/io/journal';

const G = 'tgrp_1';
const header: JournalRec = {
  t: 'header',
  v: 2,
  identity: '/d/in.csv',
  src: 'abc',
  origin: 'https://api.parallel.ai',
  input: '/d/in.csv',
  options: { processor: 'pro' },
  created_at: '2026-01-01T00:00:00.000Z',
};

test("a journal's account: rows, sent, pending, whether the last run ended", () => {
  const sent = (c: number): JournalRec => ({ t: 'sent', g: G, c, run_ids: [], run_cursor: null });
  const sending = (c: number, n: number): JournalRec => ({ t: 'sending', g: G, c, h: `h${c}`, n });
  const done: JournalRec = { t: 'done', g: G, submitted: 25, at: 'x', rows: 25 };
  const finished = fromRecords(
    [header, { t: 'group', id: G, created: true }, sending(0, 10), sent(0), sending(1, 10), sent(1), sending(2, 5), sent(2), done],
    0,
  );
  assert.deepEqual(
    {
      rows: finished.rows,
      exact: finished.rowsExact,
      sent: finished.sent,
      pending: finished.pending,
      interrupted: finished.interrupted,
      processor: finished.processor,
    },
    { rows: 25, exact: true, sent: 25, pending: 0, interrupted: false, processor: 'pro' },
  );
  // killed mid-POST of chunk 1: its 10 rows pending, the rows a lower bound
  const killed = fromRecords([header, { t: 'group', id: G, created: true }, sending(0, 10), sent(0), sending(1, 10)], 0);
  assert.deepEqual(
    { rows: killed.rows, exact: killed.rowsExact, sent: killed.sent, pending: killed.pending, interrupted: killed.interrupted },
    { rows: 20, exact: false, sent: 10, pending: 10, interrupted: true },
  );
  // a canary: one chunk, 3 of its 25 rows sent, the run ended
  const canary = fromRecords(
    [
      header,
      { t: 'group', id: G, created: true },
      { t: 'sending', g: G, c: 0, h: 'h', n: 25, offsets: [0, 1, 2] },
      { t: 'sent', g: G, c: 0, offsets: [0, 1, 2], run_ids: [], run_cursor: null },
      { ...done, submitted: 3 },
    ],
    0,
  );
  assert.deepEqual(
    { rows: canary.rows, exact: canary.rowsExact, sent: canary.sent, interrupted: canary.interrupted },
    { rows: 25, exact: true, sent: 3, interrupted: false },
  );
  // a done record of a tg before `rows`: a lower bound
  const old = fromRecords([header, sending(0, 4), sent(0), { t: 'done', g: G, submitted: 4, at: 'x' }], 0);
  assert.deepEqual({ rows: old.rows, exact: old.rowsExact }, { rows: 4, exact: false });
  // header only: nothing sent, not interrupted
  assert.deepEqual((({ group, rows, interrupted }) => ({ group, rows, interrupted }))(fromRecords([header], 0)), {
    group: null,
    rows: null,
    interrupted: false,
  });
});

function local(over: Partial<LocalJob>): LocalJob {
  return {
    journal: '/s/journals/in.csv-1.jsonl',
    input: '/d/in.csv',
    origin: 'https://api.parallel.ai',
    processor: 'pro',
    group: G,
    createdAt: null,
    activityMs: Date.parse('2026-01-02T00:00:00Z'),
    rows: 25,
    rowsExact: true,
    sent: 25,
    pending: 0,
    interrupted: false,
    damagedRecords: 0,
    unreadable: null,
    submitting: null,
    ...over,
  };
}

test("a job's state, cost so far and line", () => {
  const origin = 'https://api.parallel.ai';
  const group = (counts: Record<string, number>, active = false) => ({
    kind: 'ok' as const,
    group: {
      taskgroup_id: G,
      created_at: null,
      status: { num_task_runs: 25, task_run_status_counts: counts, is_active: active, status_message: null, modified_at: null },
    },
  });
  const v = jobView(local({}), group({ completed: 20, failed: 3, cancelled: 2 }), origin);
  assert.deepEqual(
    { state: v.state, completed: v.completed, failed: v.failed, cancelled: v.cancelled, cost: v.cost_usd, per1k: v.price_per_1k_usd, note: v.note },
    {
      state: 'finished',
      completed: 20,
      failed: 3,
      cancelled: 2,
      cost: 2,
      per1k: 100,
      note: '3 runs failed: tg submit … --retry-failed sends those rows again',
    },
  );
  assert.equal(jobView(local({}), group({ running: 25 }, true), origin).state, 'running');
  assert.equal(jobView(local({ sent: 3 }), group({ completed: 3 }), origin).state, 'partial');
  assert.equal(jobView(local({ interrupted: true }), group({ completed: 3 }), origin).state, 'interrupted');
  assert.equal(jobView(local({ interrupted: true }), { kind: 'gone' }, origin).state, 'gone');
  assert.equal(jobView(local({ origin: 'http://127.0.0.1:1' }), null, origin).state, 'other-api');
  assert.equal(jobView(local({ group: null }), null, origin).state, 'not-sent');
  assert.equal(jobView(local({ unreadable: 'x: not a tg journal', origin: null }), null, origin).state, 'damaged');
  assert.equal(jobView(local({ submitting: { pid: 7, host: 'h', what: 'submitting in.csv', since: 's' } }), null, origin).state, 'submitting');
  assert.equal(jobView(local({}), { kind: 'failed', message: 'boom' }, origin).note, 'the group could not be asked: boom');
  assert.equal(jobView(local({ processor: 'mystery' }), group({ completed: 1 }), origin).cost_usd, null);
  // printing: tab-separated without a header; a table with one
  const rows = [v, jobView(local({ rowsExact: false, rows: 40, sent: 10, interrupted: true, input: '-' }), null, origin)];
  const tsv = tsvLines(rows).split('\n');
  assert.equal(
    tsv[0],
    `/d/in.csv\t${G}\tfinished\t25\t25\t20\t3\t2\t2\t2026-01-02T00:00:00.000Z\t3 runs failed: tg submit … --retry-failed sends those rows again`,
  );
  assert.equal(tsv[1].split('\t').slice(0, 5).join('\t'), `-\t${G}\tinterrupted\t40\t10`);
  const table = tableText(rows, { now: Date.parse('2026-01-02T03:00:00Z'), cwd: '/d' }).split('\n');
  assert.match(table[0], /^INPUT +GROUP +STATE +ROWS +SENT +COMPLETED +FAILED +CANCELLED +COST +ACTIVITY +NOTE$/);
  assert.match(table[1], /^in\.csv +tgrp_1 +finished +25 +25 +20 +3 +2 +\$2\.00 +3h ago +3 runs failed/);
  assert.match(table[2], /^<stdin> +tgrp_1 +interrupted +≥40 +10 +- +- +- +- +3h ago +the last run did not end/);
  assert.deepEqual([ago(0, 59_000), ago(0, 61_000), ago(0, 86_400_000 * 2), ago(0, 86_400_000 * 40)], ['59s ago', '1m ago', '2d ago', '1970-01-01']);
});
