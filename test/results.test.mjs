// The results side (issue G): each scenario against a scripted API (test/fake-api.mjs). No
// wall-clock waits: every case ends by the command's own exit. tg runs in-process through
// run(argv, io) (same files, output and exit codes, without a node start-up per case); G.6
// spawns bin/tg because a closed stdout pipe is a process boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, readdirSync, symlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BIN, runInProcess, tmp, emulator, makeCsv, groupRuns, assertExactlyOnce, pipeToHead } from './helpers.mjs';
import { fakeApi, makeRuns } from './fake-api.mjs';

const lines = (f) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
/** @param {{ url: string }} api @param {string[]} args @param {{ cwd?: string, env?: Record<string, string> }} [opts] */
const tgAt = (api, args, opts = {}) => runInProcess([...args, '--base-url', api.url], opts);

test('G.2 watch: a re-sent event never writes a second line; a run whose event never comes is filled from /runs', async () => {
  const runs = makeRuns(6, (i) => ['completed', 'failed', 'cancelled', 'completed', 'completed', 'completed'][i]);
  // trun_2 is sent three times, trun_6 never; the catch-up listing (made as watch starts) shows
  // every run still running, so the results come from the events.
  const api = await fakeApi({ runs, events: ['trun_1', 'trun_2', 'trun_2', 'trun_3', 'trun_4', 'trun_2', 'trun_5'], listedRunning: 1 });
  try {
    const d = tmp();
    const r = await tgAt(api, ['watch', api.group, '-o', 'w.jsonl'], { cwd: d });
    assert.equal(r.code, 1, r.stderr); // failed + cancelled → 1
    const got = lines(path.join(d, 'w.jsonl')).map((l) => l.run.run_id);
    assert.deepEqual([...got].sort(), runs.map((x) => x.run_id).sort());
    assert.match(r.stderr, /1 finished run had no event; its result was taken from the group.s run list/);
    // A rerun (the stream replays from the cursor, re-sending again) adds nothing.
    const again = await tgAt(api, ['watch', api.group, '-o', 'w.jsonl'], { cwd: d });
    assert.equal(again.code, 1, again.stderr);
    assert.equal(lines(path.join(d, 'w.jsonl')).length, 6);
  } finally {
    await api.close();
  }
});

test('G.2 watch: runs finished before watch starts come from the run list (with inputs, no result GET), once each, as fetch writes them', async () => {
  const runs = makeRuns(5, (i) => ['completed', 'failed', 'completed', 'cancelled', 'completed'][i]);
  const api = await fakeApi({ runs, events: ['trun_3', 'trun_1', 'trun_1', 'trun_5', 'trun_2', 'trun_4'] });
  try {
    const d = tmp();
    const r = await tgAt(api, ['watch', api.group, '-o', 'w.jsonl'], { cwd: d });
    assert.equal(r.code, 1, r.stderr);
    const got = lines(path.join(d, 'w.jsonl'));
    assert.deepEqual(
      got.map((l) => l.run.run_id),
      runs.map((x) => x.run_id),
    ); // the list's order
    assert.equal(api.state.results, 0, 'no result GET');
    for (const l of got) assert.deepEqual(l.input, { input: runs.find((x) => x.run_id === l.run.run_id)?.input });
    const cursor = JSON.parse(readFileSync(path.join(d, 'w.jsonl.tg.json'), 'utf8'));
    assert.equal(cursor.extra.runs, 'r4');
    // fetch writes the same lines.
    const f = await tgAt(api, ['fetch', api.group, '-o', 'f.jsonl'], { cwd: d });
    assert.equal(f.code, 1, f.stderr);
    assert.equal(readFileSync(path.join(d, 'f.jsonl'), 'utf8'), readFileSync(path.join(d, 'w.jsonl'), 'utf8'));
    // A rerun (the list read from its cursor, the events from the start) adds nothing.
    assert.equal((await tgAt(api, ['watch', api.group, '-o', 'w.jsonl'], { cwd: d })).code, 1);
    assert.equal(lines(path.join(d, 'w.jsonl')).length, 5);
  } finally {
    await api.close();
  }
});

