// The commands end to end, in this process through the library's run(argv, io) against the
// emulator on port 0, in real temp dirs: usage, help, input and exit-code cases, fetch/--join and
// the inputs; the real binary's exit status as a child process. (Kills and signals are in
// submit.test.mjs, watch.test.mjs and signals.test.mjs.) Exactly-once is verified through the API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { emulator, runTg, runInProcess, groupRuns, fixture, tmp, makeCsv, inputsInRowOrder } from './helpers.mjs';

test('--help lists every command; --version works', async () => {
  const h = await runInProcess(['--help']);
  assert.equal(h.code, 0);
  for (const c of ['create', 'submit', 'watch', 'fetch', 'status', 'emulator', 'completion']) assert.match(h.stdout, new RegExp(`\\n  ${c}`));
  const v = await runInProcess(['--version']);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  const none = await runInProcess([]);
  assert.equal(none.code, 2, '`tg` alone is a usage error');
  assert.match(none.stderr, /^Usage: tg /);
  const c = await runInProcess(['completion', 'bash']);
  assert.match(c.stdout, /complete -o filenames -F _tg tg/);
});

test('the real binary: --version and a usage error give their exit status', async () => {
  const v = await runTg(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  const u = await runTg(['submit']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /^tg: missing required argument 'input'/);
});

test('an option that swallowed a flag (an empty shell variable) is a usage error before anything runs', async () => {
  const e = await emulator();
  try {
    const d = tmp();
    const f = makeCsv(d, 3);
    const r = await runInProcess(['submit', f, '--base-url', '--watch', '-o', 'x.jsonl'], { cwd: d, env: { PARALLEL_BASE_URL: e.url } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^tg: --base-url took "--watch" as its value; --watch was not seen as an option\ntg: hint: Give --base-url a value/);
    const g = await runInProcess(['--base-url', '--json', 'status', 'tgrp_x'], { cwd: d });
    assert.equal(g.code, 2, g.stderr);
    assert.match(g.stderr, /--base-url took \\"--json\\" as its value/);
    // --state would take "--watch" as a file name and the rows would go to the emulator: refused, nothing sent
    const s = await runInProcess(['submit', f, '--state', '--watch'], { cwd: d, env: { PARALLEL_BASE_URL: e.url } });
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, /^tg: --state took "--watch" as its value; --watch was not seen as an option/);
    assert.equal(e.stats.requests, 0, 'nothing reached the API');
    // a short flag too
    const q = await runInProcess(['status', 'tgrp_x', '--base-url', '-q'], { cwd: d });
    assert.equal(q.code, 2, q.stderr);
    assert.match(q.stderr, /^tg: --base-url took "-q" as its value/);
    // a value that merely starts with dashes is left alone: it is the option's own check that speaks
    const v = await runInProcess(['submit', f, '--timeout', '--5', '--base-url', e.url], { cwd: d });
    assert.doesNotMatch(v.stderr, /as its value/);
    // `tg help <command>` is help asked for: exit 0
    const h = await runInProcess(['help', 'submit'], { cwd: d });
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^Usage: tg submit/);
  } finally {
    await e.close();
  }
});

