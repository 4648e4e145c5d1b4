// Emulator benchmark: fill one group with N runs, stream /runs (with inputs and outputs), and
// report events/s and the emulator's peak RSS. Usage: node bench/emulator-runs.mjs [N]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from './common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 200_000);
const emu = await startEmulator(path.join(root, 'bin/tg'), ['--latency', '1ms..20ms', '--rate-limit', 'off']);
const { url, child } = emu;
const h = { 'x-api-key': 'bench', 'content-type': 'application/json' };
const spec = JSON.parse(readFileSync(path.join(root, 'fixtures/company-spec.json'), 'utf8'));
const g = await emu.guard(fetch(`${url}/v1/tasks/groups`, { method: 'POST', headers: h, body: '{}' }).then((r) => r.json()));
let t = Date.now();
for (let i = 0; i < N; i += 1000) {
  const inputs = Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({
    input: { company_name: `Company ${i + k}`, company_website: `https://c${i + k}.example` },
    processor: 'base',
    metadata: { tg_key: String(i + k + 1) },
  }));
  const r = await emu.guard(
    fetch(`${url}/v1/tasks/groups/${g.taskgroup_id}/runs?refresh_status=false`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ inputs, default_task_spec: spec }),
    }),
  );
  if (r.status !== 200) throw new Error(`add runs: ${r.status}`);
  await emu.guard(r.arrayBuffer());
}
const addS = (Date.now() - t) / 1000;
await new Promise((r) => setTimeout(r, 500));
const stream = (q) => emu.guard(streamRuns(q));
const streamRuns = async (q) => {
  const t0 = Date.now();
  const res = await fetch(`${url}/v1/tasks/groups/${g.taskgroup_id}/runs${q}`, { headers: h });
  let events = 0;
  let bytes = 0;
  const dec = new TextDecoder();
  let carry = '';
  for await (const chunk of res.body) {
    bytes += chunk.length;
    const s = carry + dec.decode(chunk, { stream: true });
    for (let i = s.indexOf('event: '); i >= 0; i = s.indexOf('event: ', i + 1)) events++;
    carry = s.slice(-6); // a marker split across chunks is counted once, in the next chunk
  }
  return { events, s: (Date.now() - t0) / 1000, mb: bytes / 1e6 };
};
const plain = await stream('');
const full = await stream('?include_input=true&include_output=true');
const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
await emu.stop();
const row = (a) => `| ${a.join(' | ')} |`;
console.log(`\nemulator, one group of ${N} runs (node ${process.version})\n`);
console.log(row(['measure', 'value']));
console.log(row(['---', '---']));
console.log(row(['add runs (1000 per POST)', `${addS.toFixed(1)} s (${Math.round(N / addS)} runs/s)`]));
console.log(
  row([
    'stream /runs, runs only',
    `${plain.s.toFixed(2)} s, ${plain.events} events, ${Math.round(plain.events / plain.s)} events/s, ${plain.mb.toFixed(0)} MB`,
  ]),
);
console.log(
  row([
    'stream /runs, inputs + outputs',
    `${full.s.toFixed(2)} s, ${full.events} events, ${Math.round(full.events / full.s)} events/s, ${full.mb.toFixed(0)} MB`,
  ]),
);
console.log(row(['emulator peak RSS', `${hwm.toFixed(0)} MB`]));
