// Startup: `tg --version`, `tg --help` and `tg submit --help` next to a bare `node -e 0`, all
// measured in the same loop (one run of each case per round, N rounds after a warm-up round), so
// a busy machine slows every case alike. Reports the median wall time, the median CPU time
// (user + sys, from /usr/bin/time when present) and each median ÷ the baseline's.
// Target: `node bin/tg --version` ≤ 1.6 × `node -e 0`.
// Usage: node bench/startup.mjs [--compare <other bin/tg>]...   (N=21 by default; env N)
// The single executable (dist/tg, from `npm run package`) is included when built.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.N ?? 21);
const bin = path.join(root, 'bin/tg');
const cases = [
  ['node -e 0 (baseline)', process.execPath, ['-e', '0']],
  ['node bin/tg --version', process.execPath, [bin, '--version']],
  ['node bin/tg --help', process.execPath, [bin, '--help']],
  ['node bin/tg submit --help', process.execPath, [bin, 'submit', '--help']],
];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] !== '--compare') continue;
  const other = path.resolve(process.argv[++i]);
  cases.push([`node ${other} --version`, process.execPath, [other, '--version']]);
}
const sea = path.join(root, 'dist/tg');
if (existsSync(sea)) cases.push(['dist/tg --version', sea, ['--version']], ['dist/tg --help', sea, ['--help']]);
else process.stderr.write('dist/tg not built (npm run package): single-executable rows skipped\n');

const TIME = '/usr/bin/time';
const haveTime = existsSync(TIME);
function once(cmd, args) {
  const t = process.hrtime.bigint();
  const r = haveTime
    ? spawnSync(TIME, ['-f', '%U %S', cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] })
    : spawnSync(cmd, args, { stdio: 'ignore' });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  const cpu = haveTime
    ? r.stderr
        .trim()
        .split('\n')
        .at(-1)
        .split(' ')
        .reduce((a, x) => a + Number(x) * 1000, 0)
    : NaN;
  return { wall, cpu };
}

const samples = cases.map(() => []);
for (let round = 0; round <= N; round++) {
  cases.forEach(([, cmd, args], k) => {
    const s = once(cmd, args);
    if (round > 0) samples[k].push(s); // round 0 warms the page cache
  });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const wall0 = median(samples[0].map((s) => s.wall));
const cpu0 = median(samples[0].map((s) => s.cpu));
console.log(`startup (node ${process.version}, ${N} rounds, cases interleaved)\n`);
console.log('| command | median wall ms | ÷ baseline | median CPU ms | ÷ baseline | min wall ms |');
console.log('| --- | --- | --- | --- | --- | --- |');
cases.forEach(([name], k) => {
  const wall = median(samples[k].map((s) => s.wall));
  const cpu = median(samples[k].map((s) => s.cpu));
  const min = Math.min(...samples[k].map((s) => s.wall));
  console.log(
    `| ${name} | ${wall.toFixed(1)} | ${(wall / wall0).toFixed(2)}× | ${haveTime ? cpu.toFixed(0) : '—'} | ${haveTime ? (cpu / cpu0).toFixed(2) + '×' : '—'} | ${min.toFixed(1)} |`,
  );
});
