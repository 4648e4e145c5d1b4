// Delimited text (CSV, TSV, `;` from a European Excel, `|`): rows in batches, one or more per
// chunk of text. While the text holds no quote and its line breaks are all LF, or all CRLF, it is
// split on them and on the delimiter (what the format means there, at several times csv-parse's
// speed); from the first chunk that holds anything else, csv-parse reads the rest.
import { BATCH, MAX_ROW_BYTES } from './limits';
import { detectDelimiter } from './delimiter';
import { csvParseBatches } from './csvparse';
import { blankLine, csvRecord, emptyFile, settled, type CsvState, type Eol } from './records';
import type { ReadInfo, Row } from './types';

export interface DelimitedOptions {
  /** The delimiter; detected from the header when absent (`fallback` for a one-column file). */
  delimiter?: string;
  fallback?: string;
  /** `false`: csv-parse alone (the tests compare both paths). */
  fast?: boolean;
  ragged?: boolean;
  skipEmpty?: boolean;
  maxRowBytes?: number;
  info?: ReadInfo;
}

/** The first line break of `s`: null if none yet (or only a CR at the very end), 'cr' for a CR alone. */
function firstEol(s: string): Eol | 'cr' | null {
  const n = s.indexOf('\n');
  const r = s.indexOf('\r');
  if (r < 0 || (n >= 0 && n < r)) return n < 0 ? null : '\n';
  if (r === s.length - 1) return null;
  return s.charCodeAt(r + 1) === 10 ? '\r\n' : 'cr';
}

/**
 * Text is plain when it holds no quote and each line break is `eol` (a CR at the very end may be
 * the start of a CRLF the next chunk completes). What is not plain goes to csv-parse.
 */
function plainText(s: string, eol: Eol | null): boolean {
  if (s.includes('"')) return false;
  if (eol !== '\r\n') return !s.includes('\r') || (eol === null && s.indexOf('\r') === s.length - 1);
  let crlf = 0;
  for (let i = s.indexOf('\r'); i >= 0 && i < s.length - 1; i = s.indexOf('\r', i + 1)) {
    if (s.charCodeAt(i + 1) !== 10) return false;
    crlf++;
  }
  let lf = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) lf++;
  return lf === crlf;
}

/** Split complete lines of plain text (each ends with `eol`) into records, from `from` until `out` holds BATCH rows. */
function plainLines(file: string, st: CsvState, text: string, eol: Eol, from: number, out: Row[]): number {
  while (from < text.length && out.length < BATCH) {
    const i = text.indexOf(eol, from);
    const start = st.line++;
    if (i > from) csvRecord(file, st, text.slice(from, i).split(st.delimiter), start, out);
    else blankLine(st);
    from = i + eol.length;
  }
  return from;
}

/** `head`, then the rest of `it`. */
export async function* prepend(head: string, it: AsyncIterator<string>): AsyncGenerator<string> {
  if (head) yield head;
  for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
}

/** Text to sample for the delimiter: 50 lines or 64 KiB, whichever comes first (or the whole file). */
async function sample(it: AsyncIterator<string>): Promise<{ head: string; complete: boolean }> {
  let head = '';
  for (;;) {
    let lines = 0;
    for (let i = head.indexOf('\n'); i >= 0 && lines < 50; i = head.indexOf('\n', i + 1)) lines++;
    if (lines >= 50 || head.length >= 64 * 1024) return { head, complete: false };
    const r = await it.next();
    if (r.done) return { head, complete: true };
    head += r.value;
  }
}

/** Delimited rows of text chunks, in batches; the delimiter detected first when not given. */
export async function* delimitedBatches(file: string, chunks: AsyncIterable<string>, o: DelimitedOptions = {}): AsyncGenerator<Row[]> {
  const it = chunks[Symbol.asyncIterator]();
  try {
    let delimiter = o.delimiter;
    let head = '';
    if (!delimiter) {
      const s = await sample(it);
      head = s.head;
      const d = detectDelimiter(file, head, s.complete, o.fallback ?? ',');
      delimiter = d.delimiter;
      if (o.info) o.info.delimiterDetected = d.detected;
    }
    if (o.info) o.info.delimiter = delimiter;
    const st: CsvState = {
      header: null,
      line: 1,
      index: 0,
      ragged: Boolean(o.ragged),
      skipEmpty: Boolean(o.skipEmpty),
      delimiter,
      maxRowBytes: o.maxRowBytes ?? MAX_ROW_BYTES,
      info: o.info ?? null,
    };
    yield* plainBatches(file, prepend(head, it), st, o.fast ?? true);
  } finally {
    await it.return?.(); // closes the file when reading stops early
  }
}

/** The plain path, handing over to csv-parse from the first chunk that is not plain (or at once with `fast` false). */
async function* plainBatches(file: string, chunks: AsyncGenerator<string>, st: CsvState, fast: boolean): AsyncGenerator<Row[]> {
  const maxLine = Math.min(st.maxRowBytes, 1 << 20); // a longer line goes to csv-parse (the plain path re-reads a line's start per chunk)
  let carry = ''; // the start of a line (no line break yet)
  let eol: Eol | null = null; // known from the first line break
  let lines = false; // a line was split: csv-parse is to use the same record delimiter
  let started = false;
  for (let r = fast ? await chunks.next() : null; r && !r.done; r = await chunks.next()) {
    const fresh = !started; // nothing read yet
    started = true;
    const s = carry + (fresh ? r.value.replace(/^\ufeff/, '') : r.value);
    const seen: Eol | 'cr' | null = eol ?? firstEol(s);
    const end = seen && seen !== 'cr' ? s.lastIndexOf(seen) : -1; // the last line break
    if (seen === 'cr' || !plainText(s, seen) || s.length - Math.max(end, 0) > maxLine) {
      // csv-parse reads the rest: from the file's start, BOM and all, if nothing was read yet
      yield* csvParseBatches(file, prepend(fresh ? r.value : s, chunks), st, { bom: fresh, eol: lines ? eol : null });
      return;
    }
    eol = seen;
    if (end < 0) {
      carry = s;
      continue;
    }
    lines = true;
    const text = s.slice(0, end + eol!.length);
    carry = s.slice(end + eol!.length);
    for (let from = 0; from < text.length;) yield* settled((out) => (from = plainLines(file, st, text, eol!, from, out)));
  }
  if (!fast || carry.includes('\r')) {
    // csv-parse alone; or a last line that ends in a CR, which csv-parse has the last word on
    yield* csvParseBatches(file, prepend(carry, chunks), st, { bom: !fast, eol: lines ? eol : null });
    return;
  }
  if (carry) yield* settled((out) => csvRecord(file, st, carry.split(st.delimiter), st.line++, out));
  if (!st.header) throw emptyFile(file);
}
