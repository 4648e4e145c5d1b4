// Every file-system error, everywhere tg writes (issue M item 1): the journal, the state dir, the
// lock, the stdin spool, the rejects file, the outputs (watch -o, fetch -o, fetch --join -o,
// submit --watch -o x.csv), the cursors and temporary files, on a full tmpfs (ENOSPC), a read-only
// one (EROFS), a file size limit (EFBIG, `ulimit -f`), a path under a regular file (ENOTDIR) and a
// directory without permission (EACCES, tg run as another user). Each is one line naming the path
// and the cause in words, exit 2 while nothing was sent and 4 after, no stack trace, never
// "internal error"; the rerun (space freed, the mount made writable, the limit lifted) resumes and
// every row is in the group exactly once (counted on the emulator's runsByGroup and by key).
// Mounts need root: without it the mount cases are skipped with the reason. Every mount is
// unmounted in `finally`. Nothing waits on wall-clock time: a full disk is made while the stall
// proxy holds a POST of runs, a read-only one while the emulator's clock stands still.
// TG_PRINT_TABLE=1 prints the table (errno, where, command, exit, message, runs after the rerun).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { assertExactlyOnce, BIN, emulator, groupRuns, KEY, makeCsv, runInProcess, stallProxy, tmp, waitFor } from './helpers.mjs';

const N = 600; // rows of each input: 6 add-runs POSTs of 100 (a "sent" record of 100 run ids is over a 4 KiB page)
const BATCH = ['--batch-size', '100', '--concurrency', '1', '--rate', 'off'];

/** Why mounting is not possible here (the mount cases are skipped with it), or '' when it is. */
const mountRefused = (() => {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const d = tmp();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', d], { stdio: 'pipe' });
    execFileSync('umount', [d], { stdio: 'pipe' });
    return '';
  } catch (e) {
    return `mount is refused here: ${String(/** @type {Error} */ (e).message).split('\n')[0]}`;
  }
})();

/** Why tg cannot be run as another user (the EACCES cases are skipped with it), or ''. */
const otherUserRefused = (() => {
  if (process.platform !== 'linux') return 'setpriv is Linux';
  if (process.getuid?.() !== 0) return 'running tg as another user needs root (a directory root cannot write to does not exist for root)';
  try {
    const dist = path.join(path.dirname(BIN), '..', 'dist', 'tg.cjs');
    execFileSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(dist)}, 4)`],
      {
        stdio: 'pipe',
      },
    );
  } catch (e) {
    return `setpriv as uid 65534 fails here (or cannot read ${BIN}): ${String(/** @type {Error} */ (e).message).split('\n')[0]}`;
  }
  return '';
})();

/** A tmpfs of `size` on a fresh directory; `opts` such as 'ro'. */
function mountTmpfs(size, opts = '') {
  const d = tmp();
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=755${opts ? `,${opts}` : ''}`, 'tmpfs', d], { stdio: 'pipe' });
  return d;
}
const remount = (/** @type {string} */ d, /** @type {string} */ opts) => execFileSync('mount', ['-o', `remount,${opts}`, d], { stdio: 'pipe' });
/** Unmount (lazily: a file a killed child left open must not keep the mount). */
const umount = (/** @type {string} */ d) => {
  try {
    execFileSync('umount', ['-l', d], { stdio: 'pipe' });
  } catch {
    /* not mounted */
  }
};

/** Fill the file system of `dir` with a file of zeros until it is full; returns the file (remove it to free the space). */
function fillUp(dir) {
  const f = path.join(dir, 'hog');
  const fd = openSync(f, 'a');
  const page = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, page);
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return f;
}

/** The emulator's counters (runsByGroup: the runs each group holds). */
async function stats(url) {
  return /** @type {{ runsCreated: number, runsByGroup: Record<string, number> }} */ (await (await fetch(`${url}/__emulator/stats`)).json());
}

/**
 * bin/tg as a child: under `ulimit -f <blocks>` (bash), and/or as uid 65534 (setpriv). Resolves
 * {code, signal, stdout, stderr}.
 * @param {string[]} args
 * @param {{ cwd: string, env?: Record<string, string>, ulimit?: number, nobody?: boolean, input?: string }} opts
 */
