// Issue K, end to end: every input format tg reads is submitted to the emulator and written in
// every output format; each output is read back with an independent reader (csv-parse, the xlsx
// library, DuckDB, JSON.parse): every input cell comes back exactly, in order, each row with its
// own answer. And the README's "Excel and other formats" lines, run as they are written there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import XLSX from 'xlsx';
import { DuckDBInstance } from '@duckdb/node-api';
import { BIN, KEY, emulator, fixture, root, runInProcess, tmp } from './helpers.mjs';

const COLUMNS = ['name', 'plz', 'note', 'phone'];
/** Cells a spreadsheet user has: umlauts, a leading zero, the delimiter and quotes, an empty cell, a phone number that looks like a formula. */
const ROWS = [
  ['Müller & Söhne GmbH', '01067', 'sagt "Grüß Gott"; kommt wieder', '+49 30 123456'],
  ['Bäckerei Weiß', '40212', '', '-5 Grad'],
  ['Öko; Energie AG', '09111', 'zwei; Semikolons, ein Komma', '=1+1'],
  ['Ärzte ohne Grenzen e.V.', '13359', '"zitiert"', '@home'],
];
const FIELDS = ['--field', 'ceo_name: full name of the CEO', '--field', 'employees:int: number of employees'];
const OUTPUTS = ['csv', 'tsv', 'xlsx', 'parquet', 'json', 'jsonl'];

const q = (s) => `"${s.replaceAll('"', '""')}"`;
const delimited = (d) => [COLUMNS, ...ROWS].map((r) => r.map((c) => (c.includes(d) || c.includes('"') ? q(c) : c)).join(d)).join('\r\n') + '\r\n';
const objects = () => ROWS.map((r) => Object.fromEntries(COLUMNS.map((c, i) => [c, r[i]])));

/** The same table in each input format, written by independent writers (SheetJS, DuckDB). */
async function inputs(dir, sql) {
  writeFileSync(path.join(dir, 'in.csv'), '\ufeff' + delimited(';') + ';;;\r\n;;;\r\n'); // Excel's German export, empty rows at the end
  writeFileSync(path.join(dir, 'in.tsv'), delimited('\t'));
  writeFileSync(
    path.join(dir, 'in.jsonl'),
    objects()
      .map((o) => JSON.stringify(o))
      .join('\n') + '\n',
  );
  writeFileSync(path.join(dir, 'in.json'), JSON.stringify(objects(), null, 1));
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([COLUMNS, ...ROWS]), 'Firmen');
  XLSX.writeFile(wb, path.join(dir, 'in.xlsx'));
  const values = ROWS.map((r) => `(${r.map((c) => `'${c.replaceAll("'", "''")}'`).join(', ')})`).join(', ');
  await sql.run(`copy (select * from (values ${values}) t(${COLUMNS.join(', ')})) to '${path.join(dir, 'in.parquet')}' (format parquet)`);
}

/** An enriched output read back, as rows of { column: text }. */
async function readBack(file, format, sql, delimiter = ',') {
  if (format === 'csv' || format === 'tsv') return parse(readFileSync(file), { columns: true, bom: true, delimiter: format === 'tsv' ? '\t' : delimiter });
  if (format === 'xlsx') {
    const ws = XLSX.readFile(file).Sheets.Sheet1;
    return XLSX.utils.sheet_to_json(ws, { defval: '', raw: false });
  }
  if (format === 'json') return JSON.parse(readFileSync(file, 'utf8'));
  if (format === 'jsonl')
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  const r = await sql.runAndReadAll(`select * from read_parquet('${file}')`);
  return r.getRowObjectsJson();
}

const text = (v) => (v === null || v === undefined ? '' : String(v));

