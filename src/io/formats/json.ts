// JSON: one top-level array of rows, streamed element by element; values keep their types.
import { inputError } from '../../errors';
import { MAX_ROW_BYTES, sizeText, TOO_LARGE_HINT } from './limits';
import { settled } from './records';
import { openSink, rowObject } from './sink';
import type { Format, Head, Row, TableColumn, TableWriter } from './types';

/**
 * Streams the elements of a top-level JSON array without holding the whole document; an element
 * larger than `maxRowBytes` characters is refused before it is held.
 * (Over the ~80-line guideline on purpose: one character-level state machine whose state —
 * depth, string, escape, element start — is easier to check in one place than spread over helpers.)
 */
export async function* jsonArrayBatches(file: string, chunks: AsyncIterable<string>, maxRowBytes = MAX_ROW_BYTES): AsyncGenerator<Row[]> {
  let state: 'start' | 'between' | 'elem' | 'end' = 'start';
  let depth = 0;
  let inStr = false;
  let esc = false;
  let elem: string[] = [];
  let elemSize = 0; // characters of the element held in `elem`
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
              elemSize = 0;
              state = 'end';
              continue;
            }
            depth--;
          } else if (ch === ',' && depth === 0) {
            elem.push(t.slice(segStart, i));
            out.push(finish(elem.join('')));
            elem = [];
            elemSize = 0;
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
      if (state === 'elem') {
        elem.push(t.slice(segStart));
        elemSize += t.length - segStart;
        if (elemSize > maxRowBytes)
          throw inputError(`${file}:${elemStartLine}: an array element larger than ${sizeText(maxRowBytes)} (the limit of a row tg reads)`, TOO_LARGE_HINT);
      }
    });
  }
  if ((state as string) === 'start') throw inputError(`${file}: the file is empty`);
  if ((state as string) !== 'end') throw fail('the JSON array is not closed (file truncated?)');
}

/** A JSON table writer: one array of objects, one object per line. */
export async function openJson(target: string | NodeJS.WritableStream, columns: readonly TableColumn[]): Promise<TableWriter> {
  const sink = await openSink(target);
  const names = columns.map((c) => c.name);
  let first = true;
  await sink.write('[');
  return {
    async write(rows) {
      let s = '';
      for (const r of rows) {
        s += (first ? '\n' : ',\n') + JSON.stringify(rowObject(names, r));
        first = false;
      }
      await sink.write(s);
    },
    async close() {
      await sink.write(first ? ']\n' : '\n]\n');
      await sink.close();
    },
    abort: () => sink.abort(),
  };
}

export const json: Format = {
  name: 'json',
  extensions: ['.json'],
  text: true,
  textCells: false,
  unit: 'line',
  sniff: (h: Head) => h.text !== null && /^\ufeff?\s*\[/.test(h.text),
  read: (src, opts) => jsonArrayBatches(src.shown, src.text(), opts.maxRowBytes),
  open: (target, columns) => openJson(target, columns),
};