function child(args, { cwd, env = {}, ulimit, nobody = false, input }) {
  let cmd = [process.execPath, BIN, ...args];
  if (ulimit !== undefined) cmd = ['bash', '-c', 'ulimit -f "$0"; exec "$@"', String(ulimit), ...cmd];
  if (nobody) cmd = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...cmd];
  const p = spawn(cmd[0], cmd.slice(1), {
    cwd,
    env: { ...process.env, PARALLEL_API_KEY: KEY, NO_COLOR: '1', TG_STATE_DIR: path.join(cwd, '.tg'), HOME: cwd, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  p.stdin.on('error', () => undefined);
  p.stdin.end(input ?? '');
  return /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }>} */ (
    new Promise((resolve) => p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })))
  );
}

/** @typedef {{ errno: string, where: string, cmd: string, exit: string, message: string, runs: string }} Row */
/** @type {Row[]} */
const table = [];
/** What the rerun found, into the row `at` (-1: the last) of the table; added to what it says. */
const setRuns = (/** @type {number} */ at, /** @type {string} */ text) => {
  const row = /** @type {Row} */ (table.at(at));
  row.runs = row.runs ? `${row.runs}; the rerun: ${text}` : text;
};
after(() => {
  if (!process.env.TG_PRINT_TABLE) return;
  const esc = (/** @type {string} */ s) => s.replaceAll('|', '\\|');
  console.log(
    [
      '| errno | where | command | exit | message | runs after the rerun |',
      '| --- | --- | --- | --- | --- | --- |',
      ...table.map((r) => `| ${[r.errno, r.where, r.cmd, r.exit, r.message, r.runs].map(esc).join(' | ')} |`),
    ].join('\n'),
  );
});

/**
 * The failure as it must read: exit `code` (by exit, not by a signal), stderr exactly two lines —
 * "tg: <path>: cannot <verb>: <cause> (<ERRNO>)" matching `re`, and one hint — no stack trace,
 * no "internal error". Adds its row to the table (`runs`: filled in after the rerun) and returns it.
 * @param {{ code: number | null, signal?: NodeJS.Signals | null, stderr: string }} r
 */
function assertOneLine(r, /** @type {number} */ code, /** @type {RegExp} */ re, /** @type {string[]} */ row) {
  assert.equal(r.signal ?? null, null, `killed by ${r.signal}: ${r.stderr}`);
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, `one message and one hint:\n${r.stderr}`);
  assert.match(lines[0], /^tg: \S.*: cannot [a-z ]+: [^()]+(\([^()]*\))? \(E[A-Z]+\)(; nothing was sent)?$/, r.stderr);
  assert.match(lines[0], re, r.stderr);
  assert.match(lines[1], /^tg: hint: [A-Z][^.]*(\([^)]*\))?[^.]*, then run the same command again(: it resumes)?\.$/, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|bug in tg|\n\s+at /);
  if (code === 2) assert.match(lines[1], /again\.$/, 'before any work: no "resumes"');
  // A mount's (or a test directory's) random name as <tmp>, so the table reads the same every run.
  const message = lines[0].replace(/^tg: /, '').replace(/\/tmp\/tg-test-\w+/g, '<tmp>');
  /** @type {Row} */
  const added = { errno: row[0], where: row[1], cmd: row[2], exit: String(r.code), message, runs: row[3] ?? '' };
  table.push(added);
  return added;
}

/** The group id a `--json` submit printed. */
const groupOf = (/** @type {string} */ stdout) => /** @type {string} */ (JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}').taskgroup_id);

/** Rerun a submit in-process; every row is then in its group once. Returns the count for the table. */
async function rerunExactlyOnce(e, args, opts) {
  const r = await runInProcess([...args, '--json', '-q'], opts);
  assert.equal(r.code, 0, r.stderr);
  const g = groupOf(r.stdout);
  const runs = (await stats(e.url)).runsByGroup[g];
  assert.equal(runs, N, `the group holds ${runs} runs for ${N} rows`);
  assertExactlyOnce(await groupRuns(e.url, g), N);
  return `${runs} of ${N} rows, each once`;
}

