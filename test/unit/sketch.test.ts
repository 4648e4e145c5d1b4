// core/sketch.ts: how much of one input another holds, whatever the order of their rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BottomK, containment } from '../../src/core/sketch';
import { hash52 } from '../../src/core/hash';

const sketchOf = (rows: string[]) => {
  const b = new BottomK();
  for (const r of new Set(rows)) b.add(hash52(r));
  return b.sketch();
};
const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `row ${from + i}`);

test('a renamed or re-sorted copy holds all of it; another file none', () => {
  const a = sketchOf(rows(0, 5000));
  assert.equal(containment(a, sketchOf(rows(0, 5000).reverse())), 1);
  assert.equal(containment(a, sketchOf(rows(10_000, 15_000))), 0);
});

test('a file that grew holds all of the old one (containment of the smaller)', () => {
  const small = sketchOf(rows(0, 10));
  assert.equal(containment(small, sketchOf(rows(0, 20))), 1, 'exact for small inputs');
  const c = containment(sketchOf(rows(0, 100_000)), sketchOf(rows(0, 130_000)));
  assert.ok(c > 0.7, `estimated ${c}`);
  const half = containment(sketchOf(rows(0, 100_000)), sketchOf(rows(50_000, 150_000)));
  assert.ok(half > 0.25 && half < 0.8, `half shared, estimated ${half}`);
});
