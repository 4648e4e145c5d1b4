// The README's DuckDB recipe, run: SQL over the enriched CSV (no column needs quoting) and over the
// JSONL results of the same group, with @duckdb/node-api (a dev dependency).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { emulator, runInProcess, withFixture } from './helpers.mjs';

const FIELDS = ['--field', 'ceo_name: full name of the current CEO', '--field', 'founded_year:int: year the company was founded'];

test('DuckDB reads the enriched CSV and the JSONL results', async () => {
  const e = await emulator({ latencyMs: [10, 40], seed: 3 });
  const db = await DuckDBInstance.create(':memory:');
  const sql = await db.connect();
  try {
    const d = withFixture('companies.csv');
    const csv = await runInProcess(['submit', 'companies.csv', ...FIELDS, '--watch', '-o', 'out/enriched.csv', '--base-url', e.url], { cwd: d });
    assert.equal(csv.code, 0, csv.stderr);
    const jsonl = await runInProcess(['submit', 'companies.csv', ...FIELDS, '--watch', '-o', 'results.jsonl', '--base-url', e.url], { cwd: d });
    assert.equal(jsonl.code, 0, jsonl.stderr);

    // As in the README (paths made absolute for the test).
    const enriched = path.join(d, 'out', 'enriched.csv'); // -o makes its directory, as watch -o does
    const q1 = await sql.runAndReadAll(
      `select company_name, ceo_name, founded_year, ceo_name_confidence from read_csv('${enriched}') where segment = 'enterprise' order by founded_year desc limit 3`,
    );
    const top = q1.getRowObjectsJson();
    assert.equal(top.length, 3);
    assert.ok(top.every((r) => typeof r.ceo_name === 'string' && ['low', 'medium', 'high'].includes(String(r.ceo_name_confidence))));
    const types = await sql.runAndReadAll(`select column_name, column_type from (describe select * from read_csv('${enriched}'))`);
    const typeOf = Object.fromEntries(types.getRows());
    assert.equal(typeOf.founded_year, 'BIGINT', 'an int field reads as a number');

    const results = path.join(d, 'results.jsonl');
    const q2 = await sql.runAndReadAll(
      `select run.metadata.tg_key as row_number, output.content.ceo_name as ceo_name, run.status as status from read_json_auto('${results}') order by try_cast(row_number as int)`,
    );
    const lines = q2.getRowObjectsJson();
    assert.equal(lines.length, 60);
    assert.ok(lines.every((r) => r.status === 'completed' && typeof r.ceo_name === 'string'));
    // The second submit resumed into the same group: the JSONL lines are the CSV rows' runs.
    const both = await sql.runAndReadAll(
      `select count(*) as n from read_csv('${enriched}') c join read_json_auto('${results}') j on c.tg_run_id = j.run.run_id where c.ceo_name = j.output.content.ceo_name`,
    );
    assert.equal(Number(both.getRowObjectsJson()[0].n), 60);
  } finally {
    sql.closeSync?.();
    await e.close();
  }
});