/** A finished group of N runs (for the output cases) and its input. */
async function finishedGroup(e, d) {
  const f = makeCsv(d, N);
  const r = await runInProcess(['submit', f, ...BATCH, '--json', '-q', '--base-url', e.url, '--watch', '-o', path.join(d, 'seed.jsonl')], { cwd: d });
  assert.equal(r.code, 0, r.stderr);
  return { group: groupOf(r.stdout), input: f };
}

/** A JSONL results file holds each of the group's N runs once, whole lines only. */
function assertResultsOnce(file) {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), `${file}: no partial last line`);
  const ids = text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l).run.run_id);
  assert.equal(ids.length, N, file);
  assert.equal(new Set(ids).size, N, `${file}: no duplicates`);
  return `${N} results, each once`;
}

test('ENOTDIR: the state dir or -o under a regular file: exit 2, the path named, nothing sent; the fixed rerun sends each row once', async () => {
  const e = await emulator({ latencyMs: [20, 60], rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, N);
    writeFileSync(path.join(d, 'afile'), 'x\n');
    const base = ['--base-url', e.url, '-q'];
    const sub = ['submit', f, ...BATCH, ...base];
    /** @type {[string, string[], Record<string, string | undefined>, RegExp][]} */
    const cases = [
      [
        'XDG_STATE_HOME',
        sub,
        { TG_STATE_DIR: undefined, XDG_STATE_HOME: path.join(d, 'afile') },
        /^tg: afile\/tg\/journals: cannot create the directory: a part of the path is a file, not a directory \(ENOTDIR\); nothing was sent$/,
      ],
      [
        'TG_STATE_DIR',
        sub,
        { TG_STATE_DIR: 'afile/state' },
        /^tg: afile\/state\/journals: cannot create the directory: a part of the path is a file, not a directory \(ENOTDIR\); nothing was sent$/,
      ],
      [
        '--state',
        [...sub, '--state', 'afile/j.jsonl'],
        {},
        /^tg: afile: cannot create the directory: a file of that name is in the way \(EEXIST\); nothing was sent$/,
      ],
      [
        'submit --watch -o x.csv',
        [...sub, '--watch', '-o', 'afile/x.csv'],
        {},
        /^tg: afile: cannot create the directory: a file of that name is in the way \(EEXIST\); nothing was sent$/,
      ],
      [
        'submit --watch -o x.jsonl',
        [...sub, '--watch', '-o', 'afile/x.jsonl'],
        {},
        /^tg: afile: cannot create the directory: a file of that name is in the way \(EEXIST\); nothing was sent$/,
      ],
      [
        'watch -o',
        ['watch', 'tgrp_x', '-o', 'afile/w.jsonl', ...base],
        {},
        /^tg: afile: cannot create the directory: a file of that name is in the way \(EEXIST\)$/,
      ],
      [
        'fetch -o',
        ['fetch', 'tgrp_x', '-o', 'afile/sub/f.jsonl', ...base],
        {},
        /^tg: afile\/sub: cannot create the directory: a part of the path is a file, not a directory \(ENOTDIR\)$/,
      ],
      [
        'fetch --join -o',
        ['fetch', 'tgrp_x', '--join', f, '-o', 'afile/j.csv', ...base],
        {},
        /^tg: afile\/j\.csv: cannot reach: a part of the path is a file, not a directory \(ENOTDIR\)$/,
      ],
    ];
    /** @type {Row | undefined} */
    let first;
    for (const [where, args, env, re] of cases) {
      const before = (await stats(e.url)).runsCreated;
      const r = await runInProcess(args, { cwd: d, env });
      const runs = (await stats(e.url)).runsCreated - before;
      const row = assertOneLine(r, 2, re, [
        'ENOTDIR',
        where,
        `tg ${args
          .filter((a) => a !== e.url && a !== '--base-url' && a !== '-q')
          .map((a) => (a === f ? 'rows.csv' : a))
          .join(' ')}`,
        `${runs} (nothing sent)`,
      ]);
      first ??= row;
      assert.equal(runs, 0, `${where}: nothing sent`);
      assert.equal(readFileSync(path.join(d, 'afile'), 'utf8'), 'x\n', 'the file in the way is untouched');
    }
    if (first) first.runs += `; the rerun: ${await rerunExactlyOnce(e, sub, { cwd: d, env: { TG_STATE_DIR: path.join(d, 'state') } })}`;
  } finally {
    await e.close();
  }
});

