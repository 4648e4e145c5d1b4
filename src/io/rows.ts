// The readers as commands use them today (CSV with commas, JSONL, JSON arrays; gzip; stdin
// spooled), over the format registry in ./formats: the same rows and errors as before it. New
// code asks ./formats (openRows, formatOf, sniffFile) for every format, delimiter and encoding.
import { pipeline } from 'node:stream/promises';
import fs from 'node:fs';
import path from 'node:path';
import { atPath, inputError } from '../errors';
import { flat } from '../core/util';
import { delimitedBatches } from './formats/delimited';
import { jsonlBatches } from './formats/jsonl';
import { jsonArrayBatches } from './formats/json';
import { textChunks as decodedChunks } from './formats/text';
import { makeDir, namedWriteStream } from './durable';
import type { Row } from './formats/types';

export { firstInvalidUtf8 } from './formats/text';
export type { Row } from './formats/types';

export type Format = 'csv' | 'json' | 'jsonl';

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

/**
 * Decoded text chunks of a file (gunzipped when it is gzip; a byte-order mark says UTF-8 or
 * UTF-16), failing with file:line on bytes that are not UTF-8.
 */
export function textChunks(file: string, shown = file): AsyncGenerator<string> {
  return decodedChunks(file, shown);
}

/**
 * CSV rows, a batch per chunk of text (comma-separated; see formats/delimited.ts for the plain
 * path and csv-parse). `fast: false` uses csv-parse alone (the tests compare both).
 */
export function csvBatches(file: string, chunks: AsyncIterable<string>, fast = true, ragged = false): AsyncGenerator<Row[]> {
  return delimitedBatches(file, chunks, { delimiter: ',', fast, ragged, skipEmpty: false, maxRowBytes: Infinity });
}

/** Rows of text chunks, in batches (one or more per chunk: no promise per row). */
export function rowBatchesOf(file: string, format: Format, chunks: AsyncIterable<string>, opts: ReadOptions = {}): AsyncGenerator<Row[]> {
  if (format === 'csv') return csvBatches(file, chunks, true, Boolean(opts.ragged));
  if (format === 'jsonl') return jsonlBatches(file, chunks, Infinity);
  return jsonArrayBatches(file, chunks, Infinity);
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
  makeDir(dir, 0o700);
  const file = path.join(dir, `stdin-${process.pid}-${Date.now()}.spool`);
  try {
    await pipeline(stdin, namedWriteStream(file, file, { mode: 0o600, flags: 'wx' }));
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw atPath(e, file);
  }
  return file;
}
