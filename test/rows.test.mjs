// Issue L: rows are the unit of truth. After --retry-failed fixes every failure, `tg status`,
// `tg watch` and `submit --watch` exit 0 and say rows (with runs beside them where they differ).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emulator, makeCsv, runInProcess, tmp } from './helpers.mjs';

test('after a retry fixes every failure, status, watch and submit --watch exit 0 and count rows', async (t) => {
  const seed = 7;
  t.diagnostic(`emulator seed ${seed}`);
  const e = await emulator({ latencyMs: [5, 20], failRate: 0.3, seed });
  try {
    const d = tmp();
    const f = makeCsv(d, 40);
    const env = { PARALLEL_BASE_URL: e.url };
    const first = await runInProcess(['submit', f, '--field', 'ceo: the CEO', '--watch', '-o', 'first.csv', '-q'], { cwd: d, env });
    assert.equal(first.code, 1, 'some rows failed');
    const group = JSON.parse((await runInProcess(['jobs', '--json'], { cwd: d, env })).stdout.trim().split('\n')[0]).group;
    const before = await runInProcess(['status', group, '--json'], { cwd: d, env });
    assert.equal(before.code, 1);
    const failedRows = JSON.parse(before.stdout).rows.failed;
    assert.ok(failedRows > 0);
    // Retry until no row's latest attempt failed (each round asks only the rows still failed).
    const retried = await runInProcess(['submit', f, '--field', 'ceo: the CEO', '--retry-failed', '--max-attempts', '10', '--watch', '-o', 'fixed.csv'], {
      cwd: d,
      env,
    });
    assert.equal(retried.code, 0, retried.stderr);
    const st = await runInProcess(['status', group], { cwd: d, env });
    assert.equal(st.code, 0, st.stdout);
    assert.match(st.stdout, /^rows {6}40 rows: completed 40 \(\d+ runs: \d+ retried\)$/m);
    const w = await runInProcess(['watch', group, '-o', 'results.jsonl'], { cwd: d, env });
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stderr, /; in rows: 40 rows: completed 40 \(\d+ runs: \d+ retried\)/);
    const sw = await runInProcess(['submit', f, '--field', 'ceo: the CEO', '--watch', '-o', 'again.jsonl'], { cwd: d, env });
    assert.equal(sw.code, 0, sw.stderr);
  } finally {
    await e.close();
  }
});
