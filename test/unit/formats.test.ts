// formats/index.ts: the registry — formats by extension and by content, the German Excel
// fixtures read as their user sees them, and each table writer's output read back exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { FORMATS, formatNames, formatOf, openRows, readNotes, sniff, sniffFile, headOf, where } from '../../src/io/formats/index';
import { errorOf, fixture, readAll, tmpDir } from './formats-util';

const HEADER = ['Firma', 'Straße', 'PLZ', 'Ort', 'Umsatz', 'Gegründet', 'Aktiv', 'Notiz'];
// As a German Excel writes them to text (decimal comma, DD.MM.YYYY) …
const AS_TEXT = [
  ['Müller & Söhne GmbH', 'Hauptstraße 1', '01067', 'Dresden', '0,3', '01.04.1998', 'TRUE', 'sagt "Grüß Gott"; kommt wieder'],
  ['Bäckerei Weiß', 'Königsallee 12a', '40212', 'Düsseldorf', '1234,5', '24.12.2001', 'FALSE', ''],
  ['Öko; Energie AG', 'Am Ölberg 3', '09111', 'Chemnitz', '-17', '31.01.2010', 'TRUE', 'zwei; Semikolons; hier'],
  ['Ärzte ohne Grenzen e.V.', 'Schwedenstraße 9', '13359', 'Berlin', '0,1', '22.12.1971', 'FALSE', '"zitiert"'],
];
// … and as tg reads the workbook's typed cells (0.1+0.2 shown as Excel shows it, ISO dates).
const AS_XLSX = AS_TEXT.map((r) => r.map((c, i) => (i === 4 ? c.replace(',', '.') : i === 5 ? c.split('.').reverse().join('-') : c)));
const objects = (rows: string[][]) => rows.map((r) => Object.fromEntries(HEADER.map((h, i) => [h, r[i]])));

test('--format choices and extensions come from the registry', () => {
  assert.deepEqual(formatNames(), ['xlsx', 'parquet', 'json', 'jsonl', 'csv', 'tsv']);
  const by = (f: string) => formatOf(f).name;
  assert.deepEqual(['a.csv', 'A.CSV.GZ', 'a.tsv', 'a.tab', 'a.tsv.gz', 'a.jsonl', 'a.ndjson', 'a.json', 'a.xlsx', 'a.parquet'].map(by), [
    'csv',
    'csv',
    'tsv',
    'tsv',
    'tsv',
    'jsonl',
    'jsonl',
    'json',
    'xlsx',
    'parquet',
  ]);
  assert.throws(() => formatOf('a.xlsx.gz'), /cannot tell the format from the extension/);
  assert.throws(() => formatOf('old.xls'), /old\.xls: tg reads Excel workbooks as \.xlsx/);
  assert.throws(() => formatOf('-'), /reading stdin needs --format xlsx\|parquet\|json\|jsonl\|csv\|tsv/);
  assert.throws(() => formatOf('a.csv', 'xls'), /--format xls: not a format tg reads/);
  for (const f of FORMATS) assert.ok(f.open, `${f.name} has a table writer`);
});

test('the German Excel CSV: ; detected, BOM and CRLF, quoted ; and "", leading zeros kept, ;;; rows skipped and counted', async () => {
  const { rows, info } = await readAll(fixture('firmen.csv'));
  assert.deepEqual(
    rows.map((r) => r.value),
    objects(AS_TEXT),
  );
  assert.deepEqual(
    rows.map((r) => r.line),
    [2, 3, 4, 5],
  );
  assert.deepEqual([info.delimiter, info.delimiterDetected, info.encoding, info.emptyRows], [';', true, 'utf-8', 3]);
  assert.deepEqual(readNotes(info), [
    `${fixture('firmen.csv')}: read as ;-separated (detected from the header; --delimiter chooses)`,
    `${fixture('firmen.csv')}: 3 empty rows skipped`,
  ]);
});

test("Excel's Unicode Text (UTF-16LE, BOM, tabs) reads as TSV, named .txt: by --format or by its content", async () => {
  const { rows, info } = await readAll(fixture('firmen-unicode.txt'), { format: 'tsv' });
  assert.deepEqual(
    rows.map((r) => r.value),
    objects(AS_TEXT),
  );
  assert.deepEqual([info.encoding, info.encodingFrom, info.delimiter], ['utf-16le', 'bom', '\t']);
  assert.deepEqual(readNotes(info), [`${fixture('firmen-unicode.txt')}: read as UTF-16LE (from its byte-order mark)`]);
  const s = await sniffFile(fixture('firmen-unicode.txt'));
  assert.equal(s?.format.name, 'tsv');
  assert.equal(s?.says, 'looks like tab-separated text (TSV)');
});

test('the workbook: shared strings, text postcodes, a formula’s cached 0.1+0.2 as 0.3, dates, booleans, empty rows', async () => {
  const { rows, info } = await readAll(fixture('firmen.xlsx'));
  assert.deepEqual(
    rows.map((r) => r.value),
    objects(AS_XLSX),
  );
  assert.deepEqual(
    rows.map((r) => [r.index, r.line]),
    [
      [0, 2],
      [2, 4],
      [3, 5],
      [4, 6],
    ],
    'rows keep their sheet row numbers',
  );
  // Rows 3, 7 and 8 (left out of the file) and 9 (formatted, empty): the used range's empty rows,
  // the ;;; rows Excel's own CSV export of this sheet would write.
  assert.deepEqual([info.sheet, info.emptyRows], ['Firmen', 4]);
  assert.match(await errorOf(readAll(fixture('firmen.xlsx'), { sheet: 'Leer' })), /firmen\.xlsx:Leer!A1: the sheet is empty/);
  assert.match(await errorOf(readAll(fixture('firmen.xlsx'), { sheet: '3' })), /--sheet 3: .* has no such sheet/);
  assert.equal((await readAll(fixture('firmen.xlsx'), { sheet: '1' })).rows.length, 4);
});

