// An xlsx sheet's rows, streamed: the first row with a value is the header; each cell the text
// Excel shows (numfmt.ts), shared and inline strings, a formula's cached value, booleans as
// TRUE/FALSE; a merged range's value in its top-left cell only (as the file stores it). Errors
// name the cell as Excel does: `file.xlsx:Sheet1!C5`.
import { inputError } from '../../errors';
import { BATCH, MAX_ROW_BYTES, sizeText, TOO_LARGE_HINT } from './limits';
import { showNumber, type Shown } from './numfmt';
import { readBook, pickSheet, unescapeX, type Book } from './xlsxbook';
import { openZip, parseXml, type XmlHandlers } from './xlsxzip';
import type { ReadInfo, ReadOptions, Row } from './types';

/** Column letters of a 0-based column index (0 → A, 26 → AA). */
export function columnLetters(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** A cell reference's column, 0-based (`C5` → 2), or -1. */
function columnOf(ref: string): number {
  let n = 0;
  let i = 0;
  for (; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    n = n * 26 + (c - 64);
  }
  return i ? n - 1 : -1;
}

/** A sheet name as a reference writes it: quoted when it holds anything but letters, digits, _ and . */
export const sheetRef = (name: string): string => (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`);

/** `file.xlsx:Sheet1!C5`, or `file.xlsx:Sheet1 row 5` for a whole row. */
export const cellWhere = (file: string, sheet: string, row: number, col?: number): string =>
  col === undefined || col < 0 ? `${file}:${sheetRef(sheet)} row ${row}` : `${file}:${sheetRef(sheet)}!${columnLetters(col)}${row}`;

interface SheetRow {
  r: number;
  cells: string[];
}

/** The events of a sheet part → rows of cell texts (sparse arrays), pushed onto `out`. */
function sheetHandlers(
  book: Book,
  cellText: (t: string | undefined, v: string, s: Shown | undefined) => string,
  out: SheetRow[],
  where: { row: number; col: number },
): XmlHandlers {
  let row: SheetRow | null = null;
  let type: string | undefined;
  let style: Shown | undefined;
  let v = '';
  let inV = false;
  let inT = false;
  let inIs = false;
  let phonetic = false;
  return {
    open(name, a) {
      if (name === 'row') {
        where.row = a.r ? Number(a.r) : where.row + 1;
        where.col = -1;
        row = { r: where.row, cells: [] };
      } else if (name === 'c') {
        const c = a.r ? columnOf(a.r) : -1;
        where.col = c >= 0 ? c : where.col + 1;
        type = a.t;
        style = a.s ? book.styles[Number(a.s)] : undefined;
        v = '';
      } else if (name === 'v') inV = true;
      else if (name === 'is') inIs = true;
      else if (name === 't') inT = true;
      else if (name === 'rPh') phonetic = true;
    },
    close(name) {
      if (name === 'v') inV = false;
      else if (name === 't') inT = false;
      else if (name === 'is') inIs = false;
      else if (name === 'rPh') phonetic = false;
      else if (name === 'c' && row) {
        const text = cellText(type, v, style);
        if (text !== '') row.cells[where.col] = text;
      } else if (name === 'row' && row) {
        out.push(row);
        row = null;
      }
    },
    text(t) {
      if (inV || (inIs && inT && !phonetic)) v += t;
    },
  };
}

/** The text of one cell: by its type, else as its style shows a number. */
function texter(book: Book, bad: (what: string) => Error) {
  return (t: string | undefined, v: string, s: Shown | undefined): string => {
    switch (t) {
      case 's': {
        const str = book.strings.get(Number(v));
        if (str === undefined) throw bad(`refers to shared string ${v}, which the workbook does not have`);
        return str;
      }
      case 'inlineStr':
      case 'str':
        return unescapeX(v);
      case 'b':
        return v === '1' || v === 'true' ? 'TRUE' : v === '' ? '' : 'FALSE';
      case 'e':
        return v;
      case 'd':
        return v.length > 10 && /T00:00(:00(\.0+)?)?Z?$/.test(v) ? v.slice(0, 10) : v.replace(/Z$/, '');
      default: {
        if (v === '') return '';
        const n = Number(v);
        if (!Number.isFinite(n)) throw bad(`holds "${v.slice(0, 40)}" as a number`);
        return showNumber(n, s ?? { kind: 'general' }, book.date1904);
      }
    }
  };
}

/** The rows of a sheet, in batches. */
export async function* xlsxBatches(file: string, shown: string, opts: ReadOptions, info: ReadInfo): AsyncGenerator<Row[]> {
  const max = opts.maxRowBytes ?? MAX_ROW_BYTES;
  const zip = await openZip(file, shown);
  let book: Book | null = null;
  try {
    book = await readBook(zip, shown, max);
    const sheet = pickSheet(book, shown, opts.sheet);
    info.sheet = sheet.name;
    const where = { row: 0, col: -1 };
    const at = () => cellWhere(shown, sheet.name, where.row, where.col);
    const bad = (what: string) => inputError(`${at()}: the cell ${what}`, 'Open the workbook in Excel and save it again.');
    const big = () => inputError(`${at()}: a cell larger than ${sizeText(max)} (the limit of a cell tg reads)`, TOO_LARGE_HINT);
    const pending: SheetRow[] = [];
    const st = new SheetState(shown, sheet.name, opts, info);
    const h = sheetHandlers(book, texter(book, bad), pending, where);
    for await (const _ of parseXml(zip.chunks(sheet.part), h, max, big, at())) {
      void _;
      for (let i = 0; i < pending.length;) {
        const out: Row[] = [];
        for (; i < pending.length && out.length < BATCH; i++) st.take(pending[i], out);
        if (out.length) yield out;
      }
      pending.length = 0;
    }
    if (!st.header)
      throw inputError(
        `${cellWhere(shown, sheet.name, 1, 0)}: the sheet is empty`,
        'Put a header row and at least one data row on the sheet, or choose another with --sheet.',
      );
  } finally {
    book?.strings.close();
    zip.close();
  }
}

/** The header, and each row checked against it. */
class SheetState {
  header: string[] | null = null;
  private headerRow = 0;
  private lastRow = 0;
  constructor(
    private readonly file: string,
    private readonly sheet: string,
    private readonly opts: ReadOptions,
    private readonly info: ReadInfo,
  ) {}

  take(r: SheetRow, out: Row[]): void {
    const cells = r.cells;
    if (!this.header) return this.takeHeader(r);
    const skip = this.opts.skipEmpty ?? true;
    if (skip) this.info.emptyRows += Math.max(0, r.r - this.lastRow - 1); // rows the sheet leaves out are empty rows
    this.lastRow = r.r;
    const header = this.header;
    if (!cells.some((c) => c !== undefined)) {
      if (skip) this.info.emptyRows++;
      else out.push({ index: r.r - this.headerRow - 1, line: r.r, value: Object.fromEntries(header.map((h) => [h, ''])) });
      return;
    }
    const value: Record<string, string> = {};
    for (let k = 0; k < header.length; k++) value[header[k]] = cells[k] ?? '';
    const row: Row = { index: r.r - this.headerRow - 1, line: r.r, value };
    if (cells.length > header.length) {
      const col = cells.findIndex((c, k) => k >= header.length && c !== undefined);
      const message = `the row has a value in column ${columnLetters(col)}, which has no header`;
      if (!this.opts.ragged)
        throw inputError(
          `${cellWhere(this.file, this.sheet, r.r, col)}: ${message}`,
          'Name the column in the header row, or clear the cell (--skip-invalid sends the other rows).',
        );
      row.invalid = { message, fields: Array.from(cells, (c) => c ?? '') };
    }
    out.push(row);
  }

  private takeHeader(r: SheetRow): void {
    const cells = r.cells;
    if (!cells.some((c) => c !== undefined)) return; // rows above the header
    const seen = new Set<string>();
    this.header = Array.from(cells, (c, i) => {
      const name = (c ?? '').trim();
      if (!name)
        throw inputError(
          `${cellWhere(this.file, this.sheet, r.r, i)}: column ${columnLetters(i)} of the header row has no name`,
          'Name every column in the header row.',
        );
      if (seen.has(name))
        throw inputError(`${cellWhere(this.file, this.sheet, r.r, i)}: duplicate column name "${name}" in the header row`, 'Rename one of the columns.');
      seen.add(name);
      return name;
    });
    this.headerRow = this.lastRow = r.r;
    this.info.columns = this.header;
    this.info.columnRefs = this.header.map((_, i) => columnLetters(i));
  }
}