test(
  'EACCES: a state dir and -o where tg (another user) may not write: exit 2, the path named; the rerun as root sends each row once',
  { skip: otherUserRefused || false },
  async () => {
    const e = await emulator({ latencyMs: [20, 60], rateLimit: null });
    try {
      const d = tmp();
      chmodSync(d, 0o755); // readable by uid 65534; writable by root only
      const f = makeCsv(d, N);
      chmodSync(f, 0o644);
      mkdirSync(path.join(d, 'locked'), { mode: 0o755 });
      const sub = ['submit', f, ...BATCH, '--base-url', e.url, '-q'];
      /** @type {[string, string[], Record<string, string>, RegExp][]} */
      const cases = [
        [
          'state dir',
          sub,
          { TG_STATE_DIR: path.join(d, 'locked', 'state') },
          /^tg: locked\/state\/journals: cannot create the directory: permission denied \(EACCES\); nothing was sent$/,
        ],
        [
          'stdin spool',
          ['submit', '-', '--format', 'csv', ...BATCH, '--base-url', e.url, '-q'],
          { TG_STATE_DIR: path.join(d, 'locked') },
          /^tg: locked\/spool: cannot create the directory: permission denied \(EACCES\); nothing was sent$/,
        ],
        [
          'watch -o',
          ['watch', 'tgrp_x', '-o', 'locked/w.jsonl', '--base-url', e.url, '-q'],
          { TG_STATE_DIR: path.join(d, 'locked') },
          /^tg: locked: cannot write there: permission denied \(EACCES\)$/,
        ],
        [
          'submit --watch -o x.csv',
          [...sub, '--watch', '-o', 'locked/x.csv'],
          { TG_STATE_DIR: path.join(d, 'locked') },
          /^tg: locked: cannot write there: permission denied \(EACCES\); nothing was sent$/,
        ],
      ];
      /** @type {Row | undefined} */
      let first;
      for (const [where, args, env, re] of cases) {
        const before = (await stats(e.url)).runsCreated;
        const r = await child(args, { cwd: d, env, nobody: true, input: readFileSync(f, 'utf8') });
        const runs = (await stats(e.url)).runsCreated - before;
        const row = assertOneLine(r, 2, re, [
          'EACCES',
          where,
          `(uid 65534) tg ${args
            .filter((a) => a !== e.url && a !== '--base-url' && a !== '-q')
            .map((a) => (a === f ? 'rows.csv' : a))
            .join(' ')}`,
          `${runs} (nothing sent)`,
        ]);
        first ??= row;
        assert.equal(runs, 0);
      }
      assert.deepEqual(readdirSync(path.join(d, 'locked')), [], 'nothing left behind');
      if (first) first.runs += `; the rerun as root: ${await rerunExactlyOnce(e, sub, { cwd: d, env: { TG_STATE_DIR: path.join(d, 'locked', 'state') } })}`;
    } finally {
      await e.close();
    }
  },
);