test('G.2 watch: a completed run listed without its output gets it from its result', async () => {
  /** @type {any[]} */
  const runs = makeRuns(3);
  runs[1].listOutput = false;
  const api = await fakeApi({ runs });
  try {
    const d = tmp();
    const r = await tgAt(api, ['watch', api.group, '-o', 'w.jsonl'], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    const got = lines(path.join(d, 'w.jsonl'));
    assert.deepEqual(
      got.map((l) => [l.run.run_id, l.output?.content.answer]),
      [
        ['trun_1', 'A1'],
        ['trun_2', 'A2'],
        ['trun_3', 'A3'],
      ],
    );
    assert.equal(api.state.results, 1);
    assert.deepEqual(got[1].input, { input: runs[1].input });
  } finally {
    await api.close();
  }
});

test('G.2 watch: an inactive group with action_required runs is not done (exit 5)', async () => {
  const api = await fakeApi({ runs: makeRuns(3, (i) => (i === 1 ? 'action_required' : 'completed')) });
  try {
    const r = await tgAt(api, ['watch', api.group], { cwd: tmp() });
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 2);
    assert.match(r.stderr, /1 action_required/);
  } finally {
    await api.close();
  }
});

test('G.1 fetch -o: unfinished runs are counted, never written, the cursor waits; a rerun adds exactly the runs finished since', async () => {
  const statuses = ['completed', 'running', 'completed', 'queued', 'action_required', 'completed', 'cancelling', 'failed'];
  const runs = makeRuns(statuses.length, (i) => statuses[i]);
  const api = await fakeApi({ runs, active: true });
  try {
    const d = tmp();
    const r = await tgAt(api, ['fetch', api.group, '-o', 'f.jsonl'], { cwd: d });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /4 runs not finished yet \(running 1, queued 1, action_required 1, cancelling 1\)/);
    assert.deepEqual(
      lines(path.join(d, 'f.jsonl')).map((l) => l.run.status),
      ['completed', 'completed', 'completed', 'failed'],
    );
    for (const x of runs) if (x.status !== 'completed' && x.status !== 'failed') x.status = x.run_id === 'trun_7' ? 'cancelled' : 'completed';
    api.state.active = false;
    const again = await tgAt(api, ['fetch', api.group, '-o', 'f.jsonl'], { cwd: d });
    assert.equal(again.code, 1, again.stderr);
    const all = lines(path.join(d, 'f.jsonl')).map((l) => l.run.run_id);
    assert.equal(all.length, 8);
    assert.equal(new Set(all).size, 8);
    // Plain fetch to stdout shows every run with its status (exit 5 while any is unfinished).
    runs[0].status = 'running';
    const out = await tgAt(api, ['fetch', api.group], { cwd: d });
    assert.equal(out.code, 5, out.stderr);
    assert.equal(out.stdout.trim().split('\n').length, 8);
  } finally {
    await api.close();
  }
});

test('G.6 a closed stdout ends fetch and watch quietly with 141; --help | head -1 exits 0, no trace', async () => {
  // 3000 runs: well over 200 KB of output, more than a pipe holds, so tg cannot have written
  // everything before `head -1` exits (a write to a full pipe waits for the reader).
  const api = await fakeApi({ runs: makeRuns(3000) });
  try {
    for (const cmd of ['fetch', 'watch']) {
      const r = await new Promise((resolve) => {
        const sh = spawn(
          'bash',
          ['-c', `"${process.execPath}" "${BIN}" ${cmd} ${api.group} --base-url ${api.url} | head -1 >/dev/null; echo "status=\${PIPESTATUS[0]}" >&2`],
          { env: { ...process.env, PARALLEL_API_KEY: 'test-key-123456' } },
        );
        let err = '';
        sh.stderr.on('data', (b) => (err += b));
        sh.on('close', () => resolve(err));
      });
      assert.match(r, /status=141/, `${cmd}: ${r}`);
      assert.doesNotMatch(r, /EPIPE|at .*\.cjs|internal error|interrupted/, `${cmd}: ${r}`);
    }
    // Help fits in the pipe: tg may finish before head closes it (0) or not (141); never a trace.
    const help = await pipeToHead(['--help'], 1, { cwd: tmp() });
    assert.equal(help.code, 0, `--help | head -1 (one write, whole in the pipe): exit ${help.code}: ${help.stderr}`);
    assert.match(help.stdout, /^Usage: tg /);
    assert.equal(help.stderr, '');
  } finally {
    await api.close();
  }
});

