// Streaming readers for CSV, JSONL and JSON arrays (optionally gzip), yielding one row at a time
// with the line it starts on. Constant memory: nothing holds the whole input.
import { pipeline } from 'node:stream/promises';
import fs from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { inputError } from '../errors';
import { errnoText, flat } from '../core/util';

export type Format = 'csv' | 'json' | 'jsonl';

export interface Row {
  /** 0-based position among data rows. */
  index: number;
  /** 1-based line of the file where the row starts. */
  line: number;
  value: unknown;
  /**
   * A CSV row with the wrong number of fields, read with `ragged: true` (--skip-invalid): what is
   * wrong, and its fields as they are (`value` has the header's columns, padded or cut).
   */
  invalid?: { message: string; fields: string[] };
}

/** How rows are read: `ragged`, a CSV row with the wrong number of fields is a row marked invalid, not an error. */
export interface ReadOptions {
  ragged?: boolean;
}

export function detectFormat(file: string, explicit?: string): Format {
  if (explicit) return explicit as Format;
  if (file === '-') throw inputError('reading stdin needs --format csv|json|jsonl');
  const name = file.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  if (name.endsWith('.json')) return 'json';
  throw inputError(`${file}: cannot tell the format from the extension`, 'Name it .csv, .json or .jsonl (optionally .gz), or pass --format.');
}

/** Position of the first byte that is not valid UTF-8, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n = 0;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) n = 2;
    else if (c >= 0xf0 && c <= 0xf4) n = 3;
    else return i;
    if (i + n >= b.length + (n ? 0 : 1)) return i + n < b.length ? i : -2; // truncated at end: caller decides
    for (let k = 1; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * Decoded text chunks of a file (gunzipped when it is gzip), failing with file:line on bytes
 * that are not UTF-8.
 */
