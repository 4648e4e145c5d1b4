// npm run bench:watch — side by side on one emulator process (loopback, rate limit off):
//   1. a completed 100k-run group caught up by `tg watch -o` (results/s, with outputs) and by the
//      seed-002 "Resumable Stream Consumer" (curl + jq per event; measured over a fixed window,
//      since at its pace 100k events take many minutes);
//   2. `tg fetch` of the same group to JSONL and to CSV (runs/s);
//   3. peak RSS of watch and fetch at 100k and 1M runs.
// Usage: node bench/watch.mjs [runs=100000] [--skip-1m]
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Parallel from 'parallel-web';
import { runChild, startEmulator, timeTg as timed } from './common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin/tg');
const N = Number(process.argv[2] ?? 100_000);
const skip1m = process.argv.includes('--skip-1m');
const BASH_WINDOW_S = 20;
const dir = mkdtempSync(path.join(tmpdir(), 'tg-bench-watch-'));
const spec = JSON.parse(readFileSync(path.join(root, 'fixtures/company-spec.json'), 'utf8'));

const emulator = () => startEmulator(BIN, ['--rate-limit', 'off', '--latency', '1ms..20ms']);

/** A group of n runs on `emu`, all completed (failing at once if the emulator dies). */
const completedGroup = (emu, n) => emu.guard(fillGroup(emu.url, n));
async function fillGroup(url, n) {
  const sdk = new Parallel({ apiKey: 'bench', baseURL: url });
  const g = await sdk.taskGroup.create({});
  for (let i = 0; i < n; i += 1000) {
    const inputs = [];
    for (let k = i; k < Math.min(n, i + 1000); k++)
      inputs.push({
        input: { company_name: `Company ${k + 1}`, company_website: `https://c${k + 1}.example` },
        processor: 'base',
        metadata: { tg_key: String(k + 1) },
      });
    await sdk.taskGroup.addRuns(g.taskgroup_id, { inputs, default_task_spec: spec, refresh_status: false });
  }
  for (;;) {
    const s = await sdk.taskGroup.retrieve(g.taskgroup_id);
    if (!s.status.is_active) return g.taskgroup_id;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const timeTg = (args) => timed(BIN, [...args, '-q', '--base-url', emu.url], { cwd: dir, ok: [0, 1], emu });

const lines = (f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).length;
const rows = [];
const row = (...a) => rows.push(`| ${a.join(' | ')} |`);

const emu = await emulator();
{
  const g = await completedGroup(emu, N);
  const w = await timeTg(['watch', g, '-o', path.join(dir, 'w.jsonl')]);
  const wl = lines(path.join(dir, 'w.jsonl'));
  if (wl !== N) throw new Error(`watch wrote ${wl} lines for ${N} runs`);
  const watchRate = N / w.secs;
  row(`tg watch -o, ${N} completed runs (with outputs)`, `${w.secs.toFixed(2)} s`, `${Math.round(watchRate)} results/s`, '1.00×', `${w.rssMb.toFixed(0)} MB`);

  // The seed's consumer, verbatim but for the base URL (it asks for include_output, which the
  // API's /events does not take: its lines carry no output, so it does less work than tg).
  const script = path.join(dir, 'consumer.sh');
  writeFileSync(
    script,
    `#!/bin/bash
GROUP_ID="$1"; LAST_EVENT_ID="\${2:-}"; OUTPUT_FILE="\${3:-results.jsonl}"; BASE="$4"
CURSOR_PARAM=""
if [[ -n "$LAST_EVENT_ID" ]]; then CURSOR_PARAM="&last_event_id=\${LAST_EVENT_ID}"; fi
curl -s --no-buffer "$BASE/v1beta/tasks/groups/\${GROUP_ID}/events?include_output=true\${CURSOR_PARAM}" -H "x-api-key: \${PARALLEL_API_KEY}" | \\
while IFS= read -r line; do
  if [[ "$line" == data:* ]]; then
    EVENT="\${line#data: }"
    TYPE=$(echo "$EVENT" | jq -r '.type // empty')
    if [[ "$TYPE" == "task_run.state" ]]; then
      echo "$EVENT" >> "$OUTPUT_FILE"
      LAST_EVENT_ID=$(echo "$EVENT" | jq -r '.event_id // empty')
      echo "Saved event $LAST_EVENT_ID" >&2
    fi
  fi
done
`,
  );
  const out = path.join(dir, 'bash.jsonl');
  writeFileSync(out, '');
  const t0 = Date.now();
  await runChild('timeout', [String(BASH_WINDOW_S), 'bash', script, g, '', out, emu.url], { env: { ...process.env, PARALLEL_API_KEY: 'bench' }, emu });
  const bashS = (Date.now() - t0) / 1000;
  const bl = lines(out);
  const bashRate = bl / bashS;
  row(
    `seed 002 consumer (curl + jq per event), first ${BASH_WINDOW_S} s`,
    `${bl} events in ${bashS.toFixed(1)} s`,
    `${Math.round(bashRate)} events/s (no outputs)`,
    `tg ÷ this: ${(watchRate / bashRate).toFixed(1)}×`,
    '—',
  );

  for (const fmt of ['jsonl', 'csv']) {
    const f = path.join(dir, `f.${fmt}`);
    const t = await timeTg(['fetch', g, '--format', fmt, '-o', f]);
    row(
      `tg fetch --format ${fmt}, ${N} runs`,
      `${t.secs.toFixed(2)} s`,
      `${Math.round(N / t.secs)} runs/s`,
      `${(statSync(f).size / 1e6).toFixed(0)} MB written`,
      `${t.rssMb.toFixed(0)} MB`,
    );
  }
  if (!skip1m) {
    const big = await completedGroup(emu, 1_000_000);
    const w1 = await timeTg(['watch', big, '-o', path.join(dir, 'w1.jsonl')]);
    const f1 = await timeTg(['fetch', big, '-o', path.join(dir, 'f1.jsonl')]);
    row(
      'peak RSS 100k → 1M runs: watch',
      `${w.rssMb.toFixed(0)} MB → ${w1.rssMb.toFixed(0)} MB`,
      `ratio ${(w1.rssMb / w.rssMb).toFixed(2)}`,
      `1M at ${Math.round(1e6 / w1.secs)} results/s`,
      '',
    );
    const f100 = await timeTg(['fetch', g, '-o', path.join(dir, 'f100.jsonl')]);
    row(
      'peak RSS 100k → 1M runs: fetch jsonl',
      `${f100.rssMb.toFixed(0)} MB → ${f1.rssMb.toFixed(0)} MB`,
      `ratio ${(f1.rssMb / f100.rssMb).toFixed(2)}`,
      `1M at ${Math.round(1e6 / f1.secs)} runs/s`,
      '',
    );
  }
}
await emu.stop();
rmSync(dir, { recursive: true, force: true });
console.log(`\ntg watch/fetch benchmark (node ${process.version}, emulator on loopback, completed groups)\n`);
console.log('| case | elapsed | throughput | comparison | tg peak RSS |\n| --- | --- | --- | --- | --- |');
console.log(rows.join('\n'));
