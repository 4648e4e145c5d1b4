// formats/delimited.ts and csvparse.ts: delimited text with any delimiter, both paths, empty rows
// skipped and counted, rows too large refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delimitedBatches } from '../../src/io/formats/delimited';
import { newReadInfo, type Row } from '../../src/io/formats/types';
import { chunksOf, errorOf } from './formats-util';

async function read(text: string, o: Parameters<typeof delimitedBatches>[2] = {}, cuts: number[] = []) {
  const rows: Row[] = [];
  for await (const b of delimitedBatches('f.csv', chunksOf(text, cuts), o)) rows.push(...b);
  return rows;
}

test('quoted fields hold the delimiter and "" with every delimiter, on both paths', async () => {
  for (const d of [',', ';', '\t', '|']) {
    const text = `a${d}b\r\n"x${d}y"${d}"say ""hi"""\r\n1${d}2\r\n`;
    for (const fast of [true, false]) {
      const rows = await read(text, { delimiter: d, fast });
      assert.deepEqual(
        rows.map((r) => [r.line, r.value]),
        [
          [2, { a: `x${d}y`, b: 'say "hi"' }],
          [3, { a: '1', b: '2' }],
        ],
        JSON.stringify({ d, fast }),
      );
    }
  }
});

test('the delimiter is detected from the header and reported', async () => {
  const info = newReadInfo('f.csv', 'csv');
  const rows = await read('name;city\nA, Inc.;Paris\n', { info }, [3]);
  assert.deepEqual(rows[0].value, { name: 'A, Inc.', city: 'Paris' });
  assert.equal(info.delimiter, ';');
  assert.equal(info.delimiterDetected, true);
  assert.match(await errorOf(read('"name;city"\n"A;B"\n')), /^f\.csv:1: cannot tell how the columns are separated/);
});

test('rows whose every cell is empty are skipped and counted; the rows after keep their numbers', async () => {
  for (const fast of [true, false]) {
    const info = newReadInfo('f.csv', 'csv');
    const rows = await read('a;b;c\r\n1;2;3\r\n;;\r\n\r\n4;5;6\r\n;;\r\n;;\r\n', { delimiter: ';', skipEmpty: true, info, fast });
    assert.deepEqual(
      rows.map((r) => [r.index, r.line, (r.value as Record<string, string>).a]),
      [
        [0, 2, '1'],
        [2, 5, '4'],
      ],
    );
    assert.equal(info.emptyRows, 4, 'three ;; rows and one blank line');
  }
  // without skipEmpty (the legacy io/rows readers) an all-empty row is a row
  const kept = await read('a,b\n1,2\n,\n', { delimiter: ',' });
  assert.deepEqual(kept[1].value, { a: '', b: '' });
});

test('a row over the bound is refused naming its line, on both paths, before it is held', async () => {
  const big = 'x'.repeat(5000);
  for (const [text, line] of [
    [`a,b\n1,2\n3,${big}\n`, 3],
    [`a,b\n1,2\n"3",${big}\n`, 3],
    [`a,b\n1,2\n3,"${big}`, 3],
  ] as const) {
    for (const fast of [true, false])
      assert.match(
        await errorOf(read(text, { delimiter: ',', maxRowBytes: 1024, fast }, [7, 1000, 3000])),
        new RegExp(`^f\\.csv:${line}: a row larger than 1 KiB`),
      );
  }
});

test('errors speak of the delimiter in use', async () => {
  const m = await errorOf(read('a;b\n1;2\n3\n', { delimiter: ';' }));
  assert.equal(m, 'f.csv:3: the row has 1 field; the header has 2');
  const q = await errorOf(read('a;b\n"1"x;2\n', { delimiter: ';' }));
  assert.match(q, /followed by something other than a semicolon/);
});
