// csv-parse reads what the plain path of delimited.ts does not (quotes, mixed line breaks), from a
// record's start, with the same rules: the header and field counts checked here, line numbers
// counted here from each record's raw text, every error naming the exact line.
import { inputError } from '../../errors';
import { BATCH } from './limits';
import { blankLine, csvRecord, emptyFile, settled, tooLarge, type CsvState, type Eol } from './records';
import { delimiterName } from './delimiter';
import type { Row } from './types';

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
function csvError(file: string, e: CsvParseError, st: CsvState, start: number, offset: number) {
  const at = e.lines === undefined ? start : e.lines + offset;
  const name = delimiterName(st.delimiter);
  switch (e.code) {
    case 'CSV_MAX_RECORD_SIZE':
      return tooLarge(file, start, st.maxRowBytes);
    case 'CSV_QUOTE_NOT_CLOSED':
      return inputError(
        `${file}:${start}: a quoted field opened on this line is never closed (the file ends inside it)`,
        'Close the quote, or double any quote inside a quoted field ("").',
      );
    case 'CSV_INVALID_CLOSING_QUOTE':
      return inputError(
        `${file}:${at}: a quoted field is followed by something other than a ${name} or the line's end, or a quote inside it is not doubled`,
        `Double each quote inside a quoted field (""), and put nothing between a closing quote and the next ${name}.`,
      );
    case 'INVALID_OPENING_QUOTE':
      return inputError(
        `${file}:${at}: a quote inside a field that does not start with one`,
        'Quote the whole field and double each quote inside it: "say ""hi""".',
      );
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return inputError(`${file}:${at}: characters after a closing quote`, 'Fix the row, or export the file again from its source.');
    default: {
      const msg = e.message.replace(/ at line \d+.*$| on line \d+.*$/, '');
      return inputError(`${file}:${at}: malformed CSV (${msg})`, 'Fix the row, or export the file again from its source.');
    }
  }
}

/** Wait for the parser's next event. */
function next(parser: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((r) => {
    const go = () => {
      for (const ev of ['readable', 'end', 'error']) parser.off(ev, go);
      r();
    };
    for (const ev of ['readable', 'end', 'error']) parser.on(ev, go);
  });
}

/**
 * csv-parse reads the rest of the text, from a record's start: `st` says where (the header may
 * be read already); `bom`: this is the file's start; `eol`: the record delimiter of the lines
 * before (csv-parse detects it when none were read).
 */
export async function* csvParseBatches(
  file: string,
  chunks: AsyncIterable<string>,
  st: CsvState,
  { bom, eol }: { bom: boolean; eol: Eol | null },
): AsyncGenerator<Row[]> {
  const { parse } = await import('csv-parse');
  // Records come as arrays with their raw text (csv-parse's `info` costs ~15% of a submit). The
  // parser is fed a chunk at a time and its records taken at once (it parses a chunk
  // synchronously), so the records before an error are checked, in order, before it is reported.
  const parser = parse({
    bom,
    raw: true,
    delimiter: st.delimiter,
    relax_column_count: true,
    skip_empty_lines: false,
    ...(Number.isFinite(st.maxRowBytes) ? { max_record_size: st.maxRowBytes } : {}),
    ...(eol ? { record_delimiter: eol } : {}),
  });
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
      if (f.length === 1 && f[0] === '' && raw.trim() === '') {
        blankLine(st);
        continue;
      }
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
    return e.code?.startsWith('CSV_') || e.code === 'INVALID_OPENING_QUOTE' ? csvError(file, e as CsvParseError, st, st.line, offset) : e;
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
      await next(parser);
    }
  } finally {
    if (!parser.destroyed) parser.destroy();
  }
  if (!st.header) throw emptyFile(file);
}
