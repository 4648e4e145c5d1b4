// The layering ARCHITECTURE.md draws, checked on the sources — every import counts: value,
// `import type`, `export … from`, and dynamic `import()`. No import cycle; each layer imports only
// the layers below it; no command imports another command's files; every path ARCHITECTURE.md
// names exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');

/** @param {string} dir @returns {string[]} */
function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? tsFiles(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : [],
  );
}

/** Every import of one file, resolved to files of src/: static (type-only too), re-exports and dynamic imports. */
export function importsOf(file, text = readFileSync(file, 'utf8')) {
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s+(?:type\s+)?[^;]*?\bfrom\s+'(\.[^']+)'/gms),
    ...text.matchAll(/^\s*import\s+'(\.[^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g),
  ].map((m) => m[1]);
  return specs.map((spec) => {
    const base = path.resolve(path.dirname(file), spec);
    const hit = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => existsSync(f));
    assert.ok(hit, `${path.relative(src, file)}: cannot resolve '${spec}'`);
    return hit;
  });
}

const graph = new Map(tsFiles(src).map((f) => [f, importsOf(f)]));
const rel = (f) => path.relative(src, f).split(path.sep).join('/');

/** A module's layer: its top folder under src/, or its file name for the files at the top. */
const layerOf = (f) => rel(f).split('/')[0].replace(/\.ts$/, '');

/** The diagram of ARCHITECTURE.md: each layer and the layers it may import (its own always). */
const MAY_IMPORT = {
  errors: [],
  core: ['errors'],
  api: ['core', 'errors'],
  io: ['core', 'errors'],
  emulator: ['core', 'errors'],
  workers: ['api', 'core', 'errors'],
  options: ['io', 'emulator', 'core', 'errors'],
  config: ['options', 'core', 'errors'],
  context: ['config', 'options', 'api', 'io', 'emulator', 'core', 'errors'],
  flows: ['context', 'config', 'options', 'workers', 'api', 'io', 'core', 'errors'],
  commands: ['flows', 'context', 'config', 'options', 'workers', 'api', 'io', 'emulator', 'core', 'errors'],
  cli: ['commands', 'context', 'config', 'options', 'io', 'core', 'errors'],
  main: ['cli', 'core', 'errors'],
  index: null, // the library's entry: exports from any layer
};

test('no import cycle among the modules of src/ (type-only and dynamic imports included)', () => {
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
  assert.ok(graph.size > 80, `read ${graph.size} modules`);
  assert.deepEqual(cycles, []);
});

test('each layer imports only the layers ARCHITECTURE.md draws below it', () => {
  const bad = [];
  for (const [f, deps] of graph) {
    const from = layerOf(f);
    assert.ok(from in MAY_IMPORT, `${rel(f)}: a layer the diagram does not know (${from}); add it to ARCHITECTURE.md and this test`);
    const may = MAY_IMPORT[from];
    if (may === null) continue;
    for (const d of deps) {
      const to = layerOf(d);
      if (to !== from && !may.includes(to)) bad.push(`${rel(f)} → ${rel(d)}`);
    }
  }
  assert.deepEqual(bad, []);
});

test("no command imports another command's files", () => {
  const commandOf = (f) => rel(f).split('/').slice(0, 2).join('/').replace(/\.ts$/, '');
  const bad = [];
  for (const [f, deps] of graph) {
    if (layerOf(f) !== 'commands') continue;
    for (const d of deps) if (layerOf(d) === 'commands' && commandOf(d) !== commandOf(f)) bad.push(`${rel(f)} → ${rel(d)}`);
  }
  assert.deepEqual(bad, []);
});

test('the checker sees type-only, re-exported and dynamic imports', () => {
  const f = path.join(src, 'core', 'probe.ts');
  const deps = importsOf(
    f,
    "import type { Context } from '../context';\nexport { run } from '../cli';\nconst x = () => import('../commands/fetch');\nimport {\n  a,\n} from './util';\n",
  ).map(rel);
  assert.deepEqual(deps.sort(), ['cli.ts', 'commands/fetch/index.ts', 'context.ts', 'core/util.ts']);
});

test('every path ARCHITECTURE.md names exists', () => {
  const text = readFileSync(path.join(root, 'ARCHITECTURE.md'), 'utf8');
  const named = new Set([...text.matchAll(/`((?:src|test|bench|scripts|fixtures|bin|dist)\/[\w./*-]+|[\w-]+\/[\w./-]+\.(?:ts|mjs|cjs))`/g)].map((m) => m[1]));
  assert.ok(named.size > 30, `ARCHITECTURE.md names ${named.size} paths`);
  const missing = [];
  for (const p of named) {
    if (p.startsWith('dist/') || p.includes('*')) continue; // built, or a pattern
    const candidates = [path.join(root, p), path.join(src, p)];
    if (!candidates.some((c) => existsSync(c) && (statSync(c).isFile() || statSync(c).isDirectory()))) missing.push(p);
  }
  assert.deepEqual(missing, []);
});
