// formats/xlsx*.ts: workbooks as Excel and other tools store them, read as the text Excel shows;
// the streaming writer's output read back by SheetJS (an independent reader) and by tg.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as XLSX from 'xlsx';
import yazl from 'yazl';
import { openXlsx, xmlText } from '../../src/io/formats/xlsxwrite';
import { columnLetters } from '../../src/io/formats/xlsxread';
import { errorOf, readAll, tmpDir } from './formats-util';

const NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';

/** A minimal workbook of one sheet named `name` with `sheetData`, optional shared strings, styles and workbook attributes. */
async function makeXlsx(
  file: string,
  sheetData: string,
  o: { sst?: string; styles?: string; wbPr?: string; name?: string; prefix?: boolean } = {},
): Promise<void> {
  const p = o.prefix ? 'x:' : '';
  const sheet = o.prefix
    ? `<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>${sheetData}</x:sheetData></x:worksheet>`
    : `<worksheet ${NS}><sheetData>${sheetData}</sheetData></worksheet>`;
  const rel = (id: string, type: string, target: string) =>
    `<Relationship Id="${id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/${type}" Target="${target}"/>`;
  const parts: [string, string][] = [
    ['[Content_Types].xml', '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'],
    [
      '_rels/.rels',
      `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rel('rId1', 'officeDocument', 'xl/workbook.xml')}</Relationships>`,
    ],
    ['xl/workbook.xml', `<workbook ${NS}>${o.wbPr ?? ''}<sheets><sheet name="${o.name ?? 'Sheet1'}" sheetId="1" r:id="rId1"/></sheets></workbook>`],
    [
      'xl/_rels/workbook.xml.rels',
      `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rel('rId1', 'worksheet', '/xl/worksheets/sheet1.xml')}${o.sst ? rel('rId2', 'sharedStrings', 'sharedStrings.xml') : ''}${o.styles ? rel('rId3', 'styles', 'styles.xml') : ''}</Relationships>`,
    ],
    ['xl/worksheets/sheet1.xml', sheet.replace(/<(\/?)(row|c|v|is|t|f)\b/g, `<$1${p}$2`)],
  ];
  if (o.sst) parts.push(['xl/sharedStrings.xml', `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${o.sst}</sst>`]);
  if (o.styles) parts.push(['xl/styles.xml', `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${o.styles}</styleSheet>`]);
  const zip = new yazl.ZipFile();
  for (const [name, text] of parts) zip.addBuffer(Buffer.from(text), name);
  zip.end();
  await new Promise<void>((resolve, reject) => zip.outputStream.pipe(fs.createWriteStream(file)).on('close', resolve).on('error', reject));
}

test('cells as Excel shows them: shared and rich strings, inline strings, formulas, errors, booleans, 1904 dates, escapes', async () => {
  const f = path.join(tmpDir(), 'kinds.xlsx');
  const sst =
    '<si><t>name</t></si><si><t>value</t></si><si><r><t>Rich </t></r><r><rPr><b/></rPr><t>text</t></r><rPh><t>ふりがな</t></rPh></si><si><t>line_x000D_break</t></si>';
  const styles =
    '<numFmts><numFmt numFmtId="170" formatCode="0.000"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="170"/><xf numFmtId="10"/></cellXfs>';
  const rows = [
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>',
    '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row>',
    '<row r="3"><c r="A3" t="inlineStr"><is><t xml:space="preserve"> inline &amp; &lt;kept&gt; </t></is></c><c r="B3"><f>1/3</f><v>0.33333333333333331</v></c></row>',
    '<row r="4"><c r="A4" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="B4" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>',
    '<row r="5"><c r="A5" t="b"><v>1</v></c><c r="B5" s="1"><v>0</v></c></row>',
    '<row r="6"><c r="A6" s="2"><v>3.14159</v></c><c r="B6" s="3"><v>0.125</v></c></row>',
    '<row r="7"><c r="A7" t="d"><v>2024-03-01T00:00:00Z</v></c><c r="B7" t="n"><v>1E-3</v></c></row>',
  ];
  await makeXlsx(f, rows.join(''), { sst, styles, wbPr: '<workbookPr date1904="1"/>' });
  const { rows: got } = await readAll(f);
  assert.deepEqual(
    got.map((r) => r.value),
    [
      { name: 'Rich text', value: 'line\rbreak' },
      { name: ' inline & <kept> ', value: '0.333333333333333' },
      { name: 'ab', value: '#DIV/0!' },
      { name: 'TRUE', value: '1904-01-01' },
      { name: '3.142', value: '12.50%' },
      { name: '2024-03-01', value: '0.001' },
    ],
  );
});

test('sheets other tools write: tag prefixes, cells and rows without references, a gap', async () => {
  const f = path.join(tmpDir(), 'prefixed.xlsx');
  const rows =
    '<row><c t="inlineStr"><is><t>a</t></is></c><c t="inlineStr"><is><t>b</t></is></c></row><row><c><v>1</v></c><c><v>2</v></c></row><row r="5"><c r="B5"><v>3</v></c></row>';
  await makeXlsx(f, rows, { prefix: true });
  const { rows: got, info } = await readAll(f);
  assert.deepEqual(
    got.map((r) => [r.line, r.value]),
    [
      [2, { a: '1', b: '2' }],
      [5, { a: '', b: '3' }],
    ],
  );
  assert.equal(info.emptyRows, 2);
});

