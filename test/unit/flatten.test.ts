// core/flatten.ts: CSV cells as tg writes them — quoted for the delimiter in use, and the formula
// guard on the columns tg writes (answers, errors) only, never on the user's own input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, csvRow, neutralise } from '../../src/core/flatten';

test('csvRow guards only the columns marked, and quotes for its delimiter', () => {
  const values = ['=A1', '=A1', '-5', '@x', 'a;b', 'a,b', null, { k: 1 }];
  const guard = [false, true, true, true, false, false, true, true];
  assert.equal(csvRow(values, guard, ';'), `=A1;'=A1;-5;'@x;"a;b";a,b;;"{""k"":1}"`);
  assert.equal(csvRow(['a,b', 'a;b'], [], ','), '"a,b",a;b');
  assert.equal(csvRow(['tab\there', 'x'], [], '\t'), '"tab\there"\tx');
});

test('csvField: numbers, booleans, dates and JSON as text; leading or trailing space quoted', () => {
  assert.deepEqual(
    [csvField(1.5), csvField(true), csvField(new Date(Date.UTC(2024, 2, 1))), csvField([1, 'a']), csvField(' x'), csvField(undefined)],
    ['1.5', 'true', '2024-03-01T00:00:00.000Z', '"[1,""a""]"', '" x"', ''],
  );
  assert.equal(neutralise('+1.5e3'), '+1.5e3');
  assert.equal(neutralise('\t=cmd'), "'\t=cmd");
});
