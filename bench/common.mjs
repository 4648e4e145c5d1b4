// Shared by the benchmarks: `tg emulator` child processes that fail the bench the moment they exit
// (with their last stderr lines), child processes (tg under /usr/bin/time, curl, bash) that are
// ended when the emulator they talk to dies, a generated companies CSV, and the bare SDK addRuns
// loop tg is compared with. Nothing here waits on a dead port: every wait on a child races the
// emulator's exit, and the wait for readiness is bounded.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import Parallel from 'parallel-web';

/** How many stderr lines of a child an error quotes. */
export const TAIL_LINES = 20;

/** Ends the children still running when the bench exits early (an error, Ctrl-C). */
const live = new Set();
let hooked = false;
function track(kill) {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => [...live].forEach((k) => k()));
    for (const sig of ['SIGINT', 'SIGTERM'])
      process.once(sig, () => {
        [...live].forEach((k) => k());
        process.exit(sig === 'SIGINT' ? 130 : 143);
      });
  }
  live.add(kill);
  return () => live.delete(kill);
}

/**
 * Keep the last `n` lines of a readable stream (a ring buffer; a line longer than 2,000 characters
 * is cut), and hand each whole line to `onLine` as it arrives. Returns a function giving those
 * lines, the unfinished last line included.
 * @param {import('node:stream').Readable} stream
 * @param {number} [n]
 * @param {(line: string) => void} [onLine]
 * @returns {() => string[]}
 */
export function lineTail(stream, n = TAIL_LINES, onLine) {
  const ring = [];
  let carry = '';
  stream.setEncoding('utf8');
  stream.on('data', (s) => {
    const parts = (carry + s).split('\n');
    carry = (parts.pop() ?? '').slice(-2000);
    for (const l of parts) {
      onLine?.(l);
      ring.push(l.slice(0, 2000));
      if (ring.length > n) ring.shift();
    }
  });
  return () => (carry ? [...ring, carry] : [...ring]).slice(-n);
}

const quote = (lines) => (lines.length ? `last ${lines.length} stderr line(s):\n  ${lines.join('\n  ')}` : 'nothing on stderr');
const how = (code, signal) => (signal ? `killed by ${signal}` : `exit code ${code}`);

/**
 * @typedef {object} Emulator
 * @property {string} url
 * @property {import('node:child_process').ChildProcess} child
 * @property {() => string[]} tail the emulator's last stderr lines
 * @property {Promise<never>} died rejects once the emulator exits unasked (never resolves)
 * @property {<T>(p: Promise<T>) => Promise<T>} guard `p`, or the emulator's exit, whichever comes first
 * @property {() => Promise<any>} stats GET /__emulator/stats, guarded
 * @property {() => Promise<void>} stop SIGTERM; resolves once it has exited
 */

/**
 * Start `node <bin> emulator` on a free port (1–2 s run latency, seed 1) with extra flags (later
 * flags win). Resolves once it prints its URL; rejects if it exits first or is not listening
 * within `readyMs`. From then on its exit, unless `stop()` asked for it, rejects `died`: every
 * guarded wait fails at once with the exit status and the emulator's last stderr lines.
 * `onStderrLine` sees each stderr line as it arrives (with --verbose: one per request).
 * @param {string} bin
 * @param {string[]} [args]
 * @param {{ readyMs?: number, onStderrLine?: (line: string) => void }} [opts]
 * @returns {Promise<Emulator>}
 */
