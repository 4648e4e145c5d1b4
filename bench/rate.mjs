// npm run bench:rate — tg at the limit the API really has (issue H), against `tg emulator`
// processes, counters read from GET /__emulator/stats:
//   a. N rows at the default budget (2000 requests/min) against an emulator counting requests
//      (2000/60s): elapsed ÷ limit-off elapsed (target ≤ 1.2), 429s ÷ POSTs (≤ 1%).
//   b. an emulator whose real limit is half tg's budget, windows scaled down (emulator 50/6s,
//      tg --rate 100/6s, batches of 100, B rows: ≥ 3 windows): elapsed ÷ the server's minimum
//      (POSTs ÷ limit × window; target ≤ 1.15), 429s ÷ POSTs (≤ 2%).
//   c. tg limit off vs a bare SDK taskGroup.addRuns loop (parallel-web), N rows each, each on a
//      fresh emulator, alternated (with a's runs), median of `reps`: throughput ratio (≥ 1.0).
// Usage: node bench/rate.mjs [--rows N=100000] [--b-rows B=20000] [--reps R=3]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { companiesCsv, runChild, sdkLoop, startEmulator } from './common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin/tg');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('--rows', 100_000);
const B = arg('--b-rows', 20_000);
const REPS = arg('--reps', 3);
const dir = mkdtempSync(path.join(tmpdir(), 'tg-bench-rate-'));
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One timed tg submit against `emu` (failing at once if it dies) into a fresh state dir; returns seconds and its summary line. */
async function tg(emu, args) {
  const state = mkdtempSync(path.join(dir, 'state-'));
  const t0 = process.hrtime.bigint();
  const r = await runChild(process.execPath, [BIN, ...args, '--base-url', emu.url], {
    cwd: dir,
    env: { ...process.env, PARALLEL_API_KEY: 'bench', TG_STATE_DIR: state },
    emu,
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(state, { recursive: true, force: true });
  if (r.code !== 0) throw new Error(`tg ${args.join(' ')} failed: ${r.stderr}`);
  return { secs, summary: r.stderr.split('\n').find((l) => / rows sent/.test(l)) ?? '' };
}

const rows = [];
const row = (...a) => rows.push(`| ${a.join(' | ')} |`);
const fN = await companiesCsv(dir, N);

// c and a: tg limit off, the SDK loop, and tg at the default budget against an emulator counting
// requests at the documented 2000/60s, alternated, each on a fresh emulator; medians.
const tgOff = [];
const sdk = [];
const atLimit = [];
const loadC = load();
for (let i = 0; i < REPS; i++) {
  let emu = await startEmulator(BIN, ['--rate-limit', 'off']);
  tgOff.push((await tg(emu, ['submit', fN, '--rate', 'off', '-q'])).secs);
  await emu.stop();
  emu = await startEmulator(BIN, ['--rate-limit', 'off']);
  sdk.push(await sdkLoop(emu, N));
  await emu.stop();
  emu = await startEmulator(BIN, ['--rate-limit', '2000/60s', '--rate-limit-unit', 'requests']);
  const t = await tg(emu, ['submit', fN, '-q']);
  atLimit.push({ secs: t.secs, stats: await emu.stats() });
  await emu.stop();
}
const off = median(tgOff);
const sdkS = median(sdk);
row(
  `c. tg --rate off vs SDK addRuns loop, ${N} rows (median of ${REPS})`,
  `tg ${off.toFixed(2)} s (${tgOff.map((s) => s.toFixed(2)).join(', ')}); SDK ${sdkS.toFixed(2)} s (${sdk.map((s) => s.toFixed(2)).join(', ')})`,
  `tg ${Math.round(N / off)} rows/s, SDK ${Math.round(N / sdkS)} rows/s`,
  `tg ÷ SDK ${(sdkS / off).toFixed(2)}× (target ≥ 1.0)`,
  `${loadC} → ${load()}`,
);

// a. the default budget (2000 requests/min) against an emulator counting requests at 2000/60s.
{
  const a = [...atLimit].sort((x, y) => x.secs - y.secs)[Math.floor(atLimit.length / 2)];
  const refused = atLimit.reduce((n, x) => n + x.stats.rateLimited, 0);
  const posts = atLimit.reduce((n, x) => n + x.stats.addRunsPosts, 0);
  row(
    `a. ${N} rows, default budget (2000 requests/min), emulator 2000/60s requests (median of ${REPS})`,
    `${a.secs.toFixed(2)} s (${atLimit.map((x) => x.secs.toFixed(2)).join(', ')})`,
    `÷ limit-off ${off.toFixed(2)} s = ${(a.secs / off).toFixed(2)} (target ≤ 1.2)`,
    `429s ${refused} of ${posts} POSTs = ${((100 * refused) / Math.max(1, posts)).toFixed(2)}% (≤ 1%)`,
    `(with c)`,
  );
}

// b. the server's real limit is half tg's budget (windows scaled down).
{
  const loadB = load();
  const fB = await companiesCsv(dir, B);
  const emu = await startEmulator(BIN, ['--rate-limit', '50/6s', '--rate-limit-unit', 'requests']);
  const t = await tg(emu, ['submit', fB, '--rate', '100/6s', '--batch-size', '100']);
  const s = await emu.stats();
  await emu.stop();
  const posts = Math.ceil(B / 100);
  const min = (posts / 50) * 6;
  const slidingMin = (Math.ceil(posts / 50) - 1) * 6;
  row(
    `b. ${B} rows in ${posts} POSTs, tg --rate 100/6s, emulator 50/6s requests`,
    `${t.secs.toFixed(2)} s`,
    `÷ server minimum ${min.toFixed(1)} s = ${(t.secs / min).toFixed(2)} (target ≤ 1.15; ÷ sliding-window minimum ${slidingMin} s = ${(t.secs / slidingMin).toFixed(2)})`,
    `429s ${s.rateLimited} of ${s.addRunsPosts} POSTs = ${((100 * s.rateLimited) / Math.max(1, s.addRunsPosts)).toFixed(2)}% (≤ 2%)`,
    `${loadB} → ${load()}`,
  );
  console.error(t.summary);
}

rmSync(dir, { recursive: true, force: true });
console.log(`\ntg rate benchmark (node ${process.version}, ${N} rows, emulator on loopback; load average 1/5/15 min before → after)\n`);
console.log('| case | elapsed | throughput / ratio | 429s / comparison | load avg |\n| --- | --- | --- | --- | --- |');
console.log(rows.join('\n'));
