// Shared test helpers: the built bundle, the emulator on port 0, tg in-process (runInProcess) and
// as a child process (runTg, spawnTg), readiness waits (waitFor, waitForStderr) and seeds.
// Nothing here waits on wall-clock time: a child is signalled when a condition holds, and every
// wait is a bounded poll on a condition that fails with a message saying what never happened.
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Readable, Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The library bundle (untyped: dist/lib.cjs is built JavaScript). @type {any} */
export const tg = require(path.join(root, 'dist/lib.cjs'));
export const BIN = path.join(root, 'bin/tg');
export const KEY = 'test-key-123456';
/** @param {string} name */
export const fixture = (name) => path.join(root, 'fixtures', name);
export const tmp = () => mkdtempSync(path.join(tmpdir(), 'tg-test-'));

/**
 * The emulator on a free loopback port (seed 1, 50-150 ms run latency unless overridden).
 * @param {Record<string, unknown>} [opts]
 * @returns {Promise<any>}
 */
export async function emulator(opts = {}) {
  return tg.startEmulator({ port: 0, latencyMs: [50, 150], seed: 1, ...opts });
}

/**
 * @typedef {{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }} ChildResult
 * @typedef {{ cwd?: string, env?: Record<string, string>, input?: string | Buffer }} ChildOptions
 */

/**
 * Start bin/tg as a child process. `done` resolves when it has exited; `waitForStderr(re)`
 * resolves once its stderr matches (or rejects if it exits first); `exited` says whether it has.
 * @param {string[]} args
 * @param {ChildOptions} [opts]
 */
export function spawnTg(args, { cwd, env = {}, input } = {}) {
  // State (journals, locks) under <cwd>/.tg unless a test says otherwise: tests never touch ~/.local/state.
  const stateDir = { TG_STATE_DIR: path.join(cwd ?? process.cwd(), '.tg') };
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, PARALLEL_API_KEY: KEY, NO_COLOR: '1', ...stateDir, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '', exited: false };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  /** @type {Promise<ChildResult>} */
  const done = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      out.exited = true;
      resolve({ code, signal, stdout: out.stdout, stderr: out.stderr });
    });
  });
  return {
    child,
    done,
    get stdout() {
      return out.stdout;
    },
    get stderr() {
      return out.stderr;
    },
    get exited() {
      return out.exited;
    },
    /** @param {NodeJS.Signals} sig */
    kill: (sig) => child.kill(sig),
    /** @param {RegExp} re */
    waitForStderr: (re) =>
      waitFor(() => re.test(out.stderr) || (out.exited ? fail(`tg ${args[0]} exited before stderr matched ${re}:\n${out.stderr}`) : false), {
        what: `stderr of tg ${args[0]} to match ${re}`,
      }),
  };
}

/** @param {string} message @returns {never} */
function fail(message) {
  throw new Error(message);
}

/**
 * Poll a condition until it holds (every `everyMs`); fails with `what` if it does not within
 * `capMs` (a generous cap against a hang, not a timing assertion). A throwing predicate fails at once.
 * @template T
 * @param {() => T | Promise<T>} predicate
 * @param {{ what?: string, capMs?: number, everyMs?: number }} [opts]
 * @returns {Promise<T>}
 */
