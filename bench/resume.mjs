// npm run bench:resume — issue F: what the listing of a full group costs. One emulator; 100k
// rows; interleaved rounds, medians of 3: a fresh submit (and, with --old, the same with another
// build), a resume into the full group with the journal intact (no listing), and with the journal
// lost (--group: the group's runs are listed). Prints the listing's cost as a share of a fresh
// submit (target ≤ 5%) and fresh new ÷ old (target ≤ 1).
// Usage: node bench/resume.mjs [--rows 100000] [--old <another bin/tg>]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { companiesCsv, startEmulator, timeTg } from './common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NEW = path.join(root, 'bin/tg');
const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const OLD = arg('--old');
const N = Number(arg('--rows') ?? 100_000);
const dir = mkdtempSync(path.join(tmpdir(), 'tg-bench-resume-'));
const emu = await startEmulator(NEW, ['--rate-limit', 'off']);
const f = await companiesCsv(dir, N);

const run = (bin, args, state) => timeTg(bin, args, { cwd: dir, env: { TG_STATE_DIR: path.join(dir, state) }, emu });

const base = [f, '--rate', 'off', '-q', '--base-url', emu.url];
const res = { ...(OLD ? { 'fresh, --old build': [] } : {}), fresh: [], 'journal intact': [], 'journal lost (--group)': [] };
await run(NEW, ['submit', ...base, '--restart'], 'new'); // warms the emulator up
for (let i = 0; i < 3; i++) {
  if (OLD) res['fresh, --old build'].push(await run(OLD, ['submit', ...base, '--restart'], 'old'));
  const fresh = await run(NEW, ['submit', ...base, '--restart'], 'new');
  res.fresh.push(fresh);
  res['journal intact'].push(await run(NEW, ['submit', ...base], 'new'));
  rmSync(path.join(dir, 'lost'), { recursive: true, force: true });
  res['journal lost (--group)'].push(await run(NEW, ['submit', ...base, '--group', fresh.stdout.trim()], 'lost'));
}
await emu.stop();
rmSync(dir, { recursive: true, force: true });
const med = (xs) => [...xs].sort((a, b) => a.secs - b.secs)[1].secs;
console.log(`\ntg submit, ${N} rows, resume into a full group (node ${process.version})\n`);
console.log('| case | runs (s) | median | peak RSS |\n| --- | --- | --- | --- |');
for (const [k, xs] of Object.entries(res))
  console.log(`| ${k} | ${xs.map((x) => x.secs.toFixed(2)).join(', ')} | ${med(xs).toFixed(2)} s | ${Math.max(...xs.map((x) => x.rssMb)).toFixed(0)} MB |`);
const listing = (med(res['journal lost (--group)']) - med(res['journal intact'])) / med(res.fresh);
console.log(`\nthe listing costs ${(listing * 100).toFixed(1)}% of a fresh submit (target ≤ 5%)`);
if (OLD) console.log(`fresh submit, this build ÷ --old: ${(med(res.fresh) / med(res['fresh, --old build'])).toFixed(2)} (target ≤ 1)`);
