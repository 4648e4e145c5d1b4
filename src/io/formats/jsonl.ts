// JSONL (JSON Lines, .ndjson): one JSON value per line; values keep their types.
import { inputError } from '../../errors';
import { BATCH, MAX_ROW_BYTES, sizeText, TOO_LARGE_HINT } from './limits';
import { settled } from './records';
import { openSink, rowObject } from './sink';
import type { Format, Head, Row, TableColumn, TableWriter } from './types';

/** Rows of JSONL text, in batches; a line longer than `maxRowBytes` characters is refused before it is held. */
export async function* jsonlBatches(file: string, chunks: AsyncIterable<string>, maxRowBytes = MAX_ROW_BYTES): AsyncGenerator<Row[]> {
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
  const long = (ln: number) => inputError(`${file}:${ln}: a line longer than ${sizeText(maxRowBytes)} (the limit of a row tg reads)`, TOO_LARGE_HINT);
  // BATCH rows at most, and the rows before a bad line first.
  const lines = (out: Row[], from: number): number => {
    for (let i = buf.indexOf('\n', from); i >= 0 && out.length < BATCH; i = buf.indexOf('\n', from)) {
      if (i - from > maxRowBytes) throw long(line + 1);
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
    if (buf.length > maxRowBytes) throw long(line + 1);
  }
  if (buf.length) {
    const r = one(buf, ++line); // the last line, without a newline
    if (r) yield [r];
  }
}

/** Does the text start like JSONL: every complete line a JSON object (or string), at least one? */
export function looksLikeJsonl(text: string, complete: boolean): boolean {
  const lines = text.replace(/^\ufeff/, '').split('\n');
  if (!complete) lines.pop(); // the last line may be cut
  let n = 0;
  for (const l of lines) {
    const t = l.trim();
    if (!t) continue;
    if (!(t.startsWith('{') || t.startsWith('"'))) return false;
    try {
      JSON.parse(t);
    } catch {
      return false;
    }
    n++;
  }
  return n > 0;
}

/** A JSON-lines table writer: each row one object of the columns' values. */
export async function openJsonl(target: string | NodeJS.WritableStream, columns: readonly TableColumn[]): Promise<TableWriter> {
  const sink = await openSink(target);
  const names = columns.map((c) => c.name);
  return {
    async write(rows) {
      let s = '';
      for (const r of rows) {
        s += JSON.stringify(rowObject(names, r)) + '\n';
      }
      await sink.write(s);
    },
    close: () => sink.close(),
    abort: () => sink.abort(),
  };
}

export const jsonl: Format = {
  name: 'jsonl',
  extensions: ['.jsonl', '.ndjson'],
  text: true,
  textCells: false,
  unit: 'line',
  sniff: (h: Head) => h.text !== null && looksLikeJsonl(h.text, h.complete),
  read: (src, opts) => jsonlBatches(src.shown, src.text(), opts.maxRowBytes),
  open: (target, columns) => openJsonl(target, columns),
};