export async function waitFor(predicate, { what = 'a condition', capMs = 120_000, everyMs = 10 } = {}) {
  const start = Date.now();
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (Date.now() - start > capMs) throw new Error(`gave up after ${capMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Run bin/tg as a child process; resolves {code, signal, stdout, stderr}. `killWhen`: a condition
 * polled while it runs; once it holds the child gets SIGKILL (a child that exits first is not killed).
 * @param {string[]} args
 * @param {ChildOptions & { killWhen?: () => boolean }} [opts]
 * @returns {Promise<ChildResult>}
 */
export async function runTg(args, { killWhen, ...opts } = {}) {
  const p = spawnTg(args, opts);
  if (killWhen) {
    await waitFor(() => p.exited || killWhen(), { what: `the kill condition of tg ${args[0]}` });
    if (!p.exited) p.kill('SIGKILL');
  }
  return p.done;
}

/**
 * bin/tg with its stdout read by `head -n k` (a real shell pipeline, `tg … | head -n k`);
 * resolves tg's exit status (the pipeline's PIPESTATUS[0]), what head printed, and tg's stderr.
 * State under <cwd>/.tg unless env says otherwise.
 * @param {string[]} args
 * @param {number} k
 * @param {{ cwd: string, env?: Record<string, string> }} opts
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
export function pipeToHead(args, k, { cwd, env = {} }) {
  const script = '"$@" | head -n "$K"; exit "${PIPESTATUS[0]}"';
  const child = spawn('bash', ['-c', script, 'bash', process.execPath, BIN, ...args], {
    cwd,
    env: { ...process.env, PARALLEL_API_KEY: KEY, NO_COLOR: '1', TG_STATE_DIR: path.join(cwd, '.tg'), ...env, K: String(k) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => (stdout += b));
  child.stderr.on('data', (b) => (stderr += b));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

/**
 * Call the library's run(argv, io) in this process with an explicit env and cwd (never this
 * process's); stdout and stderr are captured. For usage, input and exit-code cases.
 * @param {string[]} argv
 * @param {{ cwd?: string, env?: Record<string, string | undefined>, stdin?: string | Buffer }} [opts]
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
export async function runInProcess(argv, { cwd, env = {}, stdin } = {}) {
  let stdout = '';
  let stderr = '';
  const sink = (/** @type {(s: string) => void} */ add) =>
    new Writable({
      write(chunk, _enc, cb) {
        add(String(chunk));
        cb();
      },
    });
  const dir = cwd ?? tmp();
  const io = {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    stdin: Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]),
    stderrIsTTY: false,
    env: { PARALLEL_API_KEY: KEY, NO_COLOR: '1', TG_STATE_DIR: path.join(dir, '.tg'), ...env },
    cwd: dir,
  };
  const code = await tg.run(argv, io);
  return { code, stdout, stderr };
}

/**
 * A seed for a test's random choices: TG_TEST_SEED if set, else `fixed`; printed so a run replays.
 * @param {number} fixed
 * @param {{ diagnostic(message: string): void }} [t]
 * @returns {{ seed: number, random: () => number, int: (lo: number, hi: number) => number }}
 */
export function seeded(fixed, t) {
  const seed = process.env.TG_TEST_SEED ? Number(process.env.TG_TEST_SEED) : fixed;
  if (t) t.diagnostic(`seed ${seed} (replay with TG_TEST_SEED=${seed})`);
  else console.log(`# seed ${seed} (replay with TG_TEST_SEED=${seed})`);
  const random = tg.mulberry32(seed);
  return { seed, random, int: (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)) };
}

/**
 * Complete lines in a file (0 if it does not exist yet). Counts newline bytes without decoding:
 * kill conditions poll it every 10 ms while the file grows.
 * @param {string} file
 */
