// The source of a worker thread built beside the bundle (dist/<name>, see scripts/build.mjs), or
// the single executable's asset of that name (scripts/package.mjs): `new Worker(source, { eval: true })`.
import fs from 'node:fs';
import path from 'node:path';

/** The worker's source: the single executable's asset, or a loader of the file the build writes beside the bundle; null when neither exists. */
export function workerSource(name: string): string | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sea = require('node:sea') as { isSea(): boolean; getAsset(key: string, encoding: string): string };
    if (sea.isSea()) return sea.getAsset(name, 'utf8');
  } catch {
    /* not a single executable, or a node without node:sea */
  }
  const file = path.join(__dirname, name);
  return fs.existsSync(file) ? loaderOf(file) : null;
}

/**
 * Runs the worker's bundle compiled with the V8 code cache the build wrote beside it, as bin/tg
 * does for the CLI (documented APIs only; a missing or rejected cache just means V8 compiles it).
 */
function loaderOf(file: string): string {
  return `'use strict';
const fs = require('fs'), path = require('path'), vm = require('vm'), { createRequire } = require('module');
const file = ${JSON.stringify(file)};
let cachedData;
try { cachedData = fs.readFileSync(file + '.cache'); } catch { cachedData = undefined; }
const source = '(function (exports, require, module, __filename, __dirname) {' + fs.readFileSync(file, 'utf8') + '\\n})';
const m = { exports: {} };
new vm.Script(source, { filename: file, cachedData }).runInThisContext()(m.exports, createRequire(file), m, file, path.dirname(file));
`;
}
