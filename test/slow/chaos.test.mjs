// The chaos suite's short form for CI (`npm run test:chaos`; the long form with random seeds is
// `npm run chaos`): two trials with fixed seeds, so CI is reproducible. TG_CHAOS_SEED=S runs S
// and S+1 instead; a failure replays with `npm run chaos -- --seed S --trials 1`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trial } from '../chaos/harness.mjs';

const first = Number(process.env.TG_CHAOS_SEED ?? 1039593633);
for (const seed of [first, (first + 1) >>> 0]) {
  test(`chaos trial, seed ${seed}: SIGKILLs under combined faults; every row one run, every terminal run one line`, { timeout: 240_000 }, async (t) => {
    const s = await trial(seed);
    t.diagnostic(
      `seed ${seed}: ${s.rows} rows; closed pipe: ${s.pipe}; faults: ${s.faults}; SIGKILLs: ${JSON.stringify(s.kills)}; reruns: ${JSON.stringify(s.variations)}`,
    );
    assert.deepEqual(s.problems, [], `replay: npm run chaos -- --seed ${seed} --trials 1`);
  });
}
