// Writes dist/tg.cjs.cache, the V8 code cache bin/tg loads: compiles the bundle the way bin/tg
// does, runs `tg --version` in-process so the start-up path is compiled too, then saves the
// cache. Also dist/list-worker.cjs.cache and dist/parse-worker.cjs.cache, for the workers (compiled the same way; on
// this thread its code does nothing). Run by scripts/build.mjs with the node that will run tg (the cache is node-specific).
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { createRequire } = require('module');
const { Writable } = require('stream');

function load(file) {
  const source = `(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, 'utf8')}\n})`;
  const script = new vm.Script(source, { filename: file });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, path.dirname(file));
  return { script, mod };
}

for (const name of ['list-worker.cjs', 'parse-worker.cjs']) {
  const worker = path.join(__dirname, '..', 'dist', name);
  fs.writeFileSync(`${worker}.cache`, load(worker).script.createCachedData());
}
const file = path.join(__dirname, '..', 'dist', 'tg.cjs');
const { script, mod } = load(file);
const sink = new Writable({ write: (_c, _e, cb) => cb() });
mod.exports.run(['--version'], { stdout: sink, stderr: sink, env: {}, cwd: process.cwd() }).then(() => {
  fs.writeFileSync(`${file}.cache`, script.createCachedData());
});
