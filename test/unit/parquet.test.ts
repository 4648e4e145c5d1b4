// formats/parquet*.ts: typed Parquet out that DuckDB reads without casts, and Parquet in — from
// tg and from DuckDB (each codec it writes), row group by row group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openParquet } from '../../src/io/formats/parquetwrite';
import { errorOf, readAll, tmpDir } from './formats-util';

const COLUMNS = [
  { name: 'company' },
  { name: 'employees', type: 'int' as const },
  { name: 'revenue', type: 'number' as const },
  { name: 'public', type: 'bool' as const },
  { name: 'founded', type: 'date' as const },
  { name: 'tags', type: 'list' as const },
  { name: 'website', type: 'url' as const },
  { name: 'extra', type: 'json' as const },
];

/** Row k: every type, with nulls, a non-integer in the int column every 97th row (a misfit), and 2^53+ integers. */
function row(k: number): unknown[] {
  return [
    k % 11 === 0 ? null : `Firma ${k} ÄÖÜ "q"`,
    k % 97 === 0 ? 'n/a' : k % 13 === 0 ? null : k % 89 === 0 ? '9007199254740993' : k * 1000,
    k % 7 === 0 ? null : k / 8,
    k % 5 === 0 ? null : k % 2 === 0,
    k % 17 === 0 ? null : `20${String(k % 25).padStart(2, '0')}-0${1 + (k % 9)}-1${k % 10}`,
    k % 6 === 0 ? null : k % 6 === 1 ? [] : [`t${k}`, `u${k}`],
    `https://c${k}.example`,
    k % 3 ? { k, nested: [k] } : null,
  ];
}

test('the writer: typed columns DuckDB reads without casts, every value back exactly, in order; tg reads it back', async () => {
  const f = path.join(tmpDir(), 'out.parquet');
  const N = 40000; // more than two row groups
  const w = await openParquet(f, COLUMNS);
  for (let i = 0; i < N; i += 512) await w.write(Array.from({ length: Math.min(512, N - i) }, (_, j) => row(i + j + 1)));
  await w.close();
  assert.equal(w.misfits, Math.floor(N / 97), '"n/a" in the int column is written as null, and counted');

  const db = await DuckDBInstance.create(':memory:');
  const sql = await db.connect();
  try {
    const types = (await sql.runAndReadAll(`select column_name, column_type from (describe select * from read_parquet('${f}'))`)).getRows();
    assert.deepEqual(types, [
      ['company', 'VARCHAR'],
      ['employees', 'BIGINT'],
      ['revenue', 'DOUBLE'],
      ['public', 'BOOLEAN'],
      ['founded', 'DATE'],
      ['tags', 'VARCHAR[]'],
      ['website', 'VARCHAR'],
      ['extra', 'VARCHAR'],
    ]);
    const got = (
      await sql.runAndReadAll(`select company, employees::varchar, revenue, public, founded::varchar, tags, website, extra from read_parquet('${f}')`)
    ).getRowsJson();
    const want = Array.from({ length: N }, (_, i) => {
      const r = row(i + 1);
      return [r[0], r[1] === null || r[1] === 'n/a' ? null : String(r[1]), r[2], r[3], r[4], r[5], r[6], r[7] === null ? null : JSON.stringify(r[7])];
    });
    assert.deepEqual(got, want, 'every value, in order (2^53+1 exact as BIGINT)');
  } finally {
    sql.closeSync();
  }

  const { rows, info } = await readAll(f);
  assert.equal(rows.length, N);
  assert.deepEqual(
    info.columns,
    COLUMNS.map((c) => c.name),
  );
  assert.deepEqual(rows[5].value, {
    company: 'Firma 6 ÄÖÜ "q"',
    employees: 6000,
    revenue: 0.75,
    public: true,
    founded: '2006-07-16',
    tags: null,
    website: 'https://c6.example',
    extra: null,
  });
  assert.deepEqual([rows[88].value, rows[96].line], [{ ...(rows[88].value as object), employees: '9007199254740993' }, 97], '2^53+1 comes back as exact text');
});

test('Parquet written by DuckDB (snappy, gzip, zstd, brotli; several row groups) reads row by row as DuckDB has it', async () => {
  const d = tmpDir();
  const db = await DuckDBInstance.create(':memory:');
  const sql = await db.connect();
  try {
    for (const codec of ['snappy', 'gzip', 'zstd', 'brotli', 'uncompressed']) {
      const f = path.join(d, `duck-${codec}.parquet`);
      await sql.run(
        `copy (select i as id, 'name ' || i as name, i / 4 as ratio, i % 2 = 0 as even, date '2020-01-01' + i::int as day, timestamp '2024-03-01 12:00:00' + to_seconds(i) as ts, [i, i + 1] as pair, {'a': i} as obj, (i * 1.5)::decimal(10,2) as price from range(1, 5001) t(i)) to '${f}' (format parquet, compression ${codec}, row_group_size 2048)`,
      );
      const { rows } = await readAll(f);
      assert.equal(rows.length, 5000, codec);
      assert.deepEqual(rows[0].value, {
        id: 1,
        name: 'name 1',
        ratio: 0.25,
        even: false,
        day: '2020-01-02',
        ts: '2024-03-01T12:00:01Z',
        pair: [1, 2],
        obj: { a: 1 },
        price: 1.5,
      });
      assert.deepEqual([rows[4999].index, rows[4999].line, (rows[4999].value as { id: number }).id], [4999, 5000, 5000]);
    }
  } finally {
    sql.closeSync();
  }
  const notParquet = path.join(d, 'x.parquet');
  (await import('node:fs')).writeFileSync(notParquet, 'a,b\n');
  assert.match(await errorOf(readAll(notParquet)), /x\.parquet: not a Parquet file/);
});

test('flat row groups are read a page at a time: many pages, dictionaries, nulls, every type, in order', async () => {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const N = 30000;
  const col = <T>(f: (i: number) => T) => Array.from({ length: N }, (_, i) => f(i));
  const buf = parquetWriteBuffer({
    rowGroupSize: [7000, 13000],
    pageSize: 2048,
    columnData: [
      { name: 'name', data: col((i) => (i % 9 === 0 ? null : `Firma ${i} Ä`)) },
      { name: 'country', data: col((i) => ['DE', 'FR', 'US'][i % 3]) },
      { name: 'n', data: col((i) => (i % 7 === 0 ? null : BigInt(i) * 1000n)) },
      { name: 'x', data: col((i) => i / 4) },
      { name: 'ok', data: col((i) => (i % 5 === 0 ? null : i % 2 === 0)) },
    ],
    schema: [
      { name: 'root', num_children: 5 },
      { name: 'name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'country', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'n', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'x', type: 'DOUBLE', repetition_type: 'REQUIRED' },
      { name: 'ok', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
    ] as never,
  });
  const f = path.join(tmpDir(), 'pages.parquet');
  (await import('node:fs')).writeFileSync(f, Buffer.from(buf));
  const { rows, batches } = await readAll(f);
  assert.ok(batches.every((b) => b <= 512));
  assert.deepEqual(
    rows.map((r) => r.value),
    Array.from({ length: N }, (_, i) => ({
      name: i % 9 === 0 ? null : `Firma ${i} Ä`,
      country: ['DE', 'FR', 'US'][i % 3],
      n: i % 7 === 0 ? null : i * 1000,
      x: i / 4,
      ok: i % 5 === 0 ? null : i % 2 === 0,
    })),
  );
  assert.deepEqual(
    rows.slice(6999, 7001).map((r) => [r.index, r.line]),
    [
      [6999, 7000],
      [7000, 7001],
    ],
  );
});