test(
  'ENOSPC: the state dir full before anything is sent, the stdin spool, and mid-send: exit 2 / 4; with space freed the rerun sends each row once',
  { skip: mountRefused || false },
  async () => {
    const e = await emulator({ latencyMs: [20, 60], rateLimit: null });
    const px = await stallProxy(e.url);
    const m = mountTmpfs('1m');
    try {
      const d = tmp();
      const f = makeCsv(d, N);
      const env = { TG_STATE_DIR: path.join(m, 'state') };
      const sub = ['submit', f, ...BATCH, '--base-url', px.url, '-q'];
      const shown = (/** @type {string[]} */ a) =>
        `tg ${a
          .filter((x) => x !== px.url && x !== '--base-url' && x !== '-q')
          .map((x) => (x.startsWith(d) ? path.basename(x) : x))
          .join(' ')}`;
      // Full before anything is sent: the lock of the journal is the first file written.
      let hog = fillUp(m);
      let before = (await stats(e.url)).runsCreated;
      let r = await runInProcess(sub, { cwd: d, env });
      assertOneLine(r, 2, /^tg: \S+\/state\/journals\/rows\.csv-\w+\.jsonl\.lock: cannot write: no space left on the device \(ENOSPC\); nothing was sent$/, [
        'ENOSPC',
        'state dir full before sending (the lock)',
        shown(sub),
        '0 (nothing sent)',
      ]);
      assert.equal((await stats(e.url)).runsCreated, before, 'nothing sent');
      assert.deepEqual(readdirSync(path.join(m, 'state', 'journals')), [], 'no temporary lock file left');
      // The stdin spool
      r = await runInProcess(['submit', '-', '--format', 'csv', ...BATCH, '--base-url', px.url, '-q'], { cwd: d, env, stdin: readFileSync(f) });
      assertOneLine(r, 2, /^tg: \S+\/state\/spool\/stdin-[\w-]+\.spool: cannot write: no space left on the device \(ENOSPC\); nothing was sent$/, [
        'ENOSPC',
        'stdin spool',
        'tg submit - --format csv (rows.csv on stdin)',
        '0 (nothing sent)',
      ]);
      assert.deepEqual(readdirSync(path.join(m, 'state', 'spool')), [], 'the partial spool is removed');
      assert.equal((await stats(e.url)).runsCreated, before, 'nothing sent');
      rmSync(hog);
      setRuns(-2, await rerunExactlyOnce(e, sub, { cwd: d, env: { TG_STATE_DIR: path.join(m, 'state') } }));
      // Mid-send: the proxy holds the third POST; the disk fills meanwhile; its answer cannot be journalled.
      rmSync(path.join(m, 'state'), { recursive: true });
      const f2 = path.join(d, 'rows2.csv');
      writeFileSync(f2, readFileSync(f, 'utf8').replace(/Company/g, 'Firm'));
      const sub2 = ['submit', f2, ...BATCH, '--base-url', px.url, '-q'];
      px.holdPostsAfter(2);
      before = (await stats(e.url)).runsCreated;
      const run = runInProcess(sub2, { cwd: d, env });
      await waitFor(() => px.held === 1, { what: 'the third POST of runs held' });
      hog = fillUp(m);
      await px.release();
      r = await run;
      assertOneLine(r, 4, /^tg: \S+\/state\/journals\/rows2\.csv-\w+\.jsonl: cannot write: no space left on the device \(ENOSPC\)$/, [
        'ENOSPC',
        'journal, mid-send (full while the 3rd POST was out)',
        shown(sub2),
        '300 sent before',
      ]);
      assert.match(r.stderr, /hint: Free space on that disk, then run the same command again: it resumes\./);
      assert.equal((await stats(e.url)).runsCreated - before, 300, 'three POSTs of 100 reached the API');
      rmSync(hog);
      const r2 = await runInProcess([...sub2, '--json'], { cwd: d, env });
      assert.equal(r2.code, 0, r2.stderr);
      const g = groupOf(r2.stdout);
      const runs = (await stats(e.url)).runsByGroup[g];
      assert.equal(runs, N);
      const all = await groupRuns(e.url, g);
      assert.equal(new Set(all.map((x) => x.run.metadata.tg_key)).size, N, 'each row once');
      setRuns(-1, `${runs} of ${N} rows, each once`);
    } finally {
      umount(m);
      await px.close();
      await e.close();
    }
  },
);

