// What both paths of the delimited reader share: the state of a read, a record checked against
// the header, blank and all-empty rows, the errors of size and emptiness.
import { inputError } from '../../errors';
import { sizeText, TOO_LARGE_HINT } from './limits';
import { delimiterName } from './delimiter';
import type { ReadInfo, Row } from './types';

/** Where a read is: the header once read, the line the next record starts on, the next row's index. */
export interface CsvState {
  header: string[] | null;
  line: number;
  index: number;
  ragged: boolean;
  skipEmpty: boolean;
  delimiter: string;
  maxRowBytes: number;
  info: ReadInfo | null;
}

/** One record of fields that starts on line `start`: the header, or a row checked against it. */
export function csvRecord(file: string, st: CsvState, f: string[], start: number, out: Row[]): void {
  if (!st.header) {
    const seen = new Set<string>();
    st.header = f.map((h, i) => {
      const name = h.trim();
      if (!name) throw inputError(`${file}:${start}: column ${i + 1} of the header row has no name`, 'Name every column in the header row.');
      if (seen.has(name)) throw inputError(`${file}:${start}: duplicate column name "${name}" in the header row`, 'Rename one of the columns.');
      seen.add(name);
      return name;
    });
    if (st.info) st.info.columns = st.header;
    return;
  }
  if (st.skipEmpty && f.every((x) => x === '')) {
    st.index++; // the rows after it keep their numbers
    if (st.info) st.info.emptyRows++;
    return;
  }
  const header = st.header;
  const value: Record<string, string> = {};
  for (let k = 0; k < header.length; k++) value[header[k]] = f[k] ?? '';
  if (f.length === header.length) out.push({ index: st.index++, line: start, value });
  else {
    const message = `the row has ${f.length} field${f.length === 1 ? '' : 's'}; the header has ${header.length}`;
    if (!st.ragged)
      throw inputError(
        `${file}:${start}: ${message}`,
        `Quote fields that contain ${delimiterName(st.delimiter)}s, or fix the row (--skip-invalid sends the other rows).`,
      );
    out.push({ index: st.index++, line: start, value, invalid: { message, fields: f } });
  }
}

/** A blank line: skipped (and counted once the header is read). */
export function blankLine(st: CsvState): void {
  if (st.header && st.skipEmpty && st.info) st.info.emptyRows++;
}

export function tooLarge(file: string, line: number, max: number) {
  return inputError(`${file}:${line}: a row larger than ${sizeText(max)} (the limit of a row tg reads)`, TOO_LARGE_HINT);
}

/** A record delimiter plain text is split on: csv-parse takes the first line break's. */
export type Eol = '\n' | '\r\n';

/**
 * The rows `fill` adds, then its error if it threw: the rows before a bad one are handed out
 * first (a row appended to the input while it is sent must not stop the rows validated before it).
 */
export async function* settled(fill: (out: Row[]) => void): AsyncGenerator<Row[]> {
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

export const emptyFile = (file: string) => inputError(`${file}: the file is empty`, 'A CSV needs a header row and at least one data row.');