test('errors name the cell as Excel does: file:Sheet!C5', async () => {
  const d = tmpDir();
  const cases: [string, string, RegExp][] = [
    [
      '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="C1" t="inlineStr"><is><t>c</t></is></c></row>',
      'My Sheet',
      /:'My Sheet'!B1: column B of the header row has no name$/,
    ],
    [
      '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="4"><c r="A4"><v>1</v></c><c r="D4"><v>2</v></c></row>',
      'S',
      /:S!D4: the row has a value in column D, which has no header$/,
    ],
    [
      '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="2"><c r="A2" t="s"><v>7</v></c></row>',
      'S',
      /:S!A2: the cell refers to shared string 7, which the workbook does not have$/,
    ],
  ];
  for (const [rows, name, re] of cases) {
    const f = path.join(d, 'bad.xlsx');
    await makeXlsx(f, rows, { name, sst: '<si><t>x</t></si>' });
    assert.match(await errorOf(readAll(f)), re);
  }
  const notZip = path.join(d, 'fake.xlsx');
  fs.writeFileSync(notZip, 'name,city\n');
  assert.match(await errorOf(readAll(notZip)), /fake\.xlsx: not an Excel workbook \(\.xlsx\)/);
});

test('the writer: typed cells, never a formula, a header row; SheetJS and tg read every cell back', async () => {
  const f = path.join(tmpDir(), 'out.xlsx');
  const columns = [
    { name: 'company' },
    { name: 'employees', type: 'int' as const },
    { name: 'revenue', type: 'number' as const },
    { name: 'public', type: 'bool' as const },
    { name: 'founded', type: 'date' as const },
    { name: 'tags', type: 'list' as const },
    { name: 'note' },
  ];
  const rows = [
    ['=SUM(A1:A9)', 120, 0.1 + 0.2, true, '1998-04-01', ['a', 'b'], 'ctrl\u0001char _x0041_ <&>'],
    ['01067', '45', '12.5', false, 'not a date', [], ' spaced '],
    ['x'.repeat(40000), null, -1e-7, null, '2024-02-29', null, ''],
  ];
  const w = await openXlsx(f, columns, { sheet: 'Ergebnisse' });
  await w.write(rows);
  await w.close();
  assert.equal(w.cutCells, 1, 'a text over 32,767 characters is cut and counted');

  const wb = XLSX.readFile(f, { cellFormula: true, cellNF: true });
  assert.deepEqual(wb.SheetNames, ['Ergebnisse']);
  const ws = wb.Sheets.Ergebnisse;
  const cell = (ref: string) => ws[ref] as XLSX.CellObject | undefined;
  assert.deepEqual(
    columns.map((_, i) => cell(`${columnLetters(i)}1`)?.v),
    columns.map((c) => c.name),
  );
  assert.deepEqual([cell('A2')?.t, cell('A2')?.v, cell('A2')?.f], ['s', '=SUM(A1:A9)', undefined], 'text, not a formula');
  assert.deepEqual([cell('B2')?.t, cell('B2')?.v], ['n', 120]);
  assert.deepEqual([cell('C2')?.t, cell('C2')?.v], ['n', 0.1 + 0.2]);
  assert.deepEqual([cell('D2')?.t, cell('D2')?.v], ['b', true]);
  assert.deepEqual([cell('E2')?.t, cell('E2')?.v, cell('E2')?.z], ['n', 35886, 'yyyy\\-mm\\-dd'], '1998-04-01 as a date serial with a date format');
  assert.deepEqual([cell('F2')?.v, cell('G2')?.v], ['["a","b"]', 'ctrl\u0001char _x0041_ <&>']);
  assert.deepEqual(
    [cell('A3')?.v, cell('B3')?.v, cell('C3')?.v, cell('D3')?.v, cell('E3')?.v, cell('G3')?.v],
    ['01067', 45, 12.5, false, 'not a date', ' spaced '],
  );
  assert.deepEqual([(cell('A4')?.v as string).length, cell('B4'), cell('C4')?.v, cell('E4')?.t], [32767, undefined, -1e-7, 'n']);

  const { rows: back } = await readAll(f);
  assert.deepEqual(back[0].value, {
    company: '=SUM(A1:A9)',
    employees: '120',
    revenue: '0.3',
    public: 'TRUE',
    founded: '1998-04-01',
    tags: '["a","b"]',
    note: 'ctrl\u0001char _x0041_ <&>',
  });
  assert.deepEqual(back[1].value, { company: '01067', employees: '45', revenue: '12.5', public: 'FALSE', founded: 'not a date', tags: '[]', note: ' spaced ' });
  assert.equal((back[2].value as Record<string, string>).founded, '2024-02-29');
});

test('xmlText escapes what XML cannot hold and leaves plain text alone', () => {
  assert.deepEqual(xmlText('plain'), { xml: 'plain', cut: false });
  assert.equal(xmlText('a\u0000b\u001fc').xml, 'a_x0000_b_x001F_c');
  assert.equal(xmlText('_x0041_').xml, '_x005F_x0041_');
  assert.equal(xmlText('\ud800 lone').xml, '\ufffd lone');
});
