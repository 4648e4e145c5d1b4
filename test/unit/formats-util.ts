// Helpers of the format tests: temp dirs, all rows of a file, the repository's fixtures.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openRows, type OpenOptions } from '../../src/io/formats/index';
import type { ReadInfo, Row } from '../../src/io/formats/types';

export const root = path.resolve(__dirname, '../..');
export const fixture = (name: string) => path.join(root, 'fixtures', name);

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tg-formats-'));
}

/** Every row of a file (or the error), with what the read found out. */
export async function readAll(file: string, opts: OpenOptions = {}): Promise<{ rows: Row[]; info: ReadInfo; batches: number[] }> {
  const src = openRows(file, opts);
  const rows: Row[] = [];
  const batches: number[] = [];
  for await (const b of src.batches) {
    batches.push(b.length);
    rows.push(...b);
  }
  return { rows, info: src.info, batches };
}

/** The message of the error `p` rejects with. */
export async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

export async function* chunksOf(text: string, cuts: number[] = []): AsyncGenerator<string> {
  let at = 0;
  for (const c of cuts) {
    yield text.slice(at, c);
    at = c;
  }
  yield text.slice(at);
}