export function lineCount(file) {
  if (!existsSync(file)) return 0;
  const buf = readFileSync(file);
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * A loopback HTTP proxy in front of `target` that a test can stall, to hold tg at a known point:
 * `holdPostsAfter(n)` forwards n more POST …/runs, then keeps later ones unanswered (and not yet
 * sent on) until `release()`; `stallStreamsAfter(n)` forwards n more SSE frames, then stops
 * forwarding event streams until `release()`. `release()` resolves once held POSTs were answered
 * upstream. Counters: `held` (POSTs held), `stalled` (streams stalled), `streamsOpened`,
 * `streamsClosedByClient` (GETs, such as event streams, the client hung up on before their end),
 * `openStreams` (event streams open now: the API answered with one and the client is still on it).
 * @param {string} target
 */
export async function stallProxy(target) {
  const up = new URL(target);
  const s = { posts: 0, holdAt: Infinity, framesLeft: Infinity, held: 0, stalled: 0, streamsOpened: 0, streamsClosedByClient: 0, openStreams: 0 };
  /** @type {(() => Promise<void>)[]} */
  let heldPosts = [];
  /** @type {(() => void)[]} */
  let stalledStreams = [];
  /** Forward one request; resolves when the upstream answer has been read. @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {Buffer} body */
  const forward = (req, res, body) =>
    new Promise((/** @type {(v?: void) => void} */ resolve) => {
      const ureq = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
        ures.on('end', () => resolve());
        ures.on('error', () => resolve());
        ures.on('close', () => resolve());
        // The client may be gone (a held POST released after tg exited): read the answer anyway.
        if (res.destroyed || req.socket.destroyed) return void ures.resume();
        res.on('error', () => undefined);
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        if (!String(ures.headers['content-type'] ?? '').startsWith('text/event-stream')) return void ures.pipe(res);
        s.streamsOpened++;
        s.openStreams++;
        res.on('close', () => {
          s.openStreams--;
          ureq.destroy();
          resolve();
        });
        ures.on('data', (/** @type {Buffer} */ chunk) => {
          if (s.framesLeft === Infinity) return void res.write(chunk);
          const text = chunk.toString('latin1'); // one char per byte: indexes are byte offsets
          let at = 0;
          while (s.framesLeft > 0 && (at = text.indexOf('\n\n', at)) >= 0) {
            at += 2;
            s.framesLeft--;
          }
          if (s.framesLeft > 0) return void res.write(chunk);
          res.write(chunk.subarray(0, at));
          ures.pause();
          s.stalled++;
          stalledStreams.push(() => {
            res.write(chunk.subarray(at));
            ures.resume();
          });
        });
        ures.on('end', () => res.end());
      });
      ureq.on('error', () => {
        res.destroy();
        resolve();
      });
      ureq.end(body);
    });
  const server = http.createServer((req, res) => {
    // Counted from the start: a client can hang up before the upstream answer arrives.
    if (req.method === 'GET') {
      res.on('close', () => {
        if (!res.writableEnded) s.streamsClosedByClient++;
      });
    }
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const isPost = req.method === 'POST' && /\/runs(\?|$)/.test(req.url ?? '');
      if (isPost && s.posts >= s.holdAt) {
        s.held++;
        heldPosts.push(() => forward(req, res, body));
        return;
      }
      if (isPost) s.posts++;
      void forward(req, res, body);
    });
  });
  await new Promise((/** @type {(v?: void) => void} */ r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${addr.port}`,
    get held() {
      return s.held;
    },
    get stalled() {
      return s.stalled;
    },
    get streamsOpened() {
      return s.streamsOpened;
    },
    get streamsClosedByClient() {
      return s.streamsClosedByClient;
    },
    get openStreams() {
      return s.openStreams;
    },
    /** @param {number} n */
    holdPostsAfter(n) {
      s.holdAt = s.posts + n;
    },
    /** @param {number} n */
    stallStreamsAfter(n) {
      s.framesLeft = n;
    },
    async release() {
      s.holdAt = Infinity;
      s.framesLeft = Infinity;
      const posts = heldPosts;
      const streams = stalledStreams;
      heldPosts = [];
      stalledStreams = [];
      streams.forEach((go) => go());
      await Promise.all(posts.map((go) => go()));
    },
    close() {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r(undefined)));
    },
  };
}

/** Every run of a group, via the API's run stream. */
export async function groupRuns(url, group, key = 'test-key-123456', { output = false } = {}) {
  let text;
  for (let attempt = 0; ; attempt++) {
    // The emulator may be injecting faults: retry until a whole stream arrives.
    try {
      const res = await fetch(`${url}/v1/tasks/groups/${group}/runs?include_input=true${output ? '&include_output=true' : ''}`, {
        headers: { 'x-api-key': key },
      });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      text = await res.text();
      break;
    } catch (e) {
      if (attempt > 20) throw e;
    }
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)));
}

export function csvRows(file) {
  return readFileSync(file, 'utf8').trim().split('\n').length - 1;
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

/** Every file below dir (recursively). @param {string} dir @returns {string[]} */
export function filesBelow(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesBelow(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

/** A fresh directory holding a copy of fixtures/<name> (the input's journal is then the test's own). @param {string} name */
export function withFixture(name) {
  const d = tmp();
  copyFileSync(fixture(name), path.join(d, name));
  return d;
}
