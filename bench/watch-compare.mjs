// npm run bench:watch-compare -- --old <another bin/tg> — issue G's "no slower": `tg watch -o` of
// one completed group, this build and another interleaved on one emulator, medians of 5.
// Usage: node bench/watch-compare.mjs --old <another bin/tg> [--runs 100000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { companiesCsv, runChild, startEmulator, timeTg } from './common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NEW = path.join(root, 'bin/tg');
const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const OLD = arg('--old');
if (!OLD) throw new Error('pass --old <another bin/tg>');
const N = Number(arg('--runs') ?? 100_000);
const dir = mkdtempSync(path.join(tmpdir(), 'tg-bench-watch-compare-'));
const emu = await startEmulator(NEW, ['--rate-limit', 'off', '--latency', '1ms..20ms']);
const url = emu.url;
const env = { ...process.env, PARALLEL_API_KEY: 'bench', TG_STATE_DIR: path.join(dir, 'state') };
const group = (
  await runChild(process.execPath, [NEW, 'submit', await companiesCsv(dir, N), '--rate', 'off', '-q', '--base-url', url], { env, emu })
).stdout.trim();
await runChild(process.execPath, [NEW, 'status', group, '--wait', '-q', '--base-url', url], { env, emu });

function watch(bin, name) {
  const out = path.join(dir, name);
  for (const x of [out, `${out}.tg.json`]) rmSync(x, { force: true });
  return timeTg(bin, ['watch', group, '-o', out, '-q', '--base-url', url], { env, emu });
}

await watch(NEW, 'warm.jsonl');
const res = { '--old build': [], 'this build': [] };
for (let i = 0; i < 5; i++) {
  res['--old build'].push(await watch(OLD, `old-${i}.jsonl`));
  res['this build'].push(await watch(NEW, `new-${i}.jsonl`));
}
await emu.stop();
rmSync(dir, { recursive: true, force: true });
const med = (xs) => [...xs].sort((a, b) => a.secs - b.secs)[2].secs;
console.log(`\ntg watch -o, a completed group of ${N} runs (node ${process.version})\n`);
console.log('| build | runs (s) | median | peak RSS |\n| --- | --- | --- | --- |');
for (const [k, xs] of Object.entries(res))
  console.log(`| ${k} | ${xs.map((x) => x.secs.toFixed(2)).join(', ')} | ${med(xs).toFixed(2)} s | ${Math.max(...xs.map((x) => x.rssMb)).toFixed(0)} MB |`);
console.log(`\nthis build ÷ --old: ${(med(res['this build']) / med(res['--old build'])).toFixed(2)} (target ≤ 1)`);