test(
  'ENOSPC on outputs mid-write (watch -o, fetch -o, fetch --join -o, submit --watch -o x.csv), a cursor and TMPDIR: exit 4; the rerun completes each once',
  { skip: mountRefused || false },
  async () => {
    const e = await emulator({ latencyMs: [20, 60], rateLimit: null });
    const m = mountTmpfs('64k');
    try {
      const d = tmp();
      const { group, input } = await finishedGroup(e, d);
      const base = ['--base-url', e.url, '-q'];
      const o = (/** @type {string} */ name) => path.join(m, name);
      /** @type {[string, string[], string, RegExp, () => string][]} */
      const cases = [
        [
          'watch -o, mid-write',
          ['watch', group, '-o', o('w.jsonl'), ...base],
          `tg watch G -o w.jsonl`,
          /\/w\.jsonl: cannot write: no space left/,
          () => assertResultsOnce(o('w.jsonl')),
        ],
        [
          'fetch -o, mid-write',
          ['fetch', group, '-o', o('f.jsonl'), ...base],
          `tg fetch G -o f.jsonl`,
          /\/f\.jsonl: cannot write: no space left/,
          () => assertResultsOnce(o('f.jsonl')),
        ],
        [
          'fetch --join -o, mid-write',
          ['fetch', group, '--join', input, '-o', o('j.csv'), ...base],
          'tg fetch G --join rows.csv -o j.csv',
          /\/j\.csv: cannot write: no space left/,
          () => {
            const lines = readFileSync(o('j.csv'), 'utf8').trimEnd().split('\n');
            assert.equal(lines.length, N + 1);
            return `${N} rows joined, each once`;
          },
        ],
      ];
      for (const [where, args, cmd, re, check] of cases) {
        remount(m, 'size=64k');
        const r = await runInProcess(args, { cwd: d });
        assertOneLine(r, 4, re, ['ENOSPC', where, cmd]);
        assert.doesNotMatch(readdirSync(m).join(' '), /\.tmp\b/, 'no temporary file left');
        remount(m, 'size=16m');
        const again = await runInProcess(args, { cwd: d });
        assert.equal(again.code, 0, again.stderr);
        setRuns(-1, check());
        for (const x of readdirSync(m)) rmSync(path.join(m, x), { force: true });
      }
      // submit --watch -o x.csv: the rows are sent (the journal is elsewhere), the enriched file does not fit.
      const f2 = path.join(d, 'rows2.csv');
      writeFileSync(f2, readFileSync(input, 'utf8').replace(/Company/g, 'Firm'));
      const sub = ['submit', f2, ...BATCH, '--watch', '-o', o('x.csv'), ...base];
      remount(m, 'size=16k');
      /** @type {{ code: number | null, stdout: string, stderr: string }} */
      let r = await runInProcess(sub, { cwd: d });
      assertOneLine(r, 4, /\/x\.csv: cannot write: no space left on the device \(ENOSPC\)$/, [
        'ENOSPC',
        'submit --watch -o x.csv, after sending',
        'tg submit rows2.csv --watch -o x.csv',
      ]);
      remount(m, 'size=16m');
      r = await runInProcess([...sub, '--json'], { cwd: d });
      assert.equal(r.code, 0, r.stderr);
      const g = JSON.parse(r.stdout).taskgroup_id;
      assert.equal(JSON.parse(r.stdout).submitted, 0, 'the rerun sends nothing');
      assert.equal((await stats(e.url)).runsByGroup[g], N);
      assert.equal(readFileSync(o('x.csv'), 'utf8').trimEnd().split('\n').length, N + 1);
      setRuns(-1, `${N} of ${N} rows, each once; x.csv whole`);
      for (const x of readdirSync(m)) rmSync(path.join(m, x), { force: true });
      // A cursor: one 4 KiB page left on a fresh tmpfs, which the -o lock takes; the cursor (written
      // before any line) does not fit.
      const c = mountTmpfs('16k');
      try {
        writeFileSync(path.join(c, 'hog'), Buffer.alloc(12 * 1024));
        r = await runInProcess(['watch', group, '-o', path.join(c, 'c.jsonl'), ...base], { cwd: d });
        assertOneLine(r, 4, /\/c\.jsonl\.tg\.json: cannot write: no space left on the device \(ENOSPC\)$/, [
          'ENOSPC',
          'the cursor of watch -o',
          'tg watch G -o c.jsonl',
        ]);
        rmSync(path.join(c, 'hog'));
        remount(c, 'size=16m');
        r = await runInProcess(['watch', group, '-o', path.join(c, 'c.jsonl'), ...base], { cwd: d });
        assert.equal(r.code, 0, r.stderr);
        setRuns(-1, assertResultsOnce(path.join(c, 'c.jsonl')));
      } finally {
        umount(c);
      }
      // TMPDIR full: the run index of fetch --join (a child: TMPDIR is read from its environment).
      remount(m, 'size=16k');
      const full = fillUp(m);
      r = await child(['fetch', group, '--join', input, '-o', path.join(d, 'joined.csv'), ...base], { cwd: d, env: { TMPDIR: m } });
      assertOneLine(r, 4, /^tg: \S+\/tg-join-\w+\/runs\.jsonl: cannot write: no space left on the device \(ENOSPC\)$/, [
        'ENOSPC',
        'TMPDIR (the run index of a join)',
        'TMPDIR=full tg fetch G --join rows.csv -o joined.csv',
      ]);
      assert.match(r.stderr, /hint: Free space on that disk \(or set TMPDIR to another directory\)/);
      assert.deepEqual(readdirSync(m), ['hog'], 'the temporary directory is removed');
      assert.equal(existsSync(path.join(d, 'joined.csv')), false);
      rmSync(full);
      remount(m, 'size=16m');
      r = await child(['fetch', group, '--join', input, '-o', path.join(d, 'joined.csv'), ...base], { cwd: d, env: { TMPDIR: m } });
      assert.equal(r.code, 0, r.stderr);
      setRuns(-1, `${N} rows joined`);
    } finally {
      umount(m);
      await e.close();
    }
  },
);