test('G.6 submit --watch | head: exit 141 part-way; the same command to a file resumes, one run per row and one line per run', async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [20, 60] });
  try {
    const d = tmp();
    const n = 400;
    // One add-runs POST of 200 rows, then the client budget (--rate 200/5m, in runs) makes submit wait: its
    // 200 result lines (far more than a pipe holds) come while it waits, head takes five and
    // closes the pipe, and tg stops there — half the rows sent.
    const args = ['submit', makeCsv(d, n), '--batch-size', '200', '--rate', '200/5m', '--rate-unit', 'runs', '--base-url', e.url];
    const r = await pipeToHead([...args, '--watch'], 5, { cwd: d });
    assert.equal(r.code, 141, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 5);
    assert.doesNotMatch(r.stderr, /EPIPE|bug in tg|internal error|interrupted|\n\s+at /, 'a closed pipe ends tg quietly');
    assert.equal(e.stats.runsCreated, 200, 'stopped part-way');
    // The same command to a file: the journal resumes (a new tg has a fresh budget for the one
    // remaining POST); every row one run, every run one line.
    const again = await runInProcess([...args, '--watch', '-o', 'out.jsonl'], { cwd: d });
    assert.equal(again.code, 0, again.stderr);
    const stats = await (await fetch(`${e.url}/__emulator/stats`)).json();
    assert.equal(stats.runsCreated, n);
    assert.equal(stats.addRunsPosts, 2);
    const [group, ...others] = Object.keys(stats.runsByGroup);
    assert.deepEqual(others, [], 'one group');
    assertExactlyOnce(await groupRuns(e.url, group), n);
    const ids = lines(path.join(d, 'out.jsonl')).map((l) => l.run.run_id);
    assert.equal(ids.length, n);
    assert.equal(new Set(ids).size, n);
  } finally {
    await e.close();
  }
});

test('G.7 a silent server (status, watch, submit) and a keep-alive-only stream are bounded by TG_OUTAGE_GIVE_UP_S; a long retry-after is exit 4 with a time', async () => {
  const env = { TG_OUTAGE_GIVE_UP_S: '1' };
  const silent = await fakeApi({ fault: 'silent' });
  try {
    const d = tmp();
    makeCsv(d, 3);
    for (const args of [
      ['status', silent.group],
      ['watch', silent.group],
      ['submit', 'rows.csv'],
    ]) {
      const r = await tgAt(silent, args, { cwd: d, env });
      assert.equal(r.code, 4, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /^tg: .*: the server accepted the connection but sent no answer in 1 s \(UND_ERR_HEADERS_TIMEOUT\)/m, args[0]);
    }
  } finally {
    await silent.close();
  }
  const ka = await fakeApi({ runs: makeRuns(2), fault: null });
  try {
    ka.state.fault = 'keepalive';
    // the group check answers; only the run stream is stuck
    const orig = ka.state;
    const r = await tgAt(ka, ['fetch', ka.group], { cwd: tmp(), env });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /keep-alives only|no event/);
    // the group, then one stream: silent for the give-up already, it is not opened a second time
    assert.equal(orig.requests, 2);
  } finally {
    await ka.close();
  }
  const ra = await fakeApi({ fault: 'retry-after' });
  try {
    const d = tmp();
    makeCsv(d, 3);
    for (const args of [
      ['status', ra.group],
      ['submit', 'rows.csv'],
    ]) {
      const r = await tgAt(ra, args, { cwd: d, env });
      assert.equal(r.code, 4, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /asked to wait 86400 s/, args[0]);
      assert.match(r.stderr, /Come back after \d{4}-\d\d-\d\dT/, args[0]);
    }
  } finally {
    await ra.close();
  }
});

