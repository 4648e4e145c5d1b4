// Shared test helpers: the built bundle, the emulator on port 0, child processes of bin/tg.
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const tg = require(path.join(root, 'dist/lib.cjs'));
export const BIN = path.join(root, 'bin/tg');
export const fixture = (name) => path.join(root, 'fixtures', name);
export const tmp = () => mkdtempSync(path.join(tmpdir(), 'tg-test-'));

export async function emulator(opts = {}) {
  return tg.startEmulator({ port: 0, latencyMs: [50, 150], seed: 1, ...opts });
}

/** Run bin/tg as a child process; resolves {code, signal, stdout, stderr}. `signals`: [[ms, 'SIGINT'], …] sent at those times. */
export function runTg(args, { cwd, env = {}, input, killAfterMs, signals = [] } = {}) {
  return new Promise((resolve) => {
    // State (journals) under <cwd>/.tg unless a test says otherwise: tests never touch ~/.local/state.
    const stateDir = { TG_STATE_DIR: path.join(cwd ?? process.cwd(), '.tg') };
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, PARALLEL_API_KEY: 'test-key-123456', NO_COLOR: '1', ...stateDir, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
    const timers = signals.map(([ms, sig]) => setTimeout(() => child.kill(sig), ms));
    if (killAfterMs !== undefined) timers.push(setTimeout(() => child.kill('SIGKILL'), killAfterMs));
    child.on('close', (code, signal) => {
      timers.forEach(clearTimeout);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Every run of a group, via the API's run stream. */
export async function groupRuns(url, group, key = 'test-key-123456', { output = false } = {}) {
  let text;
  for (let attempt = 0; ; attempt++) {
    // The emulator may be injecting faults: retry until a whole stream arrives.
    try {
      const res = await fetch(`${url}/v1/tasks/groups/${group}/runs?include_input=true${output ? '&include_output=true' : ''}`, { headers: { 'x-api-key': key } });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      text = await res.text();
      break;
    } catch (e) {
      if (attempt > 20) throw e;
    }
  }
  return text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
}

export function csvRows(file) {
  return readFileSync(file, 'utf8').trim().split('\n').length - 1;
}

/** Every file below dir (recursively). */
export function filesBelow(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesBelow(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

/** rows.csv in dir: header name,website and n rows "Company i", "https://ci.example". */
export function makeCsv(dir, n) {
  const lines = ['name,website'];
  for (let i = 1; i <= n; i++) lines.push(`Company ${i},https://c${i}.example`);
  const f = path.join(dir, 'rows.csv');
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

/** One run per row of makeCsv(n), inputs equal to the rows. */
export function assertExactlyOnce(runs, n) {
  const keys = runs.map((r) => r.run.metadata.tg_key);
  assert.equal(runs.length, n, `runs: ${runs.length}, rows: ${n}`);
  assert.equal(new Set(keys).size, n, 'no duplicate tg_key');
  for (const r of runs) {
    const i = Number(r.run.metadata.tg_key);
    assert.deepEqual(r.input.input, { name: `Company ${i}`, website: `https://c${i}.example` });
  }
}

/** The runs' inputs in row order (by tg_key, the row number when no --key is given). */
export function inputsInRowOrder(runs) {
  return [...runs].sort((a, b) => Number(a.run.metadata.tg_key) - Number(b.run.metadata.tg_key)).map((x) => x.input.input);
}