export async function* textChunks(file: string, shown = file): AsyncGenerator<string> {
  let raw: fs.ReadStream;
  try {
    raw = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
    await new Promise<void>((resolve, reject) => {
      raw.once('open', () => resolve());
      raw.once('error', reject);
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(`${shown}: cannot read (${errnoText(code)})`);
  }
  const head = await new Promise<Buffer | null>((resolve) => {
    raw.once('readable', () => resolve(raw.read(2) as Buffer | null));
    raw.once('end', () => resolve(null));
  });
  if (head) raw.unshift(head);
  const gz = head !== null && head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  const stream: NodeJS.ReadableStream = gz ? raw.pipe(zlib.createGunzip()) : raw;
  if (gz) raw.on('error', (e) => (stream as zlib.Gunzip).destroy(e));
  const dec = new TextDecoder('utf-8', { fatal: true });
  let lines = 1;
  let carry: Buffer | null = null;
  try {
    for await (const c of stream as AsyncIterable<Buffer>) {
      const buf: Buffer = carry ? Buffer.concat([carry, c]) : c;
      carry = null;
      let text: string;
      try {
        text = dec.decode(buf, { stream: true });
      } catch {
        const at = firstInvalidUtf8(buf);
        const upto = buf.subarray(0, Math.max(0, at));
        for (const byte of upto) if (byte === 10) lines++;
        throw inputError(
          `${shown}:${lines}: bytes that are not UTF-8 (byte 0x${buf[Math.max(0, at)].toString(16)})`,
          'Save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8).',
        );
      }
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
      if (text) yield text;
    }
    const tail = dec.decode();
    if (tail) yield tail;
  } catch (e) {
    const zcode = (e as { code?: string }).code;
    if (zcode === 'Z_DATA_ERROR' || zcode === 'Z_BUF_ERROR' || (e as { errno?: number }).errno === -3)
      throw inputError(`${shown}: the gzip data is corrupt or truncated (${(e as Error).message})`, 'Check the file with `gzip -t`, or compress it again.');
    if (e instanceof TypeError && /decode/i.test(String(e.message))) throw inputError(`${shown}:${lines}: the file ends in the middle of a UTF-8 character`);
    throw e;
  } finally {
    raw.destroy();
  }
}

interface CsvRecord {
  record: string[];
  raw: string;
}

interface CsvParseError {
  code: string;
  message: string;
  lines?: number;
}

/**
 * csv-parse's error → file:line, what is wrong, and how to fix it. `start` is the line the bad
 * record starts on; `offset`, the lines before the one csv-parse started on.
 */
function csvError(file: string, e: CsvParseError, start: number, offset: number) {
  const err = { ...e, message: e.message, lines: e.lines === undefined ? undefined : e.lines + offset };
  const hint = 'Fix the row, or export the CSV again from its source.';
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return inputError(
        `${file}:${start}: a quoted field opened on this line is never closed (the file ends inside it)`,
        'Close the quote, or double any quote inside a quoted field ("").',
      );
    case 'CSV_INVALID_CLOSING_QUOTE':
      return inputError(
        `${file}:${err.lines ?? start}: a quoted field is followed by something other than a comma or the line's end, or a quote inside it is not doubled`,
        'Double each quote inside a quoted field (""), and put nothing between a closing quote and the next comma.',
      );
    case 'INVALID_OPENING_QUOTE':
      return inputError(
        `${file}:${err.lines ?? start}: a quote inside a field that does not start with one`,
        'Quote the whole field and double each quote inside it: "say ""hi""".',
      );
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return inputError(`${file}:${err.lines ?? start}: characters after a closing quote`, hint);
    default: {
      const msg = err.message.replace(/ at line \d+.*$| on line \d+.*$/, '');
      return inputError(`${file}:${err.lines ?? start}: malformed CSV (${msg})`, hint);
    }
  }
}

/** Where a CSV read is: the header once read, the line the next record starts on, the next row's index. */
interface CsvState {
  header: string[] | null;
  line: number;
  index: number;
  ragged: boolean;
}

/** One record of fields that starts on line `start`: the header, or a row checked against it. */
function csvRecord(file: string, st: CsvState, f: string[], start: number, out: Row[]): void {
  if (!st.header) {
    const seen = new Set<string>();
    st.header = f.map((h, i) => {
      const name = h.trim();
      if (!name) throw inputError(`${file}:${start}: column ${i + 1} of the header row has no name`, 'Name every column in the header row.');
      if (seen.has(name)) throw inputError(`${file}:${start}: duplicate column name "${name}" in the header row`, 'Rename one of the columns.');
      seen.add(name);
      return name;
    });
    return;
  }
  const header = st.header;
  const value: Record<string, string> = {};
  for (let k = 0; k < header.length; k++) value[header[k]] = f[k] ?? '';
  if (f.length === header.length) out.push({ index: st.index++, line: start, value });
  else {
    const message = `the row has ${f.length} field${f.length === 1 ? '' : 's'}; the header has ${header.length}`;
    if (!st.ragged) throw inputError(`${file}:${start}: ${message}`, 'Quote fields that contain commas, or fix the row (--skip-invalid sends the other rows).');
    out.push({ index: st.index++, line: start, value, invalid: { message, fields: f } });
  }
}

/** A record delimiter plain CSV text is split on: csv-parse takes the first line break's. */
type Eol = '\n' | '\r\n';

/** The first line break of `s`: null if none yet (or only a CR at the very end), 'cr' for a CR alone. */
function firstEol(s: string): Eol | 'cr' | null {
  const n = s.indexOf('\n');
  const r = s.indexOf('\r');
  if (r < 0 || (n >= 0 && n < r)) return n < 0 ? null : '\n';
  if (r === s.length - 1) return null;
  return s.charCodeAt(r + 1) === 10 ? '\r\n' : 'cr';
}

/**
 * Text is plain CSV when it holds no quote and each line break is `eol` (a CR at the very end may
 * be the start of a CRLF the next chunk completes). What is not plain goes to csv-parse.
 */
function plainCsv(s: string, eol: Eol | null): boolean {
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

/**
 * The rows `fill` adds, then its error if it threw: the rows before a bad one are handed out
 * first (a row appended to the input while it is sent must not stop the rows validated before it).
 */
async function* settled(fill: (out: Row[]) => void): AsyncGenerator<Row[]> {
  const out: Row[] = [];
  let error: unknown = null;
  try {
    fill(out);
  } catch (e) {
    error = e;
  }
  if (out.length) yield out;
  if (error) throw error;
}

/**
 * Split complete lines of plain CSV text (each ends with `eol`) into records, from `from` until
 * `out` holds BATCH rows; returns where it stopped.
 */
function plainLines(file: string, st: CsvState, text: string, eol: Eol, from: number, out: Row[]): number {
  while (from < text.length && out.length < BATCH) {
    const i = text.indexOf(eol, from);
    const start = st.line++;
    if (i > from) csvRecord(file, st, text.slice(from, i).split(','), start, out);
    from = i + eol.length;
  }
  return from;
}

/**
 * Rows a batch holds at most: a batch lives while it is read, so it survives young-generation
 * collections; per chunk (~9k short rows), a 1M-row read peaked at ~100 MB more.
 */
const BATCH = 512;

/** A line longer than this goes to csv-parse (the plain path re-reads a line's start per chunk). */
const MAX_PLAIN_LINE = 1 << 20;

/**
 * CSV rows, a batch per chunk of text. While the text holds no quote and its line breaks are all
 * LF, or all CRLF, it is split on them and on commas (what CSV means there, at several times
 * csv-parse's speed); from the first chunk that holds anything else, csv-parse reads the rest.
 * `fast: false` uses csv-parse alone (the tests compare both).
 */
export async function* csvBatches(file: string, chunks: AsyncIterable<string>, fast = true, ragged = false): AsyncGenerator<Row[]> {
  const st: CsvState = { header: null, line: 1, index: 0, ragged };
  const it = chunks[Symbol.asyncIterator]();
  try {
    let carry = ''; // the start of a line (no line break yet)
    let eol: Eol | null = null; // known from the first line break
    let lines = false; // a line was split: csv-parse is to use the same record delimiter
    let started = false;
    for (let r = fast ? await it.next() : null; r && !r.done; r = await it.next()) {
      const fresh = !started; // nothing read yet
      started = true;
      const s = carry + (fresh ? r.value.replace(/^\ufeff/, '') : r.value);
      const seen: Eol | 'cr' | null = eol ?? firstEol(s);
      const end = seen && seen !== 'cr' ? s.lastIndexOf(seen) : -1; // the last line break
      if (seen === 'cr' || !plainCsv(s, seen) || s.length - Math.max(end, 0) > MAX_PLAIN_LINE) {
        // csv-parse reads the rest: from the file's start, BOM and all, if nothing was read yet
        yield* csvParseBatches(file, prepend(fresh ? r.value : s, it), st, { bom: fresh, eol: lines ? eol : null });
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
      yield* csvParseBatches(file, prepend(carry, it), st, { bom: !fast, eol: lines ? eol : null });
      return;
    }
    if (carry) yield* settled((out) => csvRecord(file, st, carry.split(','), st.line++, out));
    if (!st.header) throw inputError(`${file}: the file is empty`, 'A CSV needs a header row and at least one data row.');
  } finally {
    await it.return?.(); // closes the file when reading stops early
  }
}

/** `head`, then the rest of `it`. */
async function* prepend(head: string, it: AsyncIterator<string>): AsyncGenerator<string> {
  if (head) yield head;
  for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
}

/**
 * csv-parse reads the rest of a CSV, from a record's start: `st` says where (the header may be
 * read already); `bom`: this is the file's start; `eol`: the record delimiter of the lines
 * before (csv-parse detects it when none were read).
 */
async function* csvParseBatches(
  file: string,
  chunks: AsyncIterable<string>,
  st: CsvState,
  { bom, eol }: { bom: boolean; eol: Eol | null },
): AsyncGenerator<Row[]> {
  const { parse } = await import('csv-parse');
  // Records come as arrays with their raw text: line numbers are counted here from the raw text
  // (csv-parse's `info` costs ~15% of a submit), blank lines are skipped here, and the header
  // and field counts are checked here, so every error names the exact line. The parser is fed a
  // chunk at a time and its records taken at once (it parses a chunk synchronously), so the
  // records before an error are checked, in order, before the error is reported.
  const parser = parse({ bom, raw: true, relax_column_count: true, skip_empty_lines: false, ...(eol ? { record_delimiter: eol } : {}) });
  parser.on('error', () => undefined); // seen as parser.errored
  const offset = st.line - 1; // csv-parse counts its lines from where it starts
  let more = false; // take() stopped at BATCH rows: the parser may hold more
  const take = (out: Row[]): void => {
    more = false;
    for (let rec = parser.read() as CsvRecord | null; rec !== null; rec = parser.read() as CsvRecord | null) {
      const start = st.line;
      const raw = rec.raw;
      for (let i = raw.indexOf('\n'); i >= 0; i = raw.indexOf('\n', i + 1)) st.line++;
      if (raw.endsWith('\r')) st.line++; // a CRLF's raw text ends before its LF (and a CR-only file's at its CR)
      const f = rec.record;
      if (f.length === 1 && f[0] === '' && raw.trim() === '') continue; // a blank line
      csvRecord(file, st, f, start, out);
      if (out.length >= BATCH) {
        more = true;
        return;
      }
    }
  };
  async function* taken(): AsyncGenerator<Row[]> {
    do yield* settled(take);
    while (more);
  }
  const failed = (): unknown => {
    const e = parser.errored as (Error & { code?: string }) | null;
    if (!e) return null;
    return e.code?.startsWith('CSV_') || e.code === 'INVALID_OPENING_QUOTE' ? csvError(file, e as CsvParseError, st.line, offset) : e;
  };
  try {
    for await (const t of chunks) {
      parser.write(t);
      yield* taken();
      if (parser.errored) throw failed();
    }
    parser.end(); // the last records (and an error at the end) come now or after a tick
    for (;;) {
      yield* taken();
      if (parser.errored) throw failed();
      if (parser.readableEnded) break;
      await new Promise<void>((r) => {
        const go = () => {
          for (const ev of ['readable', 'end', 'error']) parser.off(ev, go);
          r();
        };
        for (const ev of ['readable', 'end', 'error']) parser.on(ev, go);
      });
    }
  } finally {
    if (!parser.destroyed) parser.destroy();
  }
  if (!st.header) throw inputError(`${file}: the file is empty`, 'A CSV needs a header row and at least one data row.');
}

async function* jsonlBatches(file: string, chunks: AsyncIterable<string>): AsyncGenerator<Row[]> {
  let buf = '';
  let line = 0;
  let index = 0;
  const one = (text: string, ln: number): Row | null => {
    const t = text.replace(/\r$/, '').replace(/^\ufeff/, '');
    if (!t.trim()) return null;
    try {
      return { index: index++, line: ln, value: JSON.parse(t) };
    } catch (e) {
      throw inputError(
        `${file}:${ln}: not valid JSON (${(e as Error).message.replace(/^JSON\.parse: /, '')})`,
        'Each line of a JSONL file must be one JSON value.',
      );
    }
  };
  // As the CSV reader: BATCH rows at most, and the rows before a bad line first.
  const lines = (out: Row[], from: number): number => {
    for (let i = buf.indexOf('\n', from); i >= 0 && out.length < BATCH; i = buf.indexOf('\n', from)) {
      const r = one(buf.slice(from, i), ++line);
      from = i + 1;
      if (r) out.push(r);
    }
    return from;
  };
  for await (const t of chunks) {
    buf += t;
    let from = 0;
    while (buf.indexOf('\n', from) >= 0) yield* settled((out) => (from = lines(out, from)));
    buf = buf.slice(from);
  }
  if (buf.length) {
    const r = one(buf, ++line); // the last line, without a newline
    if (r) yield [r];
  }
}

/**
 * Streams the elements of a top-level JSON array without holding the whole document.
 * (91 lines, over the ~80 guideline on purpose: one character-level state machine whose state —
 * depth, string, escape, element start — is easier to check in one place than spread over helpers.)
 */
async function* jsonArrayBatches(file: string, chunks: AsyncIterable<string>): AsyncGenerator<Row[]> {
  let state: 'start' | 'between' | 'elem' | 'end' = 'start';
  let depth = 0;
  let inStr = false;
  let esc = false;
  let elem: string[] = [];
  let elemStartLine = 1;
  let line = 1;
  let index = 0;
  let expectValue = true;
  const fail = (msg: string) => inputError(`${file}:${line}: ${msg}`, 'A .json input must be one JSON array of rows.');
  const finish = (text: string): Row => {
    try {
      return { index: index++, line: elemStartLine, value: JSON.parse(text) };
    } catch (e) {
      throw inputError(
        `${file}:${elemStartLine}: not valid JSON (${(e as Error).message})`,
        'Each element of the array must be valid JSON: check that element (e.g. with jq).',
      );
    }
  };
  let first = true;
  for await (let t of chunks) {
    if (first) {
      t = t.replace(/^\ufeff/, '');
      first = false;
    }
    let segStart = 0;
    // The chunk's elements before a bad one are handed out first, as the other readers do.
    yield* settled((out) => {
      for (let i = 0; i < t.length; i++) {
        const ch = t[i];
        if (ch === '\n') line++;
        if (state === 'elem') {
          if (inStr) {
            if (esc) esc = false;
            else if (ch === '\\') esc = true;
            else if (ch === '"') inStr = false;
            continue;
          }
          if (ch === '"') inStr = true;
          else if (ch === '{' || ch === '[') depth++;
          else if (ch === '}' || ch === ']') {
            if (depth === 0) {
              if (ch === '}') throw fail('unbalanced }');
              elem.push(t.slice(segStart, i));
              out.push(finish(elem.join('')));
              elem = [];
              state = 'end';
              continue;
            }
            depth--;
          } else if (ch === ',' && depth === 0) {
            elem.push(t.slice(segStart, i));
            out.push(finish(elem.join('')));
            elem = [];
            state = 'between';
            expectValue = true;
          }
          continue;
        }
        if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') continue;
        if (state === 'start') {
          if (ch !== '[') throw fail(`expected a JSON array, found "${ch}"`);
          state = 'between';
          expectValue = true;
          continue;
        }
        if (state === 'end') throw fail(`unexpected "${ch}" after the end of the array`);
        // between elements
        if (ch === ']') {
          if (index > 0 && expectValue) throw fail('trailing comma before ]');
          state = 'end';
          continue;
        }
        if (ch === ',') throw fail('unexpected comma');
        state = 'elem';
        expectValue = false;
        depth = 0;
        inStr = false;
        esc = false;
        elemStartLine = line;
        segStart = i;
        i--; // re-read this (non-blank) char in elem state
      }
      if (state === 'elem') elem.push(t.slice(segStart));
    });
  }
  if ((state as string) === 'start') throw inputError(`${file}: the file is empty`);
  if ((state as string) !== 'end') throw fail('the JSON array is not closed (file truncated?)');
}

/** Rows of text chunks, in batches (one or more per chunk: no promise per row). */
export function rowBatchesOf(file: string, format: Format, chunks: AsyncIterable<string>, opts: ReadOptions = {}): AsyncGenerator<Row[]> {
  if (format === 'csv') return csvBatches(file, chunks, true, Boolean(opts.ragged));
  if (format === 'jsonl') return jsonlBatches(file, chunks);
  return jsonArrayBatches(file, chunks);
}

/** Read a file's rows in batches (`shown` names it in errors). */
export function readRowBatches(file: string, format: Format, shown = file, opts: ReadOptions = {}): AsyncGenerator<Row[]> {
  return rowBatchesOf(shown, format, textChunks(file, shown), opts);
}

/** Read a file's rows one at a time. */
export function readRows(file: string, format: Format, shown = file, opts: ReadOptions = {}): AsyncGenerator<Row> {
  return flat(readRowBatches(file, format, shown, opts));
}

/** Copy stdin to a spool file (so the input can be read twice: validate, then send). */
export async function spoolStdin(stdin: NodeJS.ReadableStream, dir: string): Promise<string> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `stdin-${process.pid}-${Date.now()}.spool`);
  const out = fs.createWriteStream(file, { mode: 0o600 });
  await pipeline(stdin, out);
  return file;
}