test('sniffing: JSONL, a JSON array, delimited text with its delimiter, xlsx, Parquet, gzip, or cannot tell', async () => {
  const says = (text: string) => sniff(headOf(Buffer.from(text), true))?.says ?? null;
  assert.equal(says('{"a":1}\n{"a":2}\n'), 'looks like JSONL');
  assert.equal(says('"just a string"\n'), 'looks like JSONL');
  assert.equal(says('  [{"a":1}]'), 'looks like a JSON array');
  assert.equal(says('a;b;c\n1;2;3\n'), 'looks like CSV (;-separated)');
  assert.equal(says('a,b\n1,2\n'), 'looks like CSV (,-separated)');
  assert.equal(says('a|b\n1|2\n'), 'looks like CSV (|-separated)');
  assert.equal(says('a\tb\n1\t2\n'), 'looks like tab-separated text (TSV)');
  assert.equal(says('just some words\nand more\n'), null);
  assert.equal(says('{"a":1}\nnot json\n'), null);
  assert.equal(sniff(headOf(zlib.gzipSync('{"a":1}\n'), true))?.says, 'looks like JSONL');
  assert.equal((await sniffFile(fixture('firmen.xlsx')))?.says, 'looks like an Excel workbook');
  assert.equal((await sniffFile(fixture('firmen.csv')))?.says, 'looks like CSV (;-separated)');
});

const COLUMNS = [{ name: 'company' }, { name: 'answer', guard: true }, { name: 'n', type: 'int' as const, guard: true }];
const CELLS = [
  ['=HYPERLINK("x")', '=1+1', 5],
  ['+49 30 1234', '@handle', null],
  ['-minus', '-5', -5],
  ['a;b,"c"\nd', ' padded ', 0],
];

test('CSV writer: the formula guard on the columns tg writes only; BOM and ; for Excel; csv-parse reads it back', async () => {
  const d = tmpDir();
  const f = path.join(d, 'out.csv');
  const w = await FORMATS.find((x) => x.name === 'csv')!.open!(f, COLUMNS, { bom: true, delimiter: ';' });
  await w.write(CELLS);
  await w.close();
  const bytes = fs.readFileSync(f);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const back = parse(bytes, { bom: true, delimiter: ';' }) as string[][];
  assert.deepEqual(back, [
    ['company', 'answer', 'n'],
    ['=HYPERLINK("x")', "'=1+1", '5'],
    ['+49 30 1234', "'@handle", ''],
    ['-minus', '-5', '-5'],
    ['a;b,"c"\nd', ' padded ', '0'],
  ]);
  // tg reads its own output back the same way
  const { rows } = await readAll(f);
  assert.equal((rows[3].value as Record<string, string>).company, 'a;b,"c"\nd');
});

test('JSONL and JSON writers: every cell back exactly, in order, typed', async () => {
  const d = tmpDir();
  for (const name of ['jsonl', 'json']) {
    const f = path.join(d, `out.${name}`);
    const w = await FORMATS.find((x) => x.name === name)!.open!(f, COLUMNS);
    await w.write(CELLS.slice(0, 2));
    await w.write(CELLS.slice(2));
    await w.close();
    const { rows } = await readAll(f);
    assert.deepEqual(
      rows.map((r) => r.value),
      CELLS.map(([company, answer, n]) => ({ company, answer, n })),
      name,
    );
  }
  const empty = path.join(d, 'empty.json');
  const w = await FORMATS.find((x) => x.name === 'json')!.open!(empty, COLUMNS);
  await w.close();
  assert.deepEqual(JSON.parse(fs.readFileSync(empty, 'utf8')), []);
});

test('openRows reads nothing until asked, and names the file as shown', async () => {
  const src = openRows('/nonexistent/x.csv', { shown: 'x.csv' });
  assert.equal(src.format.name, 'csv');
  assert.match(await errorOf(src.batches.next()), /^x\.csv: cannot read \(no such file\)/);
});

test('where(): a line, a cell as Excel names it, or a row', async () => {
  const { info: csvInfo } = await readAll(fixture('firmen.csv'), { shown: 'firmen.csv' });
  assert.equal(where(csvInfo, 5, 'Ort'), 'firmen.csv:5');
  const { info: x } = await readAll(fixture('firmen.xlsx'), { shown: 'firmen.xlsx' });
  assert.equal(where(x, 5, 'Ort'), 'firmen.xlsx:Firmen!D5');
  assert.equal(where(x, 5), 'firmen.xlsx:Firmen row 5');
  assert.equal(where({ ...x, sheet: 'Q 1' }, 5, 'Firma'), "firmen.xlsx:'Q 1'!A5");
  assert.equal(where({ file: 'f.parquet', format: 'parquet', emptyRows: 0 }, 7, 'x'), 'f.parquet row 7');
});

test('a writer can write to a stream it does not own: flushed on close, never ended', async () => {
  const { PassThrough } = await import('node:stream');
  const out = new PassThrough();
  const got: Buffer[] = [];
  out.on('data', (c: Buffer) => got.push(c));
  const w = await FORMATS.find((x) => x.name === 'tsv')!.open!(out, [{ name: 'a' }, { name: 'b' }]);
  await w.write([['x\ty', 1]]);
  await w.close();
  assert.equal(Buffer.concat(got).toString(), 'a\tb\n"x\ty"\t1\n');
  assert.equal(out.writableEnded, false);
});
