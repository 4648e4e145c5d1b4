// bench:limits (a), the read side: one emulator holding one completed group; the time a plain client
// (curl, body to /dev/null) takes to read the listing with inputs and outputs is the server's
// speed, and each tool that reads the same listing to a JSONL file is set against it:
// ratio = server seconds ÷ tool seconds (1.00 = as fast as the server sends). Each tool runs once
// per rep, in an order that rotates, under /usr/bin/time (wall seconds, peak RSS).
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Parallel from 'parallel-web';
import { countLines, loadavg, median, startEmulator, timeCmd, timeTg } from './common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * A group of n runs on the emulator, all completed: inputs like the fixtures' companies
 * (company_name, company_website), outputs generated from `spec`'s output schema.
 * @param {import('./common.mjs').Emulator} emu
 */
export function completedGroup(emu, n, spec) {
  const fill = async () => {
    const sdk = new Parallel({ apiKey: 'bench', baseURL: emu.url });
    const { taskgroup_id: id } = await sdk.taskGroup.create({});
    for (let i = 0; i < n; i += 1000) {
      const inputs = [];
      for (let k = i + 1; k <= Math.min(n, i + 1000); k++)
        inputs.push({ input: { company_name: `Company ${k}`, company_website: `https://c${k}.example` }, processor: 'base', metadata: { tg_key: String(k) } });
      await sdk.taskGroup.addRuns(id, { inputs, default_task_spec: spec, refresh_status: false });
    }
    for (;;) {
      const g = await sdk.taskGroup.retrieve(id);
      if (!g.status.is_active) return id;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return emu.guard(fill());
}

/** The readers, each `run(out)` resolving timeCmd's figures; `out` is the JSONL file it writes (none for the server). */
function readers({ tg, emu, group, dir }) {
  const listing = `${emu.url}/v1/tasks/groups/${group}/runs?include_input=true&include_output=true`;
  const env = { TG_STATE_DIR: path.join(dir, 'state') };
  const tgRun = (args) => timeTg(tg, [...args, '-q', '--base-url', emu.url], { cwd: dir, env, emu });
  return [
    {
      name: 'server: curl reads the listing (GET …/runs?include_input&include_output, body to /dev/null)',
      server: true,
      run: () =>
        timeCmd('curl', ['-sS', '--fail', '-N', '-o', '/dev/null', '-w', '%{size_download}', '-H', 'x-api-key: bench', listing], { emu, label: 'curl' }),
    },
    { name: '`tg fetch G --format jsonl -o f.jsonl`', out: 'f.jsonl', run: (out) => tgRun(['fetch', group, '--format', 'jsonl', '-o', out]) },
    { name: '`tg watch G -o w.jsonl`', out: 'w.jsonl', run: (out) => tgRun(['watch', group, '-o', out]) },
    {
      name: 'SDK loop: `client.taskGroup.getRuns` → JSONL (parallel-web)',
      out: 's.jsonl',
      run: (out) => timeCmd(process.execPath, [path.join(here, 'sdk-get-runs.mjs'), emu.url, group, out], { emu, label: 'SDK getRuns loop' }),
    },
  ];
}

/**
 * Measure the read side; resolves the table's lines.
 * @param {{ tg: string, emuBin: string, dir: string, runs: number, reps: number, spec: object, log: (s: string) => void }} o
 */
export async function readSide({ tg, emuBin, dir, runs, reps, spec, log }) {
  const emu = await startEmulator(emuBin, ['--rate-limit', 'off', '--latency', '1ms..5ms']);
  try {
    log(`(a) filling a group of ${runs} runs…`);
    const group = await completedGroup(emu, runs, spec);
    const tools = readers({ tg, emu, group, dir });
    const res = tools.map(() => ({ secs: [], rss: [], bytes: 0 }));
    await tools[0].run(); // warms the emulator's listing up; not counted
    const load0 = loadavg();
    for (let rep = 0; rep < reps; rep++) {
      for (let j = 0; j < tools.length; j++) {
        const k = (j + rep) % tools.length; // each rep starts with the next tool
        const tool = tools[k];
        const out = tool.out && path.join(dir, tool.out);
        if (out) for (const f of [out, `${out}.tg.json`]) rmSync(f, { force: true });
        const r = await tool.run(out);
        if (out) {
          const lines = await countLines(out);
          if (lines !== runs) throw new Error(`${tool.name} wrote ${lines} lines for ${runs} runs`);
          res[k].bytes = statSync(out).size;
          for (const f of [out, `${out}.tg.json`]) rmSync(f, { force: true });
        } else res[k].bytes = Number(r.stdout);
        res[k].secs.push(r.secs);
        res[k].rss.push(r.rssMb);
        log(`(a) rep ${rep + 1}/${reps}: ${tool.name.split(':')[0]} ${r.secs.toFixed(2)} s`);
      }
    }
    const server = median(res[0].secs);
    const lines = [
      `(a) Read side: one completed group of ${runs} runs (inputs + outputs), emulator --latency 1ms..5ms --rate-limit off; median of ${reps}, interleaved; load avg ${load0} → ${loadavg()}`,
      '',
      '| reader | seconds (each rep) | median | ratio (server s ÷ tool s) | MB read / written | peak RSS (max of reps) |',
      '| --- | --- | --- | --- | --- | --- |',
    ];
    tools.forEach((t, k) => {
      const m = median(res[k].secs);
      const ratio = t.server ? '1.00 (the server)' : `${(server / m).toFixed(2)}×`;
      const mb = `${(res[k].bytes / 1e6).toFixed(0)} MB`;
      lines.push(
        `| ${t.name} | ${res[k].secs.map((s) => s.toFixed(2)).join(', ')} | ${m.toFixed(2)} s | ${ratio} | ${mb} | ${Math.max(...res[k].rss).toFixed(0)} MB |`,
      );
    });
    return lines;
  } finally {
    await emu.stop();
  }
}
