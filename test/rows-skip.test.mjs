// From a user trial: rows tg must not pay for, and what --skip-invalid and --json promise.
// - a row with no values is refused with a spec too (--field made `,,` rows into `{}` runs);
// - JSON rows each have their own keys: those outside input_schema are named from any row;
// - --skip-invalid skips a CSV row with the wrong number of fields (its fields go to the rejects
//   file), and a failed validation leaves no temp file behind;
// - `submit --watch -o x.csv --json` prints its summary object on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { emulator, groupRuns, inputsInRowOrder, runInProcess, tmp } from './helpers.mjs';

test('rows with no values are skipped (a spreadsheet habit) or refused; JSON fields outside the spec are named from any row', async () => {
  const cwd = tmp();
  // Rows whose every cell is empty are skipped and counted, never sent (issue K).
  writeFileSync(path.join(cwd, 'excel.csv'), 'name,city\r\nalice,paris\r\n,\r\n,\r\n');
  const csv = await runInProcess(['submit', 'excel.csv', '--field', 'x: y', '--dry-run'], { cwd });
  assert.equal(csv.code, 0, csv.stderr);
  assert.match(csv.stdout, /rows {9}1 \(1 valid, 0 invalid\)/);
  assert.match(csv.stdout, /excel\.csv: 2 empty rows skipped/);
  // A row with values, none of them in input_schema, is still refused.
  writeFileSync(path.join(cwd, 'cols.csv'), 'name,city,other\r\nalice,paris,\r\n,,x\r\n');
  const spec = path.join(cwd, 'spec.json');
  writeFileSync(
    spec,
    JSON.stringify({
      input_schema: { type: 'json', json_schema: { type: 'object', properties: { name: { type: 'string' }, city: { type: 'string' } } } },
      output_schema: 'x',
    }),
  );
  const cols = await runInProcess(['submit', 'cols.csv', '--spec', spec, '--dry-run'], { cwd });
  assert.equal(cols.code, 2, cols.stderr);
  assert.match(cols.stderr, /cols\.csv:3: none of the row's values is a property of input_schema \(it has "other"\) \(empty\)/);
  writeFileSync(path.join(cwd, 'sparse.jsonl'), '{"name":"A"}\n{"name":"B","website":"b.com"}\n{"website":"c.com"}\n');
  const jsonl = await runInProcess(['submit', 'sparse.jsonl', '--field', 'ceo: the CEO', '--dry-run', '--skip-invalid'], { cwd });
  assert.equal(jsonl.code, 0, jsonl.stderr);
  assert.match(jsonl.stdout + jsonl.stderr, /rows {9}3 \(2 valid, 1 invalid\)/);
  assert.match(jsonl.stdout + jsonl.stderr, /fields outside input_schema: website/);
});

test('--skip-invalid skips rows with the wrong number of fields; without it, exit 2 and no temp file', async () => {
  const e = await emulator({ apiKey: 'test-key-123456', latencyMs: [10, 20] });
  try {
    const cwd = tmp();
    writeFileSync(path.join(cwd, 'ragged.csv'), 'a,b\n1,x\n2\n3,x\n4,x,extra\n5,x\n');
    const strict = await runInProcess(['submit', 'ragged.csv', '--base-url', e.url], { cwd });
    assert.equal(strict.code, 2, strict.stderr);
    assert.match(strict.stderr, /ragged\.csv:3: the row has 1 field; the header has 2\n.*--skip-invalid sends the other rows/);
    const r = await runInProcess(['submit', 'ragged.csv', '--skip-invalid', '--json', '--base-url', e.url], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual([s.submitted, s.rejected], [3, 2]);
    const runs = await groupRuns(e.url, s.taskgroup_id);
    assert.deepEqual(
      inputsInRowOrder(runs).map((i) => i.a),
      ['1', '3', '5'],
    );
    const journals = path.join(cwd, '.tg', 'journals');
    const rejects = readdirSync(journals).find((f) => f.endsWith('.rejects.jsonl')) ?? 'none';
    const lines = readFileSync(path.join(journals, rejects), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.line, l.row]),
      [
        [3, ['2']],
        [5, ['4', 'x', 'extra']],
      ],
    );
    // A pass that fails after collecting rejects (an unclosed quote at the end) leaves no temp file.
    writeFileSync(path.join(cwd, 'mix.csv'), 'a,b\n1,2\n,\n3,4\n"5,6\n');
    const mix = await runInProcess(['submit', 'mix.csv', '--skip-invalid', '--base-url', e.url], { cwd });
    assert.equal(mix.code, 2, mix.stderr);
    assert.deepEqual(
      readdirSync(journals).filter((f) => f.includes('mix.csv') && f.endsWith('.tmp')),
      [],
    );
  } finally {
    await e.close();
  }
});