test(
  'EROFS: a read-only state dir and -o (exit 2), and -o made read-only after sending (exit 4); the rerun sends each row once',
  { skip: mountRefused || false },
  async () => {
    let clock = Date.now();
    const e = await emulator({ latencyMs: [20, 60], rateLimit: null, now: () => clock });
    const ro = mountTmpfs('1m', 'ro');
    let m = '';
    try {
      m = mountTmpfs('4m');
      const d = tmp();
      const f = makeCsv(d, N);
      const base = ['--base-url', e.url, '-q'];
      const sub = ['submit', f, ...BATCH, ...base];
      const before = (await stats(e.url)).runsCreated;
      let r = await runInProcess(sub, { cwd: d, env: { TG_STATE_DIR: path.join(ro, 'state') } });
      assertOneLine(r, 2, /^tg: \S+\/state: cannot create the directory: read-only file system \(EROFS\); nothing was sent$/, [
        'EROFS',
        'state dir',
        'tg submit rows.csv (TG_STATE_DIR read-only)',
        '0 (nothing sent)',
      ]);
      r = await runInProcess(['watch', 'tgrp_x', '-o', path.join(ro, 'w.jsonl'), ...base], { cwd: d });
      assertOneLine(r, 2, /^tg: \S+: cannot write there: read-only file system \(EROFS\)$/, [
        'EROFS',
        'watch -o',
        'tg watch G -o ro/w.jsonl',
        'nothing to send',
      ]);
      assert.equal((await stats(e.url)).runsCreated, before, 'nothing sent');
      remount(ro, 'rw');
      setRuns(-2, await rerunExactlyOnce(e, sub, { cwd: d, env: { TG_STATE_DIR: path.join(ro, 'state') } }));
      // submit --watch -o x.csv on m: sent, then waiting for the runs (the emulator's clock stands
      // still); m is made read-only (no file of tg's is open on it then), the clock moves on.
      const f2 = path.join(d, 'rows2.csv');
      writeFileSync(f2, readFileSync(f, 'utf8').replace(/Company/g, 'Firm'));
      const sub2 = ['submit', f2, ...BATCH, '--watch', '-o', path.join(m, 'x.csv'), ...base];
      const journals = path.join(d, '.tg', 'journals');
      const run = runInProcess(sub2, { cwd: d });
      await waitFor(
        () =>
          existsSync(journals) &&
          readdirSync(journals).some((j) => j.endsWith('.jsonl') && readFileSync(path.join(journals, j), 'utf8').includes('"t":"done"')),
        {
          what: 'the send pass to end',
        },
      );
      remount(m, 'ro');
      clock += 3600_000;
      r = await run;
      assertOneLine(r, 4, /\/x\.csv: cannot open: read-only file system \(EROFS\)$/, [
        'EROFS',
        'submit --watch -o x.csv, made read-only after sending',
        'tg submit rows2.csv --watch -o x.csv',
      ]);
      remount(m, 'rw');
      r = await runInProcess([...sub2, '--json'], { cwd: d });
      assert.equal(r.code, 0, r.stderr);
      const g = JSON.parse(r.stdout).taskgroup_id;
      assert.equal(JSON.parse(r.stdout).submitted, 0);
      assert.equal((await stats(e.url)).runsByGroup[g], N);
      assert.equal(readFileSync(path.join(m, 'x.csv'), 'utf8').trimEnd().split('\n').length, N + 1);
      setRuns(-1, `${N} of ${N} rows, each once; x.csv whole`);
    } finally {
      umount(ro);
      if (m) umount(m);
      await e.close();
    }
  },
);

