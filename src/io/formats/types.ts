// The shapes every format shares: a row as readers hand it out, read options, what a read found
// out (ReadInfo), a format's entry in the registry, and the table writer interface.
import type { FieldType } from '../../core/fields';

export interface Row {
  /** 0-based position among data rows (an all-empty row that is skipped keeps its position). */
  index: number;
  /** 1-based line of the file where the row starts (for a sheet: its row number). */
  line: number;
  value: unknown;
  /**
   * A row with the wrong number of fields, read with `ragged: true` (--skip-invalid): what is
   * wrong, and its fields as they are (`value` has the header's columns, padded or cut).
   */
  invalid?: { message: string; fields: string[] };
}

/** How rows are read. Every option has a default; a format ignores those that do not apply to it. */
export interface ReadOptions {
  /** A row with the wrong number of fields is a row marked invalid, not an error. */
  ragged?: boolean;
  /** Delimited text: the field delimiter (`,` `;` tab `|`); detected from the header when not given. */
  delimiter?: string;
  /** Text: the encoding of a file without a byte-order mark (default UTF-8). */
  encoding?: string;
  /** xlsx: the sheet, by name or 1-based number (default: the first). */
  sheet?: string;
  /** Skip (and count) rows whose every cell is empty. Default true; the legacy `io/rows` readers keep them. */
  skipEmpty?: boolean;
  /** The largest row (or field, line, array element, cell) read, in bytes. Default MAX_ROW_BYTES. */
  maxRowBytes?: number;
}

/** What a read found out, filled in as it goes: the caller can say it in one line each (`notes()`). */
export interface ReadInfo {
  /** The file as messages name it. */
  readonly file: string;
  format: string;
  /** Delimited text: the delimiter used, and whether it was detected rather than given. */
  delimiter?: string;
  delimiterDetected?: boolean;
  /** Text: the encoding the bytes were decoded with, and what said so (`bom`, `option`, `default`). */
  encoding?: string;
  encodingFrom?: 'bom' | 'option' | 'default';
  /** xlsx: the sheet read. */
  sheet?: string;
  /** The header's column names once read (for a sheet: with their letters in `columnRefs`). */
  columns?: string[];
  columnRefs?: string[];
  /** Rows skipped because every cell was empty (blank lines of delimited text count too). */
  emptyRows: number;
}

export function newReadInfo(file: string, format: string): ReadInfo {
  return { file, format, emptyRows: 0 };
}

/** Output column types: the `--field` types, and `json` for values written as JSON text. */
export type ColumnType = FieldType | 'json';

export interface TableColumn {
  name: string;
  /** How the cells are typed where the format has types (xlsx, Parquet); default text. */
  type?: ColumnType;
  /** Cells tg writes (answers, errors): a spreadsheet must not run them as formulas. Never the user's own input. */
  guard?: boolean;
}

export interface WriteOptions {
  /** CSV/TSV: a UTF-8 byte-order mark first (Excel then reads UTF-8 right). */
  bom?: boolean;
  /** CSV: the field delimiter (default `,`; `;` for a European Excel). */
  delimiter?: string;
  /** xlsx: the sheet's name (default Sheet1). */
  sheet?: string;
}

/** Rows go in as arrays of cells, in the order of the columns given to `open`. */
export interface TableWriter {
  write(rows: readonly (readonly unknown[])[]): Promise<void>;
  /** Finish the file (flushed, closed). Nothing may be written after. */
  close(): Promise<void>;
  /** Stop without finishing (the caller removes its temp file). */
  abort(): Promise<void>;
}

/** The bytes a file starts with, for sniffing: `text` is the start decoded (gunzipped) when it is text. */
export interface Head {
  bytes: Uint8Array;
  text: string | null;
  /** The file ended within `bytes`/`text`. */
  complete: boolean;
}

/** Where rows come from: a file on disk (stdin is spooled to one first), and its decoded text on demand. */
export interface Source {
  path: string;
  shown: string;
  /** Decoded text chunks (gunzipped, BOM or `encoding` honoured); fills `info.encoding`. */
  text(): AsyncIterable<string>;
}

export interface Format {
  /** The `--format` value. */
  name: string;
  /** File name endings it is known by, lower case with the dot (`.gz` is allowed after a text format's). */
  extensions: readonly string[];
  /** Text formats are decoded (gzip, byte-order mark, --encoding) before their reader sees them. */
  text: boolean;
  /**
   * Cells are text (CSV, TSV, xlsx as Excel shows them): empty means absent, and values are
   * coerced to the input_schema's types. Otherwise (JSON, Parquet) values keep their types.
   */
  textCells: boolean;
  /** What a position is called in messages: `line 5` or `row 5`. */
  unit: 'line' | 'row';
  /** Does the start of a file look like this format? A delimiter may come with a delimited guess. */
  sniff(head: Head): boolean;
  read(src: Source, opts: ReadOptions, info: ReadInfo): AsyncGenerator<Row[]>;
  /** A table writer (enriched output), when the format can be written. */
  open?(target: string | NodeJS.WritableStream, columns: readonly TableColumn[], opts?: WriteOptions): Promise<TableWriter>;
}