function csvFile(d, name, rows) {
  const f = path.join(d, name);
  writeFileSync(f, 'name,size\n' + rows.map((r) => `${r.name},${r.size}`).join('\n') + '\n');
  return f;
}

test('G.3 join: rows are verified against the run input; re-sorted input, no key matched, rows without a run', async () => {
  const runs = makeRuns(4);
  const api = await fakeApi({ runs });
  try {
    const d = tmp();
    const rows = runs.map((r) => r.input);
    const ok = await tgAt(api, ['fetch', api.group, '--join', csvFile(d, 'in.csv', rows), '-o', 'out.csv'], { cwd: d });
    assert.equal(ok.code, 0, ok.stderr);
    const out = readFileSync(path.join(d, 'out.csv'), 'utf8').trim().split('\n');
    assert.equal(out.length, 5);
    // The enriched layout of submit --watch -o (issue K): input, per field X, X_confidence, X_citations, then tg_*.
    assert.equal(out[0], 'name,size,answer,answer_confidence,answer_citations,note,note_confidence,note_citations,tg_status,tg_error,tg_run_id');
    assert.match(out[1], /^Company 1,1,A1,,,'=SUM\(A1:A2\),,,completed,,trun_1$/); // formula neutralised
    const raw = await tgAt(api, ['fetch', api.group, '--join', path.join(d, 'in.csv'), '--raw-csv'], { cwd: d });
    assert.match(raw.stdout.split('\n')[1], /,=SUM\(A1:A2\),/);
    // Re-sorted: rows 1 and 2 swapped → a mismatch naming the lines, nothing written.
    const sorted = await tgAt(api, ['fetch', api.group, '--join', csvFile(d, 'sorted.csv', [rows[1], rows[0], rows[2], rows[3]]), '-o', 'sorted-out.csv'], {
      cwd: d,
    });
    assert.equal(sorted.code, 2, sorted.stderr);
    assert.match(sorted.stderr, /^tg: 2 rows of .* do not match .*\(lines 2, 3\)/m);
    assert.equal(existsSync(path.join(d, 'sorted-out.csv')), false);
    // To stdout too: nothing is printed (a pipeline must not get a plausible table with blanks).
    const toStdout = await tgAt(api, ['fetch', api.group, '--join', path.join(d, 'sorted.csv')], { cwd: d });
    assert.equal(toStdout.code, 2, toStdout.stderr);
    assert.equal(toStdout.stdout, '');
    // Joined with a --key the group was not submitted with: no key matched at all.
    const nokey = await tgAt(api, ['fetch', api.group, '--join', path.join(d, 'in.csv'), '--key', 'name'], { cwd: d });
    assert.equal(nokey.code, 2, nokey.stderr);
    assert.match(nokey.stderr, /no row of .* matched a run/);
    assert.equal(nokey.stdout, '');
    // Two more rows than runs: listed, exit 5.
    const more = await tgAt(api, ['fetch', api.group, '--join', csvFile(d, 'more.csv', [...rows, { name: 'X', size: '5' }, { name: 'Y', size: '6' }])], {
      cwd: d,
    });
    assert.equal(more.code, 5, more.stderr);
    assert.match(more.stderr, /2 of 6 rows have no finished run yet \(left blank\): line 6, 7/);
  } finally {
    await api.close();
  }
});

test("G.3 join: two files sent into one group (create + --group) each get their own rows' answers", async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [10, 20] });
  try {
    const d = tmp();
    const a = [
      { name: 'Acme', size: '1' },
      { name: 'Beta', size: '2' },
      { name: 'Gamma', size: '3' },
    ];
    const b = [
      { name: 'Delta', size: '4' },
      { name: 'Epsilon', size: '5' },
    ];
    csvFile(d, 'a.csv', a);
    csvFile(d, 'b.csv', b);
    const at = (args) => runInProcess([...args, '--base-url', e.url], { cwd: d });
    const group = (await at(['create'])).stdout.trim();
    for (const f of ['a.csv', 'b.csv']) assert.equal((await at(['submit', f, '--group', group])).code, 0);
    assert.equal((await at(['status', group, '--wait'])).code, 0);
    // Both files have rows 1 and 2 (the default tg_key): each row must get the run of its own content.
    for (const [f, rows] of /** @type {const} */ ([
      ['a.csv', a],
      ['b.csv', b],
    ])) {
      const r = await at(['fetch', group, '--join', f]);
      assert.equal(r.code, 0, r.stderr);
      const got = r.stdout.trim().split('\n').slice(1);
      assert.equal(got.length, rows.length, r.stdout);
      got.forEach((line, i) => assert.ok(line.startsWith(`${rows[i].name},`) && line.includes(`summary of ${rows[i].name}:`), `${f}: ${line}`));
    }
  } finally {
    await e.close();
  }
});

