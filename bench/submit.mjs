// npm run bench:submit — side by side on one emulator process:
//   1. tg vs the seed-002 "Bash Script Pattern for Large Datasets" (curl + jq, body corrected to
//      `inputs`) vs a plain loop over the official SDK's taskGroup.addRuns: N rows, limit off.
//   1b. the same, tg vs the SDK loop, against an emulator that answers each request 50 ms later
//      (--response-delay: a network round trip plus the service's time, as a real API has).
//   2. tg at a compressed window counting runs (emulator --rate-limit 2000/6s --rate-limit-unit
//      runs, tg --rate 2000/6s --rate-unit runs), 20k rows:
//      elapsed ÷ theoretical minimum, and 429s.
//   3. tg peak RSS submitting 100k and 1M generated rows.
// Usage: node bench/submit.mjs [rows=100000] [--skip-1m]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { companiesCsv, runChild, sdkLoop, startEmulator, timeTg as timed } from './common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin/tg');
const N = Number(process.argv[2] ?? 100_000);
const skip1m = process.argv.includes('--skip-1m');
const dir = mkdtempSync(path.join(tmpdir(), 'tg-bench-'));

/** A timed tg run against `emu` (failing at once if it dies), state under dir/state. */
function timeTg(emu, args, restart = true) {
  return timed(BIN, [...args, ...(restart ? ['--restart'] : []), '--base-url', emu.url], { cwd: dir, env: { TG_STATE_DIR: path.join(dir, 'state') }, emu });
}

const rows = [];
const row = (...a) => rows.push(`| ${a.join(' | ')} |`);

// 1. throughput, limit off
{
  const emu = await startEmulator(BIN, ['--rate-limit', 'off']);
  const f = await companiesCsv(dir, N);
  // One untimed run of each warms the emulator (its JIT, its heap) and the SDK up; then three
  // rounds of tg and the SDK loop in turn, so both meet the emulator as it grows: medians of three.
  await timeTg(emu, ['submit', f, '--rate', 'off', '-q']);
  await sdkLoop(emu, N);
  const ts = [];
  const sdks = [];
  for (let i = 0; i < 3; i++) {
    ts.push(await timeTg(emu, ['submit', f, '--rate', 'off', '-q']));
    sdks.push(await sdkLoop(emu, N));
  }
  ts.sort((a, b) => a.secs - b.secs);
  sdks.sort((a, b) => a - b);
  const t = ts[1];
  const tgRate = N / t.secs;
  row(
    `tg submit, ${N} rows, limit off (median of 3: ${ts.map((x) => x.secs.toFixed(2)).join(', ')} s)`,
    `${t.secs.toFixed(2)} s`,
    `${Math.round(tgRate)} rows/s`,
    '1.00×',
    `${Math.max(...ts.map((x) => x.rssMb)).toFixed(0)} MB`,
  );

  // Resuming into a full group (issue F): with the journal (no listing), and without it (--group:
  // the group's runs are listed first). Median of three each; the extra cost is the listing.
  const group = ts[2].stdout.trim();
  const med = (xs) => xs.sort((a, b) => a.secs - b.secs)[1];
  const intacts = [];
  const losts = [];
  for (let i = 0; i < 3; i++) intacts.push(await timeTg(emu, ['submit', f, '--rate', 'off', '-q'], false));
  for (let i = 0; i < 3; i++) {
    rmSync(path.join(dir, 'state', 'journals'), { recursive: true, force: true });
    losts.push(await timeTg(emu, ['submit', f, '--group', group, '--rate', 'off', '-q'], false));
  }
  const intact = med(intacts);
  const lost = med(losts);
  row(
    `resume into the full group, journal intact (no listing)`,
    `${intact.secs.toFixed(2)} s`,
    '0 rows sent',
    `${((intact.secs / t.secs) * 100).toFixed(0)}% of a fresh submit`,
    `${intact.rssMb.toFixed(0)} MB`,
  );
  row(
    `resume into the full group, journal lost (--group: lists ${N} runs)`,
    `${lost.secs.toFixed(2)} s`,
    '0 rows sent',
    `listing costs ${(((lost.secs - intact.secs) / t.secs) * 100).toFixed(1)}% of a fresh submit`,
    `${lost.rssMb.toFixed(0)} MB`,
  );

  // seed 002 bash pattern (curl + jq), body corrected to `inputs`
  const items = path.join(dir, 'items.json');
  writeFileSync(
    items,
    JSON.stringify(Array.from({ length: N }, (_, i) => ({ company_name: `Company ${i + 1}`, company_website: `https://c${i + 1}.example` }))),
  );
  const script = path.join(dir, 'batch-process.sh');
  writeFileSync(
    script,
    `#!/bin/bash
ITEMS_FILE="$1"; PROCESSOR=base; BATCH_SIZE=1000; BASE="$2"
GROUP_ID=$(curl -s -X POST "$BASE/v1beta/tasks/groups" -H "x-api-key: \${PARALLEL_API_KEY}" -H "Content-Type: application/json" -d '{}' | jq -r '.taskgroup_id')
TOTAL=$(jq length "$ITEMS_FILE")
for ((i=0; i<TOTAL; i+=BATCH_SIZE)); do
  BATCH=$(jq ".[$i:$((i+BATCH_SIZE))] | map({input: ., processor: \\"$PROCESSOR\\"})" "$ITEMS_FILE")
  curl -s -X POST "$BASE/v1beta/tasks/groups/\${GROUP_ID}/runs" -H "x-api-key: \${PARALLEL_API_KEY}" -H "Content-Type: application/json" -d "{\\"inputs\\": \${BATCH}}" > /dev/null
done
echo "$GROUP_ID"
`,
  );
  const t0 = Date.now();
  const b = await runChild('bash', [script, items, emu.url], { env: { ...process.env, PARALLEL_API_KEY: 'bench' }, emu });
  if (b.code !== 0) throw new Error(`bash: ${b.stderr}`);
  const bashS = (Date.now() - t0) / 1000;
  row('seed 002 bash (curl + jq)', `${bashS.toFixed(2)} s`, `${Math.round(N / bashS)} rows/s`, `tg ÷ this: ${(tgRate / (N / bashS)).toFixed(2)}×`, '—');

  const sdkS = sdks[1];
  row(
    `SDK taskGroup.addRuns loop (median of 3, in turn with tg's: ${sdks.map((x) => x.toFixed(2)).join(', ')} s)`,
    `${sdkS.toFixed(2)} s`,
    `${Math.round(N / sdkS)} rows/s`,
    `tg ÷ this: ${(tgRate / (N / sdkS)).toFixed(2)}×`,
    '(in bench process)',
  );
  await emu.stop();
}