test('every input format, written in every output format, reads back cell for cell with its own answers', { timeout: 120_000 }, async () => {
  const e = await emulator({ rateLimit: null, latencyMs: [5, 20], seed: 11 });
  const db = await DuckDBInstance.create(':memory:');
  const sql = await db.connect();
  try {
    const d = tmp();
    await inputs(d, sql);
    for (const input of ['in.csv', 'in.tsv', 'in.jsonl', 'in.json', 'in.xlsx', 'in.parquet']) {
      const s = await runInProcess(['submit', input, ...FIELDS, '--watch', '-o', `${input}.out.csv`, '--base-url', e.url], { cwd: d });
      assert.equal(s.code, 0, `${input}: ${s.stderr}`);
      const group = JSON.parse(readFileSync(path.join(d, `${input}.out.csv.tg.json`), 'utf8')).group;
      for (const out of OUTPUTS) {
        const file = path.join(d, `${input}.${out}`);
        const j = await runInProcess(['fetch', group, '--join', input, '--format', out, '-o', file, '--base-url', e.url], { cwd: d });
        assert.equal(j.code, 0, `${input} → ${out}: ${j.stderr}`);
        const rows = await readBack(file, out, sql, input === 'in.csv' ? ';' : ',').catch((x) => assert.fail(`${input} → ${out}: ${x}`)); // a ;-separated input gives a ;-separated CSV
        assert.equal(rows.length, ROWS.length, `${input} → ${out}: ${rows.length} rows (empty rows are skipped, never written)`);
        rows.forEach((row, i) => {
          assert.deepEqual(
            COLUMNS.map((c) => text(row[c])),
            ROWS[i],
            `${input} → ${out}, row ${i + 1}: the user's own cells come back exactly (no formula guard on them)`,
          );
          assert.match(
            text(row.ceo_name),
            new RegExp(`^ceo name of ${ROWS[i][0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
            `${input} → ${out}, row ${i + 1}: its own answer`,
          );
          assert.equal(text(row.tg_status), 'completed');
        });
      }
    }
    // Answers are typed where the format has types; the input's own cells stay text.
    const types = await sql.runAndReadAll(`select column_name, column_type from (describe select * from read_parquet('${path.join(d, 'in.csv.parquet')}'))`);
    const typeOf = Object.fromEntries(types.getRows());
    assert.equal(typeOf.plz, 'VARCHAR');
    assert.equal(typeOf.employees, 'BIGINT');
    const ws = XLSX.readFile(path.join(d, 'in.csv.xlsx')).Sheets.Sheet1;
    assert.equal(ws.B2.t, 's', 'a postcode stays text: 01067');
    assert.equal(ws.B2.v, '01067');
    assert.ok(['n'].includes(ws[XLSX.utils.encode_cell({ r: 1, c: COLUMNS.length + 3 })].t), 'employees is a number cell');
  } finally {
    sql.closeSync?.();
    await e.close();
  }
});

/** A line of the README run by /bin/sh with `tg` on PATH. */
function sh(line, cwd, env) {
  const child = spawn('/bin/sh', ['-c', line], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (x) => (stdout += x));
  child.stderr.on('data', (x) => (stderr += x));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test("README's Excel and other formats lines, as written, on the German fixture", { timeout: 120_000 }, async () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const at = readme.indexOf('## Excel and other formats');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))?.[1] ?? '';
  const lines = block.trim().split('\n');
  assert.ok(lines.length >= 6, block);
  const e = await emulator({ rateLimit: null, latencyMs: [5, 20], seed: 12 });
  const db = await DuckDBInstance.create(':memory:');
  const sql = await db.connect();
  try {
    const d = tmp();
    for (const f of ['firmen.csv', 'firmen.xlsx', 'firmen-unicode.txt']) copyFileSync(fixture(f), path.join(d, f));
    const bin = tmp();
    symlinkSync(BIN, path.join(bin, 'tg'));
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      PARALLEL_BASE_URL: e.url,
      PARALLEL_API_KEY: KEY,
      TG_STATE_DIR: path.join(d, '.tg'),
      NO_COLOR: '1',
    };
    // The GROUP= line and the fetch that uses it run as one script, as a shell session would.
    const script = lines.join('\n');
    const r = await sh(`set -e\n${script}`, d, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /firmen\.csv: read as ;-separated \(detected from the header; --delimiter chooses\)/);
    assert.match(r.stderr, /firmen\.csv: 3 empty rows skipped/);
    assert.match(r.stderr, /firmen-unicode\.txt looks like tab-separated text \(TSV\)/);
    assert.match(r.stderr, /stdin looks like CSV \(;-separated\)/);
    assert.match(r.stdout, /read +firmen-unicode\.txt: read as UTF-16LE \(from its byte-order mark\)/);
    // enriched.xlsx: the German cells as Excel shows them, the answers typed.
    const ws = XLSX.readFile(path.join(d, 'enriched.xlsx')).Sheets.Sheet1;
    const rows = XLSX.utils.sheet_to_json(ws, { defval: '', raw: false });
    assert.equal(rows.length, 4);
    assert.equal(rows[0].Firma, 'Müller & Söhne GmbH');
    assert.equal(rows[0].PLZ, '01067');
    // enriched.csv for a German Excel: a byte-order mark, semicolons.
    const csv = readFileSync(path.join(d, 'enriched.csv'));
    assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const back = /** @type {Record<string, string>[]} */ (parse(csv, { columns: true, bom: true, delimiter: ';' }));
    assert.equal(back.length, 4);
    assert.equal(back[2].Firma, 'Öko; Energie AG');
    // enriched.parquet: typed columns, read by DuckDB without casts.
    const types = await sql.runAndReadAll(`select column_name, column_type from (describe select * from read_parquet('${path.join(d, 'enriched.parquet')}'))`);
    const typeOf = Object.fromEntries(types.getRows());
    assert.equal(typeOf.PLZ, 'VARCHAR');
    assert.equal(typeOf.employees, 'BIGINT');
  } finally {
    sql.closeSync?.();
    await e.close();
  }
});