test('EFBIG under ulimit -f (Node ignores SIGXFSZ: an error, not a signal): the lock, the journal mid-send, the rejects file, watch -o', async () => {
  const e = await emulator({ latencyMs: [20, 60], rateLimit: null });
  try {
    const d = tmp();
    const f = makeCsv(d, N);
    const env = { TG_STATE_DIR: path.join(d, 'state') };
    const sub = ['submit', f, ...BATCH, '--base-url', e.url, '-q'];
    // ulimit -f 0: the first byte written fails (the lock).
    let before = (await stats(e.url)).runsCreated;
    let r = await child(sub, { cwd: d, env, ulimit: 0 });
    assertOneLine(
      r,
      2,
      /^tg: state\/journals\/rows\.csv-\w+\.jsonl\.lock: cannot write: file too large for the file size limit \(ulimit -f\) \(EFBIG\); nothing was sent$/,
      ['EFBIG', 'the lock (ulimit -f 0)', 'ulimit -f 0; tg submit rows.csv', '0 (nothing sent)'],
    );
    assert.equal((await stats(e.url)).runsCreated, before);
    // ulimit -f 12 (12 KiB): a "sent" record of 100 run ids is ~4.6 KB: the journal outgrows it mid-send.
    r = await child(sub, { cwd: d, env, ulimit: 12 });
    assertOneLine(r, 4, /^tg: state\/journals\/rows\.csv-\w+\.jsonl: cannot write: file too large for the file size limit \(ulimit -f\) \(EFBIG\)$/, [
      'EFBIG',
      'journal, mid-send (ulimit -f 12)',
      'ulimit -f 12; tg submit rows.csv',
    ]);
    const sentBefore = (await stats(e.url)).runsCreated - before;
    assert.ok(sentBefore > 0, 'rows were sent before the limit was hit');
    setRuns(-1, `${sentBefore} sent before`);
    setRuns(-1, await rerunExactlyOnce(e, sub, { cwd: d, env }));
    // The rejects file of --skip-invalid: half the rows ragged, their 200-byte tails do not fit in 8 KiB.
    const rag = path.join(d, 'rag.csv');
    writeFileSync(
      rag,
      [
        'name,website',
        ...Array.from({ length: N }, (_, i) => (i % 2 ? `Co ${i},https://c${i}.example,${'x'.repeat(200)}` : `Co ${i},https://c${i}.example`)),
      ].join('\n') + '\n',
    );
    before = (await stats(e.url)).runsCreated;
    r = await child(['submit', rag, '--skip-invalid', ...BATCH, '--base-url', e.url, '-q'], { cwd: d, env, ulimit: 8 });
    assertOneLine(r, 2, /^tg: state\/journals\/rag\.csv-\w+\.jsonl\.rejects\.jsonl: cannot write: file too large .*\(EFBIG\); nothing was sent$/, [
      'EFBIG',
      'rejects file (ulimit -f 8)',
      'ulimit -f 8; tg submit rag.csv --skip-invalid',
      '0 (nothing sent)',
    ]);
    assert.equal((await stats(e.url)).runsCreated, before);
    assert.deepEqual(
      readdirSync(path.join(d, 'state', 'journals')).filter((x) => x.includes('rejects')),
      [],
      'no partial rejects file',
    );
    // watch -o: the results outgrow the limit; the rerun without it completes the file.
    const { group } = await finishedGroup(e, d);
    r = await child(['watch', group, '-o', 'w.jsonl', '--base-url', e.url, '-q'], { cwd: d, ulimit: 64 });
    assertOneLine(r, 4, /^tg: w\.jsonl: cannot write: file too large .*\(EFBIG\)$/, [
      'EFBIG',
      'watch -o (ulimit -f 64)',
      'ulimit -f 64; tg watch G -o w.jsonl',
    ]);
    r = await child(['watch', group, '-o', 'w.jsonl', '--base-url', e.url, '-q'], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    setRuns(-1, assertResultsOnce(path.join(d, 'w.jsonl')));
  } finally {
    await e.close();
  }
});
