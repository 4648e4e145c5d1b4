// Shared by the benchmarks: a `tg emulator` child process, a generated companies CSV, and the
// bare SDK addRuns loop tg is compared with.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import Parallel from 'parallel-web';

/** Start `<bin> emulator` on a free port (1–2 s run latency, seed 1) with extra flags; resolves {url, stop}. */
export async function startEmulator(bin, args = []) {
  const child = spawn(process.execPath, [bin, 'emulator', '--port', '0', '--latency', '1s..2s', '--seed', '1', ...args], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const url = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(/listening on (\S+)/.exec(String(d))[1])));
  return { url, stop: () => child.kill('SIGTERM') };
}

/**
 * `node <bin> ...args` under /usr/bin/time: wall seconds, peak RSS, exit status and output; throws
 * unless the exit status is one of `ok`.
 */
export function timeTg(bin, args, { cwd, env = {}, ok = [0], maxBuffer } = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, bin, ...args], {
    cwd,
    env: { ...process.env, PARALLEL_API_KEY: 'bench', ...env },
    encoding: 'utf8',
    maxBuffer,
  });
  if (!ok.includes(r.status ?? -1)) throw new Error(`tg ${args.join(' ')} failed: ${r.stderr}`);
  const [secs, kb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { secs, rssMb: kb / 1024, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** dir/<n>.csv: header company_name,company_website and n rows "Company k", "https://ck.example". */
export async function companiesCsv(dir, n) {
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

/** A bare loop over the official SDK: build each batch of 1000 inputs, await taskGroup.addRuns, next. Resolves seconds. */
export async function sdkLoop(url, n) {
  const sdk = new Parallel({ apiKey: 'bench', baseURL: url });
  const t0 = process.hrtime.bigint();
  const g = await sdk.taskGroup.create({});
  for (let i = 0; i < n; i += 1000) {
    const inputs = [];
    for (let k = i; k < Math.min(n, i + 1000); k++)
      inputs.push({ input: { company_name: `Company ${k + 1}`, company_website: `https://c${k + 1}.example` }, processor: 'base' });
    await sdk.taskGroup.addRuns(g.taskgroup_id, { inputs, refresh_status: false });
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