test('submit --watch -o enriched.csv --json prints the summary object on stdout', async () => {
  const e = await emulator({ apiKey: 'test-key-123456', latencyMs: [10, 20] });
  try {
    const cwd = tmp();
    writeFileSync(path.join(cwd, 'c.csv'), 'name\nAcme\nGlobex\n');
    const r = await runInProcess(['submit', 'c.csv', '--field', 'ceo: the CEO', '--watch', '-o', 'out.csv', '--json', '--base-url', e.url], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.match(s.taskgroup_id, /^tgrp_/);
    assert.deepEqual([s.submitted, s.rows, s.with_run, s.failed, s.not_finished, s.output], [2, 2, 2, 0, 0, 'out.csv']);
  } finally {
    await e.close();
  }
});

test('tg spec reads --input - from stdin; a semicolon-separated file is read as such, and said', async () => {
  const cwd = tmp();
  const s = await runInProcess(['spec', '--field', 'ceo: the CEO', '--input', '-', '--format', 'csv'], { cwd, stdin: 'name,city\nAcme,Paris\n' });
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(Object.keys(JSON.parse(s.stdout).input_schema.json_schema.properties), ['name', 'city']);
  writeFileSync(path.join(cwd, 'semi.csv'), 'name;city\nbob;rome\n');
  const d = await runInProcess(['submit', 'semi.csv', '--dry-run'], { cwd });
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /semi\.csv: read as ;-separated \(detected from the header; --delimiter chooses\)/);
  assert.match(d.stdout, /rows {9}1 \(1 valid, 0 invalid\)/);
});

test('the enriched CSV marks a row --skip-invalid left out: tg_status rejected, the reason as tg_error', async () => {
  const e = await emulator({ apiKey: 'test-key-123456', latencyMs: [10, 20] });
  try {
    const cwd = tmp();
    writeFileSync(path.join(cwd, 'k.csv'), 'id,name\n1,Acme\n2\n3,Globex\n');
    const r = await runInProcess(
      ['submit', 'k.csv', '--key', 'id', '--field', 'ceo: the CEO', '--skip-invalid', '--watch', '-o', 'out.csv', '--base-url', e.url],
      {
        cwd,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(path.join(cwd, 'out.csv'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[2], /^2,,,,,rejected,k\.csv:3: the row has 1 field; the header has 2 \(fields\),$/);
    assert.match(lines[1], /,completed,,trun_/);
  } finally {
    await e.close();
  }
});

test('a rejected row never takes another row’s run: enriched CSV, fetch --join, duplicate keys', async () => {
  const e = await emulator({ apiKey: 'test-key-123456', latencyMs: [10, 20] });
  try {
    const cwd = tmp();
    // line 3 repeats line 2's key with an extra field: rejected, and not matched to row 1's run
    writeFileSync(path.join(cwd, 'k.csv'), 'id,name\n1,alpha\n1,alpha,extra\n3,gamma\n');
    const r = await runInProcess(['submit', 'k.csv', '--key', 'id', '--skip-invalid', '--watch', '-o', 'out.csv', '--json', '--base-url', e.url], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(path.join(cwd, 'out.csv'), 'utf8').trim().split('\n');
    assert.match(lines[2], /^1,alpha,.*rejected,k\.csv:3: the row has 3 fields; the header has 2 \(fields\),$/);
    assert.equal(JSON.parse(r.stdout).with_run, 2);
    // fetch --join reads the same file: the ragged row is a row without a run, not an error
    const j = await runInProcess(['fetch', JSON.parse(r.stdout).taskgroup_id, '--join', 'k.csv', '--key', 'id', '-o', 'joined.csv', '--base-url', e.url], {
      cwd,
    });
    assert.equal(j.code, 0, j.stderr);
    assert.equal(readFileSync(path.join(cwd, 'joined.csv'), 'utf8').trim().split('\n').length, 4);
    // a ragged row is not counted as a duplicate --key value
    writeFileSync(path.join(cwd, 'd.csv'), 'id,name\n1,a\n1,b,x\n1,c\n');
    const d = await runInProcess(['submit', 'd.csv', '--key', 'id', '--skip-invalid', '--dry-run'], { cwd });
    assert.equal(d.code, 2);
    assert.match(d.stderr, /d\.csv:4: column "id": duplicate key "1" \(first at line 2\)/);
    assert.match(d.stderr, /1 duplicate --key value in d\.csv/);
  } finally {
    await e.close();
  }
});