test('G.4 join -o replaces only files tg wrote: never the input, an unrelated CSV or a watch -o file; temp files cleaned', async () => {
  const runs = makeRuns(2);
  const api = await fakeApi({ runs });
  try {
    const d = tmp();
    const input = csvFile(
      d,
      'in.csv',
      runs.map((r) => r.input),
    );
    const before = readFileSync(input, 'utf8');
    const self = await tgAt(api, ['fetch', api.group, '--join', input, '-o', input, '--force'], { cwd: d });
    assert.equal(self.code, 2, self.stderr);
    assert.equal(readFileSync(input, 'utf8'), before);
    writeFileSync(path.join(d, 'other.csv'), 'precious\n');
    const other = await tgAt(api, ['fetch', api.group, '--join', input, '-o', 'other.csv'], { cwd: d });
    assert.equal(other.code, 2, other.stderr);
    assert.equal(readFileSync(path.join(d, 'other.csv'), 'utf8'), 'precious\n');
    const w = await tgAt(api, ['watch', api.group, '-o', 'w.jsonl'], { cwd: d });
    assert.equal(w.code, 0, w.stderr);
    const wText = readFileSync(path.join(d, 'w.jsonl'), 'utf8');
    const onWatch = await tgAt(api, ['fetch', api.group, '--join', input, '-o', 'w.jsonl', '--force'], { cwd: d });
    assert.equal(onWatch.code, 2, onWatch.stderr);
    assert.equal(readFileSync(path.join(d, 'w.jsonl'), 'utf8'), wText);
    // Its own output: replaced on a rerun; --force replaces the unrelated file.
    for (let i = 0; i < 2; i++) assert.equal((await tgAt(api, ['fetch', api.group, '--join', input, '-o', 'out.csv'], { cwd: d })).code, 0);
    assert.equal((await tgAt(api, ['fetch', api.group, '--join', input, '-o', 'other.csv', '--force'], { cwd: d })).code, 0);
    assert.match(readFileSync(path.join(d, 'other.csv'), 'utf8'), /^name,size,answer,/);
    assert.deepEqual(
      readdirSync(d).filter((f) => f.endsWith('.tmp')),
      [],
    );
  } finally {
    await api.close();
  }
});

test('G.5 fetch --format csv neutralises formula cells; --raw-csv keeps them', async () => {
  const api = await fakeApi({
    runs: makeRuns(
      2,
      () => 'completed',
      () => ({ name: '@cmd', size: '-3' }),
    ),
  });
  try {
    const safe = await tgAt(api, ['fetch', api.group, '--format', 'csv'], { cwd: tmp() });
    assert.equal(safe.code, 0, safe.stderr);
    const row = safe.stdout.split('\n')[1];
    assert.match(row, /^'@cmd,-3,A1,'=SUM\(A1:A2\),/);
    const raw = await tgAt(api, ['fetch', api.group, '--format', 'csv', '--raw-csv'], { cwd: tmp() });
    assert.match(raw.stdout.split('\n')[1], /^@cmd,-3,A1,=SUM\(A1:A2\),/);
  } finally {
    await api.close();
  }
});