export async function startEmulator(bin, args = [], { readyMs = 30_000, onStderrLine } = {}) {
  const child = spawn(process.execPath, [bin, 'emulator', '--port', '0', '--latency', '1s..2s', '--seed', '1', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const untrack = track(() => child.kill('SIGKILL'));
  const tail = lineTail(child.stderr, TAIL_LINES, onStderrLine);
  let stopping = false;
  const closed = new Promise((resolve) => child.once('close', resolve));
  /** @type {Promise<never>} */
  const died = new Promise((_, reject) => {
    child.once('error', (e) => reject(new Error(`the emulator (${bin}) did not start: ${e.message}`)));
    child.once('close', (code, signal) => {
      untrack();
      if (!stopping) reject(new Error(`the emulator (pid ${child.pid}) exited, ${how(code, signal)}; ${quote(tail())}`));
    });
  });
  died.catch(() => {}); // seen through guard(); never an unhandled rejection by itself
  const guard = (p) => Promise.race([p, died]);
  let timer;
  const ready = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s) => {
      out = (out + s).slice(-4000);
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the emulator (pid ${child.pid}) was not listening after ${readyMs / 1000} s; ${quote(tail())}`));
    }, readyMs);
  });
  const url = await guard(ready).finally(() => clearTimeout(timer));
  const stats = () => guard(fetch(`${url}/__emulator/stats`).then((r) => r.json()));
  const stop = () => {
    stopping = true;
    child.kill('SIGTERM');
    return closed.then(() => undefined);
  };
  return { url, child, tail, died, guard, stats, stop };
}

/**
 * @typedef {{ code: number | null, signal: string | null, stdout: string, stderr: string }} ChildResult
 */

/**
 * Run a command as a child in its own process group; resolves its status and output. With `emu`,
 * the emulator's exit ends the whole group (SIGKILL) and rejects with the emulator's error.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string | undefined>, emu?: Emulator, label?: string }} [opts]
 * @returns {Promise<ChildResult> & { child: import('node:child_process').ChildProcess }}
 */
export function runChild(cmd, args, { cwd, env = process.env, emu, label = `${path.basename(cmd)} ${args[0] ?? ''}` } = {}) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group has already gone
    }
  };
  const untrack = track(killGroup);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
  const done = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      untrack();
      resolve({ code, signal, stdout, stderr });
    });
  });
  if (!emu) return Object.assign(done, { child });
  const dead = emu.died.catch((e) => {
    killGroup();
    throw new Error(`${label} (pid ${child.pid}) was ended: ${e.message}`, { cause: e });
  });
  return Object.assign(Promise.race([done, dead]), { child });
}

/**
 * `cmd ...args` under /usr/bin/time (GNU time's %M: the peak RSS of that process, from wait4's
 * rusage; a node process's worker threads included): wall seconds, peak RSS, exit status and
 * output; throws unless the exit status is one of `ok`. With `emu`, fails at once if that
 * emulator exits meanwhile. `env` is added to this process's (with PARALLEL_API_KEY=bench).
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string>, ok?: number[], emu?: Emulator, label?: string }} [opts]
 */
export async function timeCmd(cmd, args, { cwd, env = {}, ok = [0], emu, label = path.basename(cmd) } = {}) {
  const r = await runChild('/usr/bin/time', ['-f', 'tg-bench-time %e %M', cmd, ...args], {
    cwd,
    env: { ...process.env, PARALLEL_API_KEY: 'bench', ...env },
    emu,
    label,
  });
  const lines = r.stderr.trimEnd().split('\n');
  let mark = lines.length - 1;
  while (mark >= 0 && !lines[mark].startsWith('tg-bench-time ')) mark--;
  // GNU time says "Command exited with non-zero status N" before its figures: not the command's words.
  const stderr = lines
    .slice(0, mark < 0 ? lines.length : mark)
    .filter((l) => !/^Command (exited with non-zero status|terminated by signal) \d+$/.test(l))
    .join('\n');
  if (!ok.includes(r.code ?? -1) || mark < 0)
    throw new Error(`${label} failed (${how(r.code, r.signal)}): ${[cmd, ...args].join(' ')}; ${quote(stderr.split('\n').slice(-TAIL_LINES))}`);
  const [secs, kb] = lines[mark].split(' ').slice(1).map(Number);
  return { secs, rssMb: kb / 1024, status: r.code, stdout: r.stdout, stderr };
}

/**
 * `node <bin> ...args` timed as timeCmd does.
 * @param {string} bin
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string>, ok?: number[], emu?: Emulator }} [opts]
 */
export const timeTg = (bin, args, opts = {}) => timeCmd(process.execPath, [bin, ...args], { ...opts, label: `tg ${args[0]}` });

/** dir/<n>.csv: header company_name,company_website and n rows "Company k", "https://ck.example". */
export async function companiesCsv(dir, n) {
  const f = path.join(dir, `${n}.csv`);
  const w = createWriteStream(f);
  w.write('company_name,company_website\n');
  for (let i = 1; i <= n; i += 10_000) {
    let s = '';
    for (let k = i; k < i + 10_000 && k <= n; k++) s += `Company ${k},https://c${k}.example\n`;
    if (!w.write(s)) await new Promise((r) => w.once('drain', () => r(undefined)));
  }
  await new Promise((r) => w.end(() => r(undefined)));
  return f;
}

/**
 * A bare loop over the official SDK: build each batch of 1000 inputs, await taskGroup.addRuns,
 * next. Resolves seconds. With `emu`, fails at once if that emulator exits meanwhile.
 * @param {string | Emulator} target the base URL, or the emulator
 * @param {number} n
 */
export async function sdkLoop(target, n) {
  const emu = typeof target === 'string' ? undefined : target;
  const url = typeof target === 'string' ? target : target.url;
  const loop = async () => {
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
  };
  return emu ? emu.guard(loop()) : loop();
}

/** Complete lines (newline bytes) in a file, read in chunks. */
export async function countLines(file) {
  let n = 0;
  for await (const chunk of createReadStream(file)) for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

/** The 1, 5 and 15-minute load averages, as `uptime` prints them. */
export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The median of numbers (the lower middle one of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