// 1b. with a round trip: what more than one POST in flight is for
{
  const emu = await startEmulator(BIN, ['--rate-limit', 'off', '--response-delay', '50ms']);
  const f = await companiesCsv(dir, N);
  const t = await timeTg(emu, ['submit', f, '--rate', 'off', '-q']);
  const sdkS = await sdkLoop(emu, N);
  row(
    `tg submit, ${N} rows, limit off, emulator --response-delay 50ms`,
    `${t.secs.toFixed(2)} s`,
    `${Math.round(N / t.secs)} rows/s`,
    `SDK loop: ${sdkS.toFixed(2)} s; tg ÷ SDK: ${(sdkS / t.secs).toFixed(2)}×`,
    `${t.rssMb.toFixed(0)} MB`,
  );
  await emu.stop();
}

// 2. compressed window
{
  const emu = await startEmulator(BIN, ['--rate-limit', '2000/6s', '--rate-limit-unit', 'runs']);
  const f = await companiesCsv(dir, 20_000);
  const t = await timeTg(emu, ['submit', f, '--rate', '2000/6s', '--rate-unit', 'runs']);
  const min = (Math.ceil(20_000 / 2000) - 1) * 6;
  const m = /answers were 429/.test(t.stderr) ? /\((\d+) answers were 429\)/.exec(t.stderr)[1] : '0';
  row('tg, 20k rows, 2000/6s window', `${t.secs.toFixed(2)} s`, `min ${min} s → ratio ${(t.secs / min).toFixed(3)}`, `429s: ${m}`, `${t.rssMb.toFixed(0)} MB`);
  await emu.stop();
}

// 3. RSS 100k vs 1M
if (!skip1m) {
  const emu = await startEmulator(BIN, ['--rate-limit', 'off']);
  const a = await timeTg(emu, ['submit', await companiesCsv(dir, 100_000), '--rate', 'off', '-q']);
  const b = await timeTg(emu, ['submit', await companiesCsv(dir, 1_000_000), '--rate', 'off', '-q']);
  row(
    'tg peak RSS 100k / 1M rows',
    `${a.rssMb.toFixed(0)} MB / ${b.rssMb.toFixed(0)} MB`,
    `ratio ${(b.rssMb / a.rssMb).toFixed(2)}`,
    `1M at ${Math.round(1e6 / b.secs)} rows/s`,
    '',
  );
  await emu.stop();
}

rmSync(dir, { recursive: true, force: true });
console.log(`\ntg submit benchmark (node ${process.version}, emulator on loopback)\n`);
console.log('| case | elapsed | throughput | comparison | tg peak RSS |\n| --- | --- | --- | --- | --- |');
console.log(rows.join('\n'));
