// formats/delimiter.ts: the delimiter of delimited text, given or detected from the header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectDelimiter, fieldCounts, parseDelimiter } from '../../src/io/formats/delimiter';

test('fieldCounts splits on the delimiter outside quotes, across quoted line breaks', () => {
  assert.deepEqual(fieldCounts('a;b;c\n"x;y";2;3\n"l1\nl2";"""";\n', ';', false), [3, 3, 3]);
  assert.deepEqual(fieldCounts('a,b\n1,2\n3', ',', false), [2, 2], 'an incomplete last line does not count');
  assert.deepEqual(fieldCounts('a,b\n1,2\n3', ',', true), [2, 2, 1]);
  assert.deepEqual(fieldCounts('a\tb\r\n1\t2\r\n', '\t', true), [2, 2]);
});

test('the one candidate that splits the header is taken; a tie is settled by the lines below', () => {
  assert.deepEqual(detectDelimiter('f', 'name;city\nA, Inc.;Paris\n', true, ','), { delimiter: ';', detected: true });
  assert.deepEqual(detectDelimiter('f', 'name\tcity\nA;B\tParis\n', true, ','), { delimiter: '\t', detected: true });
  assert.deepEqual(detectDelimiter('f', 'a|b|c\n1|2|3\n', true, ','), { delimiter: '|', detected: true });
  assert.deepEqual(detectDelimiter('f', '\ufeffa,b\n1,2\n', true, ','), { delimiter: ',', detected: true });
  // "a,b;c" splits on both; only ; gives every line the header's count
  assert.deepEqual(detectDelimiter('f', 'a,b;c\n1;2\nx,y;z\n', true, ','), { delimiter: ';', detected: true });
  // no candidate in the header: one column, read with the fallback
  assert.deepEqual(detectDelimiter('f', 'name\nA;B\n', true, ','), { delimiter: ',', detected: false });
});

test('a header tg cannot split with confidence is an error that says what to pass', () => {
  assert.throws(
    () => detectDelimiter('f.csv', '"name;city"\n"A;B"\n', true, ','),
    (e: Error & { hint?: string }) =>
      /^f\.csv:1: cannot tell how the columns are separated: the header is one column that holds a semicolon$/.test(e.message) &&
      /--delimiter ';'.*--delimiter ','/.test(e.hint ?? ''),
  );
  assert.throws(
    () => detectDelimiter('f.csv', 'a,b;c\n1,2;3\n4;5,6\n', true, ','),
    (e: Error & { hint?: string; exitCode?: number }) =>
      /the header splits on commas \(2 columns\) and semicolons \(2 columns\)/.test(e.message) &&
      e.hint === "Pass --delimiter ',' or --delimiter ';'." &&
      e.exitCode === 2,
  );
});

test('--delimiter takes , ; | and tab', () => {
  assert.equal(parseDelimiter('tab'), '\t');
  assert.equal(parseDelimiter('\t'), '\t');
  assert.equal(parseDelimiter(';'), ';');
  assert.throws(() => parseDelimiter('::'), /not a delimiter tg reads/);
});
