// Regenerates the German spreadsheet fixtures (node scripts/fixtures-firmen.mjs):
//   fixtures/firmen.csv          Excel's "CSV (Trennzeichen-getrennt)": `;`, CRLF, UTF-8 BOM,
//                                quoted fields holding `;` and `""`, umlauts, postcodes with a
//                                leading zero, and `;;;` rows at the end (cells Excel once held)
//   fixtures/firmen-unicode.txt  Excel's "Unicode Text": UTF-16LE with a BOM, tab-separated
//   fixtures/firmen.xlsx         the same rows as Excel stores them: shared strings, a style
//                                per number format, the postcode as text, a date, a formula with
//                                its cached value, a boolean, a merged range, an empty row
// The rows: FIRMEN as tg reads the xlsx (numbers with a decimal point, ISO dates, TRUE/FALSE);
// the CSV and the Unicode Text hold what a German Excel writes for them (germanText: decimal
// comma, DD.MM.YYYY), FIRMEN_TEXT. The tests import both.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const HEADER = ['Firma', 'Straße', 'PLZ', 'Ort', 'Umsatz', 'Gegründet', 'Aktiv', 'Notiz'];
export const FIRMEN = [
  ['Müller & Söhne GmbH', 'Hauptstraße 1', '01067', 'Dresden', '0.3', '1998-04-01', 'TRUE', 'sagt "Grüß Gott"; kommt wieder'],
  ['Bäckerei Weiß', 'Königsallee 12a', '40212', 'Düsseldorf', '1234.5', '2001-12-24', 'FALSE', ''],
  ['Öko; Energie AG', 'Am Ölberg 3', '09111', 'Chemnitz', '-17', '2010-01-31', 'TRUE', 'zwei; Semikolons; hier'],
  ['Ärzte ohne Grenzen e.V.', 'Schwedenstraße 9', '13359', 'Berlin', '0.1', '1971-12-22', 'FALSE', '"zitiert"'],
];
/** A row as a German Excel writes it to text: 0,3 and 01.04.1998. */
const germanText = (f) => f.map((c, i) => (i === 4 ? c.replace('.', ',') : i === 5 ? c.split('-').reverse().join('.') : c));
export const FIRMEN_TEXT = FIRMEN.map(germanText);
export const EMPTY_TAIL = 3; // `;;;;;;;` rows at the end of the CSV

const q = (s) => (/[;"\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const csvLine = (cells, d) => cells.map((c) => (d === ';' ? q(c) : c)).join(d);

function csv() {
  const lines = [HEADER, ...FIRMEN_TEXT].map((r) => csvLine(r, ';'));
  for (let i = 0; i < EMPTY_TAIL; i++) lines.push(';'.repeat(HEADER.length - 1));
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n', 'utf8')]);
}

function unicodeText() {
  // Excel quotes a tab-separated cell only when it holds a quote, tab or line break.
  const cell = (s) => (/["\t\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const text = [HEADER, ...FIRMEN_TEXT].map((r) => r.map(cell).join('\t')).join('\r\n') + '\r\n';
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';

/** The sheet as Excel writes it: strings shared, numbers styled, Umsatz of row 2 a formula (=0.1+0.2), a merged range. */
function xlsx() {
  const strings = [];
  const sst = (s) => {
    let i = strings.indexOf(s);
    if (i < 0) i = strings.push(s) - 1;
    return i;
  };
  const col = (i) => String.fromCharCode(65 + i);
  let rows = `<row r="1">${HEADER.map((h, i) => `<c r="${col(i)}1" t="s"><v>${sst(h)}</v></c>`).join('')}</row>`;
  // Excel leaves a row it holds nothing for out: row 3 is empty, the data is on rows 2, 4, 5, 6.
  const at = [2, 4, 5, 6];
  FIRMEN.forEach((f, k) => {
    const r = at[k];
    const serial = (Date.UTC(...f[5].split('-').map((x, j) => Number(x) - (j === 1 ? 1 : 0))) - Date.UTC(1899, 11, 30)) / 86400000;
    const cells = [
      `<c r="A${r}" t="s"><v>${sst(f[0])}</v></c>`,
      `<c r="B${r}" t="s"><v>${sst(f[1])}</v></c>`,
      `<c r="C${r}" s="1" t="s"><v>${sst(f[2])}</v></c>`, // a postcode typed as text (@)
      `<c r="D${r}" t="inlineStr"><is><t>${esc(f[3])}</t></is></c>`,
      k === 0 ? `<c r="E${r}" s="3"><f>0.1+0.2</f><v>0.30000000000000004</v></c>` : `<c r="E${r}" s="3"><v>${f[4]}</v></c>`,
      `<c r="F${r}" s="2"><v>${serial}</v></c>`,
      `<c r="G${r}" t="b"><v>${f[6] === 'TRUE' ? 1 : 0}</v></c>`,
      f[7] ? `<c r="H${r}" t="s"><v>${sst(f[7])}</v></c>` : `<c r="H${r}" s="0"/>`,
    ];
    rows += `<row r="${r}" spans="1:8">${cells.join('')}</row>`;
  });
  rows += `<row r="9" spans="1:8"><c r="A9" s="0"/></row>`; // a formatted, empty row after the data
  const sheet = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<worksheet ${NS}><dimension ref="A1:H9"/><sheetData>${rows}</sheetData><mergeCells count="1"><mergeCell ref="H3:H3"/></mergeCells></worksheet>`;
  const sstXml = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${strings.length}" uniqueCount="${strings.length}">${strings
    .map((s) => `<si><t${/^\s|\s$/.test(s) ? ' xml:space="preserve"' : ''}>${esc(s)}</t></si>`)
    .join('')}</sst>`;
  const styles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy;@"/></numFmts><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs></styleSheet>`;
  const workbook = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<workbook ${NS}><workbookPr defaultThemeVersion="166925"/><sheets><sheet name="Firmen" sheetId="1" r:id="rId1"/><sheet name="Leer" sheetId="2" r:id="rId2"/></sheets></workbook>`;
  const rels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`;
  const rootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`;
  const types = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`;
  const empty = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<worksheet ${NS}><sheetData/></worksheet>`;
  const parts = [
    ['[Content_Types].xml', types],
    ['_rels/.rels', rootRels],
    ['xl/workbook.xml', workbook],
    ['xl/_rels/workbook.xml.rels', rels],
    ['xl/worksheets/sheet1.xml', sheet],
    ['xl/worksheets/sheet2.xml', empty],
    ['xl/styles.xml', styles],
    ['xl/sharedStrings.xml', sstXml],
  ];
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    const mtime = new Date(Date.UTC(2026, 0, 1)); // fixed, so the bytes are reproducible
    for (const [name, text] of parts) zip.addBuffer(Buffer.from(text), name, { mtime });
    zip.end();
    const chunks = [];
    zip.outputStream.on('data', (c) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(path.join(root, 'fixtures/firmen.csv'), csv());
  writeFileSync(path.join(root, 'fixtures/firmen-unicode.txt'), unicodeText());
  writeFileSync(path.join(root, 'fixtures/firmen.xlsx'), await xlsx());
  console.log('wrote fixtures/firmen.csv, fixtures/firmen-unicode.txt, fixtures/firmen.xlsx');
}
