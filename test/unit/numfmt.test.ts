// formats/numfmt.ts: numbers as Excel shows them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, excelDate, general, showNumber } from '../../src/io/formats/numfmt';

test('General shows at most 15 significant digits: no float noise', () => {
  assert.equal(general(0.1 + 0.2), '0.3');
  assert.equal(general(1234567.891), '1234567.891');
  assert.equal(general(123456789012345), '123456789012345');
  assert.equal(general(-17), '-17');
  assert.equal(general(1 / 3), '0.333333333333333');
});

test('a format shows its decimals, leading zeros and percent; not its separators or currency', () => {
  const show = (v: number, code: string) => showNumber(v, classify(code), false);
  assert.equal(show(0.1 + 0.2, '0.00'), '0.30');
  assert.equal(show(1.005, '0.00'), '1.01', 'rounded as Excel rounds, from 15 digits');
  assert.equal(show(-2.5, '0'), '-3');
  assert.equal(show(1067, '00000'), '01067');
  assert.equal(show(1234567.5, '#,##0.00 "€"'), '1234567.50');
  assert.equal(show(0.256, '0.0%'), '25.6%');
  assert.equal(show(42, '@'), '42');
  assert.equal(show(1234.5, '[$$-409]#,##0.00;[Red]-[$$-409]#,##0.00'), '1234.50');
  assert.equal(show(0.000123, '0.00E+00'), '0.000123', 'scientific shows as General');
});

test('dates as YYYY-MM-DD, date-times as ISO, times as HH:MM:SS, in both date systems', () => {
  assert.deepEqual(classify('dd/mm/yyyy;@'), { kind: 'date', date: true, time: false });
  assert.deepEqual(classify('[$-407]d. mmmm yyyy'), { kind: 'date', date: true, time: false });
  assert.deepEqual(classify('h:mm'), { kind: 'date', date: false, time: true });
  assert.deepEqual(classify('yyyy-mm-dd hh:mm:ss'), { kind: 'date', date: true, time: true });
  assert.equal(excelDate(45352, { date: true, time: false }, false), '2024-03-01');
  assert.equal(excelDate(45352.75, { date: true, time: true }, false), '2024-03-01T18:00:00');
  assert.equal(excelDate(0.5, { date: false, time: true }, false), '12:00:00');
  assert.equal(excelDate(1, { date: true, time: false }, false), '1900-01-01');
  assert.equal(excelDate(60, { date: true, time: false }, false), '1900-02-29', "Excel's phantom day");
  assert.equal(excelDate(61, { date: true, time: false }, false), '1900-03-01');
  assert.equal(excelDate(0, { date: true, time: false }, true), '1904-01-01');
  assert.equal(excelDate(43890.99999999, { date: true, time: true }, false), '2020-03-01T00:00:00', 'a time within half a second of midnight is the next day');
});
