// Peak RSS of `tg submit` at 100k and 1M generated rows against one emulator (--rate-limit off,
// tg --rate off), measured with /usr/bin/time as bench/submit.mjs does. Targets: under 200 MB at
// 1M rows, and 1M ÷ 100k ≤ 1.3 (memory flat with input size).
// Usage: node bench/rss.mjs [--compare <other bin/tg>] [--rows 100000,1000000]
// With --compare, both builds run each size in the same loop, one after the other.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { companiesCsv, startEmulator, timeTg } from './common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const bins = [['this build', path.join(root, 'bin/tg')]];
if (arg('--compare')) bins.push(['compare', path.resolve(arg('--compare'))]);
const sizes = (arg('--rows') ?? '100000,1000000').split(',').map(Number);
const dir = mkdtempSync(path.join(tmpdir(), 'tg-rss-'));

const submit = (bin, file, emu) => timeTg(bin, ['submit', file, '--rate', 'off', '-q', '--restart', '--base-url', emu.url], { cwd: dir, emu });

const emu = await startEmulator(bins[0][1], ['--rate-limit', 'off']);
const results = bins.map(() => []);
try {
  for (const n of sizes) {
    const f = await companiesCsv(dir, n);
    for (const [k, [, bin]] of bins.entries()) results[k].push(await submit(bin, f, emu));
  }
} finally {
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`tg submit peak RSS (node ${process.version}, emulator on loopback, --rate off)\n`);
console.log(`| build | ${sizes.map((n) => `${n} rows: RSS, time`).join(' | ')} | ${sizes.at(-1)} ÷ ${sizes[0]} |`);
console.log(`| --- | ${sizes.map(() => '---').join(' | ')} | --- |`);
bins.forEach(([name], k) => {
  const r = results[k];
  console.log(`| ${name} | ${r.map((x) => `${x.rssMb.toFixed(0)} MB, ${x.secs.toFixed(1)} s`).join(' | ')} | ${(r.at(-1).rssMb / r[0].rssMb).toFixed(2)} |`);
});
