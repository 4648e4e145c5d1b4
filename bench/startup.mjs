// Startup: median wall time of `tg --version` and `tg --help` over N runs, for the node bundle
// (bin/tg → dist/tg.cjs) and the single executable (dist/tg, built by `npm run package`),
// next to a bare `node -e 0`. Target: ≤ 100 ms for the node bundle.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.N ?? 21);
const cases = [
  ['node -e 0 (baseline)', process.execPath, ['-e', '0']],
  ['node bin/tg --version', process.execPath, [path.join(root, 'bin/tg'), '--version']],
  ['node bin/tg --help', process.execPath, [path.join(root, 'bin/tg'), '--help']],
  ['node bin/tg submit --help', process.execPath, [path.join(root, 'bin/tg'), 'submit', '--help']],
];
const sea = path.join(root, 'dist/tg');
if (existsSync(sea)) cases.push(['dist/tg --version', sea, ['--version']], ['dist/tg --help', sea, ['--help']]);
else process.stderr.write('dist/tg not built (npm run package): single-executable rows skipped\n');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(`| command | median ms (n=${N}) | min | max |`);
console.log('| --- | --- | --- | --- |');
for (const [name, cmd, args] of cases) {
  spawnSync(cmd, args); // warm the page cache
  const times = [];
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
  }
  console.log(`| ${name} | ${median(times).toFixed(1)} | ${Math.min(...times).toFixed(1)} | ${Math.max(...times).toFixed(1)} |`);
}