test('G.8 a full disk is named with the path and cause, not "a bug in tg"', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async () => {
  const api = await fakeApi({ runs: makeRuns(50) });
  try {
    const d = tmp();
    symlinkSync('/dev/full', path.join(d, 'full.jsonl'));
    for (const cmd of ['watch', 'fetch']) {
      const r = await tgAt(api, [cmd, api.group, '-o', 'full.jsonl'], { cwd: d });
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr.split('\n')[0], /^tg: .*full\.jsonl: cannot write: no space left on the device \(ENOSPC\)$/);
      assert.doesNotMatch(r.stderr, /bug in tg|internal error/);
      rmSync(path.join(d, 'full.jsonl.tg.json'), { force: true });
    }
  } finally {
    await api.close();
  }
});

test('G.8 -o under a path that is a file is named with the path and cause, exit 2, nothing written', async () => {
  const api = await fakeApi({ runs: makeRuns(3) });
  try {
    const d = tmp();
    writeFileSync(path.join(d, 'afile'), 'x\n');
    for (const cmd of ['watch', 'fetch']) {
      const r = await tgAt(api, [cmd, api.group, '-o', 'afile/out.jsonl'], { cwd: d });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr.split('\n')[0], /^tg: afile: cannot create the directory: a file of that name is in the way \(EEXIST\)$/);
      assert.doesNotMatch(r.stderr, /bug in tg|internal error|\n\s+at /);
    }
    assert.equal(readFileSync(path.join(d, 'afile'), 'utf8'), 'x\n');
  } finally {
    await api.close();
  }
});

test('G.4 a symlink planted at a temp-file name tg could use is never followed', async () => {
  const d = tmp();
  writeFileSync(path.join(d, 'victim.txt'), 'precious\n');
  const runs = makeRuns(2);
  csvFile(
    d,
    'in.csv',
    runs.map((r) => r.input),
  );
  const api = await fakeApi({ runs });
  try {
    // `exec` keeps the shell's pid for tg, so the links sit at every name built from the file and
    // the pid (out.csv.<pid>.tmp, .out.csv.<pid>.tmp, the same for the cursor of results.jsonl).
    const names = ['out.csv.$$.tmp', '.out.csv.$$.tmp', 'results.jsonl.tg.json.$$.tmp', '.results.jsonl.tg.json.$$.tmp'];
    const plant = names.map((n) => `ln -s victim.txt ${n}`).join('; ');
    for (const args of [
      ['fetch', api.group, '--join', 'in.csv', '-o', 'out.csv'],
      ['fetch', api.group, '-o', 'results.jsonl'],
    ]) {
      const r = await new Promise((resolve) => {
        const sh = spawn('bash', ['-c', `${plant}; exec "$0" "$@"`, process.execPath, BIN, ...args, '--base-url', api.url], {
          cwd: d,
          env: { ...process.env, PARALLEL_API_KEY: 'test-key-123456', TG_STATE_DIR: path.join(d, '.tg') },
        });
        let err = '';
        sh.stderr.on('data', (b) => (err += b));
        sh.on('close', (code) => resolve({ code, err }));
      });
      assert.equal(r.code, 0, r.err);
      assert.equal(readFileSync(path.join(d, 'victim.txt'), 'utf8'), 'precious\n', args.join(' '));
      for (const f of readdirSync(d).filter((n) => n.endsWith('.tmp'))) rmSync(path.join(d, f));
    }
    assert.match(readFileSync(path.join(d, 'out.csv'), 'utf8'), /^name,size,answer,/);
  } finally {
    await api.close();
  }
});
