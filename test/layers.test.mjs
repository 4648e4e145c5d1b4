// The layering ARCHITECTURE.md describes, checked on the sources: no import cycle between the
// modules of src/ (type-only imports aside, as they vanish at build time), and the pure core
// imports nothing but itself, errors.ts and node's own modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** @param {string} dir @returns {string[]} */
function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? tsFiles(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : [],
  );
}

/** Runtime imports of one file, resolved to files of src/ (static `import … from`, not `import type`). */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const out = [];
  for (const m of text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'(\.[^']+)'/gms)) {
    const base = path.resolve(path.dirname(file), m[1]);
    const hit = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => existsSync(f));
    assert.ok(hit, `${path.relative(src, file)}: cannot resolve '${m[1]}'`);
    out.push(hit);
  }
  return out;
}

const graph = new Map(tsFiles(src).map((f) => [f, importsOf(f)]));
const rel = (f) => path.relative(src, f);

test('no import cycle among the modules of src/', () => {
  const state = new Map(); // 1: on the path, 2: done
  const cycles = [];
  const visit = (f, trail) => {
    if (state.get(f) === 2) return;
    if (state.get(f) === 1) {
      cycles.push([...trail.slice(trail.indexOf(f)), f].map(rel).join(' → '));
      return;
    }
    state.set(f, 1);
    for (const g of graph.get(f) ?? []) visit(g, [...trail, f]);
    state.set(f, 2);
  };
  for (const f of graph.keys()) visit(f, []);
  assert.ok(graph.size > 50, `read ${graph.size} modules`);
  assert.deepEqual(cycles, []);
});

test('the pure core imports only itself and errors.ts', () => {
  const bad = [];
  for (const [f, deps] of graph)
    if (rel(f).startsWith('core/')) for (const d of deps) if (!rel(d).startsWith('core/') && rel(d) !== 'errors.ts') bad.push(`${rel(f)} → ${rel(d)}`);
  assert.deepEqual(bad, []);
});