test('submit: dry run sends nothing and prints the plan', async () => {
  const e = await emulator();
  try {
    const d = tmp();
    const r = await runInProcess(['submit', fixture('companies.csv'), '--spec', fixture('company-spec.json'), '--dry-run', '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rows {9}60 \(60 valid, 0 invalid\)/);
    assert.match(r.stdout, /batches {6}1 ×/);
    assert.equal(e.stats.requests, 0);
    assert.equal(existsSync(path.join(d, '.tg')), false);
  } finally {
    await e.close();
  }
});

test('submit: invalid rows → exit 2 naming file:line, column and rule; nothing sent', async () => {
  const e = await emulator();
  try {
    const d = tmp();
    const f = path.join(d, 'bad.csv');
    writeFileSync(f, 'company_name,company_website\nAcme,https://acme.com\nNoSite,\n');
    const r = await runInProcess(['submit', f, '--spec', fixture('company-spec.json'), '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.csv:3: column "company_website": missing required field \(required\)/);
    assert.equal(e.stats.runsCreated, 0);
    const s = await runInProcess(['submit', f, '--spec', fixture('company-spec.json'), '--skip-invalid', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(
      { ...JSON.parse(s.stdout), taskgroup_id: 'x' },
      { taskgroup_id: 'x', submitted: 1, skipped: 0, rejected: 1, repeats: 0, processor: 'base', estimated_cost_usd: 0.01 },
    );
    const jdir = path.join(d, '.tg', 'journals');
    const rejects = path.join(jdir, String(readdirSync(jdir).find((x) => x.endsWith('.rejects.jsonl'))));
    assert.equal(JSON.parse(readFileSync(rejects, 'utf8')).line, 3);
    assert.equal(statSync(rejects).mode & 0o777, 0o600);
  } finally {
    await e.close();
  }
});

test('submit: an appended row is sent alone; --restart sends everything again into a new group', async () => {
  const e = await emulator();
  try {
    const d = tmp();
    const f = makeCsv(d, 10);
    const r0 = await runInProcess(['submit', f, '--base-url', e.url], { cwd: d });
    assert.equal(r0.code, 0, r0.stderr);
    writeFileSync(f, readFileSync(f, 'utf8') + 'Company 11,https://c11.example\n');
    const r = await runInProcess(['submit', f, '--json', '--base-url', e.url], { cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      taskgroup_id: r0.stdout.trim(),
      submitted: 1,
      skipped: 10,
      rejected: 0,
      repeats: 0,
      processor: 'base',
      estimated_cost_usd: 0.01,
    });
    const s = await runInProcess(['submit', f, '--restart', '--json', '--base-url', e.url], { cwd: d });
    assert.equal(s.code, 0, s.stderr);
    assert.equal(JSON.parse(s.stdout).submitted, 11);
    assert.notEqual(JSON.parse(s.stdout).taskgroup_id, r0.stdout.trim());
  } finally {
    await e.close();
  }
});

test('auth and unknown group: exit 3 and 2, the key never printed', async () => {
  const e = await emulator({ apiKey: 'right-key-000000' });
  try {
    const d = tmp();
    const r = await runInProcess(['status', 'tgrp_x', '--verbose', '--base-url', e.url], { cwd: d, env: { PARALLEL_API_KEY: 'wrong-key-999999' } });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /check PARALLEL_API_KEY/);
    assert.doesNotMatch(r.stdout + r.stderr, /wrong-key-999999/);
    const n = await runInProcess(['status', 'tgrp_nope', '--json', '--base-url', e.url], { cwd: d, env: { PARALLEL_API_KEY: 'right-key-000000' } });
    assert.equal(n.code, 2);
    assert.match(n.stderr, /TaskGroup not found/);
    assert.equal(JSON.parse(n.stderr.trim().split('\n').at(-1) ?? '').error.code, 'not_found');
    const none = await runInProcess(['status', 'tgrp_x', '--base-url', e.url], { cwd: d, env: { PARALLEL_API_KEY: '' } });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /PARALLEL_API_KEY/);
  } finally {
    await e.close();
  }
});

test('fetch: CSV flattening and --join in input order', async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [10, 50] });
  try {
    const d = tmp();
    const r = await runInProcess(
      ['submit', fixture('companies.csv'), '--spec', fixture('company-spec.json'), '--watch', '-o', path.join(d, 'w.jsonl'), '--base-url', e.url],
      { cwd: d },
    );
    assert.equal(r.code, 0, r.stderr);
    const group = JSON.parse(readFileSync(path.join(d, 'w.jsonl.tg.json'), 'utf8')).group;
    const csv = await runInProcess(['fetch', group, '--format', 'csv', '--base-url', e.url], { cwd: d });
    assert.equal(csv.code, 0, csv.stderr);
    const header = csv.stdout.split('\n')[0];
    assert.equal(
      header,
      'input.company_name,input.company_website,output.key_insights,output.market_position,output.employee_count,output.headquarters,run_id,status,error',
    );
    assert.equal(csv.stdout.trim().split('\n').length, 61);
    const j = await runInProcess(['fetch', group, '--join', fixture('companies.csv'), '-o', path.join(d, 'enriched.csv'), '--base-url', e.url], { cwd: d });
    assert.equal(j.code, 0, j.stderr);
    const en = readFileSync(path.join(d, 'enriched.csv'), 'utf8').split('\n');
    assert.match(en[0], /^company_name,company_website,segment,key_insights,key_insights_confidence,/); // the enriched layout
    assert.match(en[1], /^Acme Corp,https:\/\/acme\.com,enterprise,/);
    assert.match(en[2], /^Stripe,/);
    // Rows the group has no run for (keys 61, 62) are kept, in order, with blank output columns, listed, and exit 5.
    const more = path.join(d, 'more.csv');
    writeFileSync(more, readFileSync(fixture('companies.csv'), 'utf8') + 'Extra One,https://one.example,smb\nExtra Two,https://two.example,smb\n');
    const j2 = await runInProcess(['fetch', group, '--join', more, '-o', path.join(d, 'enriched2.csv'), '--base-url', e.url], { cwd: d });
    assert.equal(j2.code, 5, j2.stderr); // rows without a finished run: the join is not complete yet
    assert.match(j2.stderr, /2 of 62 rows have no finished run yet \(left blank\): line 62, 63/);
    const en2 = readFileSync(path.join(d, 'enriched2.csv'), 'utf8').trim().split('\n');
    assert.equal(en2.length, 63);
    const blank = ','.repeat(15); // 4 fields × 3 columns, then tg_status, tg_error, tg_run_id: all blank
    assert.equal(en2[61], `Extra One,https://one.example,smb${blank}`);
    assert.equal(en2[62], `Extra Two,https://two.example,smb${blank}`);
    const st = await runInProcess(['status', group, '--json', '--base-url', e.url], { cwd: d });
    assert.equal(JSON.parse(st.stdout).task_run_status_counts.completed, 60);
  } finally {
    await e.close();
  }
});

test('the main job on the built-in emulator: stdin JSONL, --emulator, no key', async () => {
  const d = tmp();
  const r = await runInProcess(['submit', '-', '--format', 'jsonl', '--emulator', '--watch', '-o', path.join(d, 'out.jsonl')], {
    cwd: d,
    stdin: readFileSync(fixture('questions.jsonl')),
    env: { PARALLEL_API_KEY: '' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(d, 'out.jsonl'), 'utf8').trim().split('\n').length, 3);
});

test('inputs: .csv.gz, a JSON array, JSONL and gzipped stdin all give the rows they hold', async () => {
  const e = await emulator({ latencyMs: [10, 20] });
  try {
    const { gzipSync } = await import('node:zlib');
    const d = tmp();
    const spec = fixture('company-spec.json');
    const inputsOf = async (r) => {
      assert.equal(r.code, 0, r.stderr);
      return inputsInRowOrder(await groupRuns(e.url, JSON.parse(r.stdout).taskgroup_id));
    };
    // Each input on a machine of its own (its own state directory): on one machine, an input whose
    // rows an earlier job sent continues that job's group (issue L), and these all hold the same rows.
    let machine = 0;
    const own = () => ({ cwd: d, env: { TG_STATE_DIR: path.join(d, `state-${++machine}`) } });
    const csv = await inputsOf(await runInProcess(['submit', fixture('companies.csv'), '--spec', spec, '--json', '--base-url', e.url], own()));
    const gz = await inputsOf(await runInProcess(['submit', fixture('companies.csv.gz'), '--spec', spec, '--json', '--base-url', e.url], own()));
    assert.equal(csv.length, 60);
    assert.deepEqual(gz, csv);
    const json = await inputsOf(await runInProcess(['submit', fixture('companies.json'), '--spec', spec, '--json', '--base-url', e.url], own()));
    const jsonl = await inputsOf(await runInProcess(['submit', fixture('companies.jsonl'), '--spec', spec, '--json', '--base-url', e.url], own()));
    const want = JSON.parse(readFileSync(fixture('companies.json'), 'utf8')).map((o) => ({ company_name: o.company_name, company_website: o.company_website }));
    assert.deepEqual(json, want);
    assert.deepEqual(
      jsonl,
      readFileSync(fixture('companies.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    const stdin = await inputsOf(
      await runInProcess(['submit', '-', '--format', 'jsonl', '--spec', spec, '--json', '--base-url', e.url], {
        ...own(),
        stdin: gzipSync(readFileSync(fixture('companies.jsonl'))),
      }),
    );
    assert.deepEqual(stdin, jsonl);
  } finally {
    await e.close();
  }
});

// The README's first command before it wrote an enriched CSV (that one runs as typed, a child of
// bin/tg, in enrich.test.mjs): --spec to JSONL on the built-in emulator, twice; the second run
// replaces the file of the first run's vanished group. The built-in emulator's runs take 1-5 s, so
// this waits rather than computes (it runs beside the other files).
test('the --spec demo to JSONL on the built-in emulator runs twice in a row', async () => {
  const d = tmp();
  const demo = ['submit', fixture('companies.csv'), '--spec', fixture('company-spec.json'), '--emulator', '--watch', '-o', 'results.jsonl', '-q'];
  for (const round of [1, 2]) {
    const r = await runInProcess(demo, { cwd: d, env: { TG_STATE_DIR: path.join(d, 'state') } });
    assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
    assert.equal(readFileSync(path.join(d, 'results.jsonl'), 'utf8').trim().split('\n').length, 60, `round ${round}`);
  }
});
