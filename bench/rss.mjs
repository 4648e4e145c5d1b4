// Peak RSS of `tg submit` at 100k and 1M generated rows against one emulator (--rate-limit off,
// tg --rate off), measured with /usr/bin/time as bench/submit.mjs does. Targets: under 200 MB at
// 1M rows, and 1M ÷ 100k ≤ 1.3 (memory flat with input size).
// Usage: node bench/rss.mjs [--compare <other bin/tg>] [--rows 100000,1000000]
// With --compare, both builds run each size in the same loop, one after the other.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const bins = [['this build', path.join(root, 'bin/tg')]];
if (arg('--compare')) bins.push(['compare', path.resolve(arg('--compare'))]);
const sizes = (arg('--rows') ?? '100000,1000000').split(',').map(Number);
const dir = mkdtempSync(path.join(tmpdir(), 'tg-rss-'));

async function emulator() {
  const child = spawn(process.execPath, [bins[0][1], 'emulator', '--port', '0', '--latency', '1s..2s', '--seed', '1', '--rate-limit', 'off'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const url = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(/listening on (\S+)/.exec(String(d))[1])));
  return { url, stop: () => child.kill('SIGTERM') };
}

async function csv(n) {
  const f = path.join(dir, `${n}.csv`);
  const w = createWriteStream(f);
  w.write('company_name,company_website\n');
  for (let i = 1; i <= n; i += 10_000) {
    let s = '';
    for (let k = i; k < i + 10_000 && k <= n; k++) s += `Company ${k},https://c${k}.example\n`;
    if (!w.write(s)) await new Promise((r) => w.once('drain', r));
  }
  await new Promise((r) => w.end(r));
  return f;
}

function submit(bin, file, url) {
  const args = ['-f', '%e %M', process.execPath, bin, 'submit', file, '--rate', 'off', '-q', '--restart', '--base-url', url];
  const r = spawnSync('/usr/bin/time', args, { cwd: dir, env: { ...process.env, PARALLEL_API_KEY: 'bench' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tg submit ${file} failed: ${r.stderr}`);
  const [secs, kb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { secs, mb: kb / 1024 };
}

const emu = await emulator();
const results = bins.map(() => []);
try {
  for (const n of sizes) {
    const f = await csv(n);
    bins.forEach(([, bin], k) => results[k].push(submit(bin, f, emu.url)));
  }
} finally {
  emu.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`tg submit peak RSS (node ${process.version}, emulator on loopback, --rate off)\n`);
console.log(`| build | ${sizes.map((n) => `${n} rows: RSS, time`).join(' | ')} | ${sizes.at(-1)} ÷ ${sizes[0]} |`);
console.log(`| --- | ${sizes.map(() => '---').join(' | ')} | --- |`);
bins.forEach(([name], k) => {
  const r = results[k];
  console.log(`| ${name} | ${r.map((x) => `${x.mb.toFixed(0)} MB, ${x.secs.toFixed(1)} s`).join(' | ')} | ${(r.at(-1).mb / r[0].mb).toFixed(2)} |`);
});
