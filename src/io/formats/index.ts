// The format registry: every format tg reads or writes, each one file (its extensions, how it is
// sniffed, its reader, its table writer, whether its cells are text). Adding a format is one file
// and one line in FORMATS. Commands ask here: formatOf(file) by name, sniffFile(path) by content,
// openRows(path) for rows in batches with what the read found out (ReadInfo).
import fs from 'node:fs';
import zlib from 'node:zlib';
import { inputError, usageError } from '../../errors';
import { csv, sniffDelimiter } from './csv';
import { tsv } from './tsv';
import { jsonl } from './jsonl';
import { json } from './json';
import { xlsx } from './xlsx';
import { parquet } from './parquet';
import { bomEncoding, textChunks } from './text';
import { delimiterText } from './delimiter';
import { cellWhere } from './xlsxread';
import { newReadInfo, type Format, type Head, type ReadInfo, type ReadOptions, type Row } from './types';

/** Every format, in sniffing order (binary signatures first, then JSON, JSONL, delimited text). */
export const FORMATS: readonly Format[] = [xlsx, parquet, json, jsonl, csv, tsv];

/** The `--format` choices. */
export const formatNames = (): string[] => FORMATS.map((f) => f.name);

/** The formats tg writes (enriched tables; JSONL results). */
export const WRITABLE: readonly string[] = FORMATS.filter((f) => f.open).map((f) => f.name);

export function formatByName(name: string): Format {
  const f = FORMATS.find((x) => x.name === name);
  if (!f) throw usageError(`--format ${name}: not a format tg reads`, `Use one of ${formatNames().join(', ')}.`);
  return f;
}

/** The format a file's name says (`.gz` after a text format's extension), or null. */
export function formatByExtension(file: string): Format | null {
  const name = file.toLowerCase();
  for (const f of FORMATS) {
    for (const ext of f.extensions) if (name.endsWith(ext) || (f.text && name.endsWith(ext + '.gz'))) return f;
  }
  return null;
}

/** The format of `file`: `explicit` (--format), else its extension; an input error when neither says. */
export function formatOf(file: string, explicit?: string): Format {
  if (explicit) return formatByName(explicit);
  if (file === '-') throw inputError(`reading stdin needs --format ${formatNames().join('|')}`);
  const f = formatByExtension(file);
  if (f) return f;
  if (/\.(xls|xlsb|ods|numbers)$/i.test(file))
    throw inputError(
      `${file}: tg reads Excel workbooks as .xlsx, not this older or other spreadsheet format`,
      'Save it as "Excel Workbook (.xlsx)" or as CSV, and pass that file.',
    );
  const exts = FORMATS.flatMap((x) => x.extensions);
  throw inputError(`${file}: cannot tell the format from the extension`, `Name it ${exts.join(', ')} (text formats optionally .gz), or pass --format.`);
}

const HEAD_BYTES = 64 * 1024;

/** The head of bytes: gunzipped when gzip, decoded (BOM, else UTF-8 leniently) for text sniffing. */
export function headOf(bytes: Uint8Array, complete: boolean): Head {
  let b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let done = complete;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = zlib.gunzipSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: HEAD_BYTES * 16 });
    } catch {
      return { bytes, text: null, complete };
    }
    done = complete && b.length < HEAD_BYTES * 16;
  }
  const bom = bomEncoding(b);
  const binary = !bom && b.subarray(0, 512).includes(0) && !(b.length >= 2 && b[0] >= 0x20 && b[0] < 0x7f && b[1] === 0); // UTF-16LE without a BOM is text
  const text = binary ? null : new TextDecoder(bom?.encoding ?? 'utf-8').decode(b);
  return { bytes: b, text, complete: done };
}

/** The first bytes of a file. */
export async function readHead(file: string): Promise<Head> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return headOf(buf.subarray(0, bytesRead), bytesRead < HEAD_BYTES);
  } finally {
    await fh.close();
  }
}

export interface Sniffed {
  format: Format;
  /** Delimited text: the delimiter it splits on. */
  delimiter?: string;
  /** One line to say it: `looks like JSONL`, `looks like CSV (;-separated)`. */
  says: string;
}

const KIND: Record<string, string> = { json: 'a JSON array', jsonl: 'JSONL', xlsx: 'an Excel workbook', parquet: 'Parquet' };

/** What the head of a stream looks like, or null when it cannot tell (stdin with no --format). */
export function sniff(head: Head): Sniffed | null {
  for (const f of FORMATS) {
    if (!f.sniff(head)) continue;
    if (f !== csv) return { format: f, says: `looks like ${KIND[f.name] ?? f.name.toUpperCase()}` };
    const d = sniffDelimiter(head) ?? ',';
    if (d === '\t') return { format: tsv, delimiter: d, says: 'looks like tab-separated text (TSV)' };
    return { format: csv, delimiter: d, says: `looks like CSV (${delimiterText(d)}-separated)` };
  }
  return null;
}

/** What a file looks like by its content (see sniff). */
export async function sniffFile(file: string): Promise<Sniffed | null> {
  return sniff(await readHead(file));
}

export interface OpenOptions extends ReadOptions {
  /** The format's name (default: by the file's extension). */
  format?: string;
  /** The file as messages name it (default: `file`). */
  shown?: string;
}

export interface RowSource {
  format: Format;
  /** Filled in as the rows are read: the delimiter and encoding used, empty rows skipped, the sheet, the header. */
  info: ReadInfo;
  batches: AsyncGenerator<Row[]>;
}

/** A file's rows in batches (≤ 512 rows each), with what the read finds out. Nothing is read until batches is. */
export function openRows(file: string, opts: OpenOptions = {}): RowSource {
  const shown = opts.shown ?? file;
  const format = formatOf(shown, opts.format);
  const info = newReadInfo(shown, format.name);
  const src = { path: file, shown, text: () => textChunks(file, shown, opts.encoding, info) };
  return { format, info, batches: format.read(src, opts, info) };
}

/**
 * Where a row (and one of its columns) is, for messages: `f.csv:5` (a line: CSV, TSV, JSONL,
 * JSON), `f.xlsx:Sheet1!C5` (a cell, as Excel names it; `f.xlsx:Sheet1 row 5` without a column),
 * `f.parquet row 5`. `line` is a Row's `line`; `info` the ReadInfo of its read.
 */
export function where(info: ReadInfo, line: number, column?: string): string {
  if (info.sheet !== undefined) {
    const i = column === undefined ? -1 : (info.columns?.indexOf(column) ?? -1);
    return cellWhere(info.file, info.sheet, line, i);
  }
  return formatByName(info.format).unit === 'line' ? `${info.file}:${line}` : `${info.file} row ${line}`;
}

/** One line each for what a read found out that the user should know (the delimiter detected, empty rows skipped). */
export function readNotes(info: ReadInfo): string[] {
  const notes: string[] = [];
  if (info.delimiterDetected && info.delimiter && info.delimiter !== ',')
    notes.push(`${info.file}: read as ${delimiterText(info.delimiter)}-separated (detected from the header; --delimiter chooses)`);
  if (info.encodingFrom === 'bom' && info.encoding && info.encoding !== 'utf-8')
    notes.push(`${info.file}: read as ${info.encoding.toUpperCase()} (from its byte-order mark)`);
  if (info.emptyRows) notes.push(`${info.file}: ${info.emptyRows} empty row${info.emptyRows === 1 ? '' : 's'} skipped`);
  return notes;
}

export type { Format, Head, ReadInfo, ReadOptions, Row, Source, TableColumn, TableWriter, WriteOptions, ColumnType } from './types';
