// npm run bench:limits — issue O, side by side in one run, against any build of tg (--tg), on
// emulators of this checkout (the same server for every build measured):
//   (a) read side: the server's speed (curl reading a completed group's listing) vs `tg fetch`,
//       `tg watch -o` and a loop over the official SDK's getRuns, ratios and peak RSS;
//   (b) enriched output memory: `submit --watch -o` and `fetch --join -o` per output format, peak
//       RSS at each size and the largest ÷ smallest;
//   (c) pacing against server windows: elapsed ÷ the server's minimum and 429 shares, fresh and
//       rerun after SIGTERM/SIGKILL, with a pacing trace in bench/out/.
// Peak RSS is GNU time's %M (/usr/bin/time -f %M: the process's maximum resident set, from wait4).
// Every wait races the emulator's exit (bench/common.mjs); temp dirs are removed on any exit.
// Usage: node bench/limits.mjs [--tg path/to/bin/tg] [--only read,memory,pacing] [--reps 3]
//   [--read-runs 100000] [--sizes 100000,1000000] [--pacing-windows 20/10s,10/2s,2000/60s]
//   [--pacing-rows N] [--pacing-batch 10]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadavg } from './common.mjs';
import { readSide } from './limits-read.mjs';
import { memorySide } from './limits-memory.mjs';
import { PACING, pacingSide, parseWindow } from './limits-pacing.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: o } = parseArgs({
  options: {
    tg: { type: 'string', default: path.join(root, 'bin/tg') },
    only: { type: 'string', default: 'read,memory,pacing' },
    reps: { type: 'string', default: '3' },
    'read-runs': { type: 'string', default: '100000' },
    sizes: { type: 'string', default: '100000,1000000' },
    'pacing-windows': { type: 'string', default: PACING.map((p) => p.window).join(',') },
    'pacing-rows': { type: 'string' },
    'pacing-batch': { type: 'string', default: '10' },
  },
});
const count = (name, text) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a whole number ≥ 1 (got ${text})`);
  return n;
};
const only = o.only.split(',');
for (const s of only) if (!['read', 'memory', 'pacing'].includes(s)) throw new Error(`--only takes read, memory or pacing (got ${s})`);
const reps = count('reps', o.reps);
const readRuns = count('read-runs', o['read-runs']);
const sizes = o.sizes.split(',').map((s) => count('sizes', s));
const windows = o['pacing-windows'].split(',');
windows.forEach(parseWindow);
const pacingRows = o['pacing-rows'] === undefined ? undefined : count('pacing-rows', o['pacing-rows']);
const batch = count('pacing-batch', o['pacing-batch']);
const tg = path.resolve(o.tg);
const emuBin = path.join(root, 'bin/tg');
const spec = path.join(root, 'fixtures/company-spec.json');

/** What is measured: tg --version, the commit of the checkout the bin/tg belongs to, when its bundle was built. */
function buildInfo(bin) {
  const v = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  if (v.status !== 0) throw new Error(`${bin} --version failed: ${v.stderr}`);
  const dir = path.dirname(path.dirname(realpathSync(bin)));
  const git = (...a) => spawnSync('git', ['-C', dir, ...a], { encoding: 'utf8' });
  const head = git('log', '-1', '--format=%h %s');
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout.trim() ? ', with uncommitted changes' : '';
  let built = '';
  try {
    built = `, dist/tg.cjs built ${statSync(path.join(dir, 'dist/tg.cjs')).mtime.toISOString()}`;
  } catch {
    built = '';
  }
  return `${bin} (tg ${v.stdout.trim()}; commit ${head.status === 0 ? head.stdout.trim() : 'unknown (not a git checkout)'}${dirty}${built})`;
}

const dir = mkdtempSync(path.join(tmpdir(), 'tg-bench-limits-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
const log = (s) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

const header = [
  `tg bench:limits — node ${process.version}, ${process.platform}/${process.arch}; load average (1/5/15 min) at start: ${loadavg()}`,
  `measured: ${buildInfo(tg)}`,
  `server:   ${buildInfo(emuBin)} (tg emulator)`,
];
const sections = [];
if (only.includes('read')) sections.push(await readSide({ tg, emuBin, dir, runs: readRuns, reps, spec: JSON.parse(readFileSync(spec, 'utf8')), log }));
if (only.includes('memory')) sections.push(await memorySide({ tg, emuBin, dir, sizes, spec, log }));
if (only.includes('pacing')) sections.push(await pacingSide({ tg, emuBin, dir, outDir: path.join(root, 'bench/out'), windows, rows: pacingRows, batch, log }));
console.log(['', ...header, `load average at the end: ${loadavg()}`, ''].join('\n'));
for (const s of sections) console.log([...s, ''].join('\n'));
