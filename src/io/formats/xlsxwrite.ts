// A streaming xlsx writer: the sheet's XML is generated row by row into a zip entry (yazl,
// deflated as it goes), so memory stays flat however many rows. Cells are typed by their column
// (numbers, dates, booleans, text); every text is an inline string, never a formula, so a cell
// starting with `=` is text. A header row first, frozen.
import { PassThrough } from 'node:stream';
import { openSink } from './sink';
import { columnLetters } from './xlsxread';
import type { TableColumn, TableWriter, WriteOptions } from './types';

/** Deflate level of the sheet: 1 writes ~2× faster than the default 6, for a file ~25% larger. */
const LEVEL = 1;

/** The most characters an Excel cell holds; longer text is cut there (and counted). */
export const EXCEL_CELL_MAX = 32767;

const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`;
const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`;
const WORKBOOK_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`;
// Style 0: General; 1: a date (yyyy-mm-dd); 2: a date-time; 3: bold (the header).
const STYLES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/><numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`;

const xmlAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

function workbook(sheet: string): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="${xmlAttr(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>`;
}

/**
 * Text as an inline string's XML: escaped, characters XML cannot hold written as Excel writes
 * them (`_x0001_`), a literal `_x0041_` protected (`_x005F_x0041_`), cut at 32,767 characters.
 */
export function xmlText(s: string): { xml: string; cut: boolean } {
  const cut = s.length > EXCEL_CELL_MAX;
  let t = cut ? s.slice(0, EXCEL_CELL_MAX) : s;
  // eslint-disable-next-line no-control-regex
  if (!/[&<>_\x00-\x1f\ud800-\udfff\ufffe\uffff]/.test(t)) return { xml: t, cut };
  if (t.includes('_x')) t = t.replace(/_(x[0-9A-Fa-f]{4}_)/g, '_x005F_$1');
  t = t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // eslint-disable-next-line no-control-regex
  t = t.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, (c) => `_x${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}_`);
  if (/[\ud800-\udfff]/.test(t)) t = t.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return { xml: t, cut };
}

const DAY_MS = 86400000;
const EPOCH_1900 = Date.UTC(1899, 11, 30);

/** `YYYY-MM-DD` (optionally with a time) as an Excel serial and its style, or null. */
export function dateSerial(s: string): { serial: number; style: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(s);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  const d = new Date(ms);
  if (d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCFullYear() < 1900 || m[7]) return null; // an offset: keep the text as given
  const serial = (ms - EPOCH_1900) / DAY_MS;
  if (serial < 61) return null; // Excel's 1900 leap-year bug: leave the first two months of 1900 as text
  return { serial, style: m[4] === undefined ? 1 : 2 };
}

/** One cell's XML (empty for no value); `cut` counts texts cut at Excel's limit. */
function cellXml(ref: string, v: unknown, col: TableColumn, cut: { n: number }): string {
  if (v === null || v === undefined || v === '') return '';
  const type = col.type ?? 'text';
  if (typeof v === 'number') return Number.isFinite(v) ? `<c r="${ref}"><v>${v}</v></c>` : textCell(ref, String(v), cut);
  if (typeof v === 'bigint') return `<c r="${ref}"><v>${v}</v></c>`;
  if (typeof v === 'boolean') return `<c r="${ref}" t="b"><v>${v ? 1 : 0}</v></c>`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : `<c r="${ref}" s="2"><v>${(v.getTime() - EPOCH_1900) / DAY_MS}</v></c>`;
  if (typeof v === 'string') {
    if (type === 'date') {
      const d = dateSerial(v);
      if (d) return `<c r="${ref}" s="${d.style}"><v>${d.serial}</v></c>`;
    }
    if ((type === 'int' || type === 'number') && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v) && Number.isFinite(Number(v)))
      return `<c r="${ref}"><v>${Number(v)}</v></c>`;
    return textCell(ref, v, cut);
  }
  return textCell(ref, JSON.stringify(v), cut);
}

function textCell(ref: string, s: string, cut: { n: number }): string {
  const x = xmlText(s);
  if (x.cut) cut.n++;
  const space = /^\s|\s$/.test(s) ? ' xml:space="preserve"' : '';
  return `<c r="${ref}" t="inlineStr"><is><t${space}>${x.xml}</t></is></c>`;
}

export interface XlsxWriter extends TableWriter {
  /** Texts cut at Excel's 32,767 characters. */
  readonly cutCells: number;
}

export async function openXlsx(target: string | NodeJS.WritableStream, columns: readonly TableColumn[], opts: WriteOptions = {}): Promise<XlsxWriter> {
  const yazl = await import('yazl');
  const zip = new yazl.ZipFile();
  const sheetXml = new PassThrough({ highWaterMark: 1 << 20 });
  const letters = columns.map((_, i) => columnLetters(i));
  zip.addBuffer(Buffer.from(CONTENT_TYPES), '[Content_Types].xml');
  zip.addBuffer(Buffer.from(ROOT_RELS), '_rels/.rels');
  zip.addBuffer(Buffer.from(workbook(opts.sheet ?? 'Sheet1')), 'xl/workbook.xml');
  zip.addBuffer(Buffer.from(WORKBOOK_RELS), 'xl/_rels/workbook.xml.rels');
  zip.addBuffer(Buffer.from(STYLES), 'xl/styles.xml');
  zip.addReadStream(sheetXml, 'xl/worksheets/sheet1.xml', { compressionLevel: LEVEL });
  zip.end();
  const sink = await openSink(target);
  const pumped = (async () => {
    for await (const b of zip.outputStream as AsyncIterable<Buffer>) await sink.write(b);
  })();
  pumped.catch(() => undefined); // awaited in close()
  const cut = { n: 0 };
  let r = 1;
  const put = async (s: string) => {
    if (!sheetXml.write(s)) await new Promise<void>((res) => sheetXml.once('drain', res));
  };
  const header = columns.map((c, i) => `<c r="${letters[i]}1" t="inlineStr" s="3"><is><t>${xmlText(c.name).xml}</t></is></c>`).join('');
  await put(
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData><row r="1">${header}</row>`,
  );
  return {
    get cutCells() {
      return cut.n;
    },
    async write(rows) {
      let s = '';
      for (const row of rows) {
        r++;
        s += `<row r="${r}">`;
        for (let i = 0; i < columns.length; i++) s += cellXml(letters[i] + r, row[i], columns[i], cut);
        s += '</row>';
      }
      await put(s);
    },
    async close() {
      await put('</sheetData></worksheet>');
      sheetXml.end();
      await pumped;
      await sink.close();
    },
    async abort() {
      sheetXml.destroy();
      await sink.abort();
    },
  };
}
