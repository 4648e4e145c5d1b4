// Parquet: read row group by row group (memory bounded by the largest row group), values keep
// their types as JSON would hold them (numbers, booleans, strings, lists, objects; dates as
// YYYY-MM-DD, timestamps as ISO text, 64-bit integers as numbers when exact, else text); written
// with typed columns (parquetwrite.ts).
import zlib from 'node:zlib';
import { inputError } from '../../errors';
import { BATCH } from './limits';
import { openParquet } from './parquetwrite';
import type { Format, Head, ReadInfo, Row } from './types';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Days since 1970-01-01 as YYYY-MM-DD. */
function ymd(days: number): string {
  const d = new Date(days * 86400000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

const iso = (ms: number) => {
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? s.slice(0, -5) + 'Z' : s;
};

/** A decoded value as JSON holds it. */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (v instanceof Date) return iso(v.getTime());
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

/** Rows of a Parquet file, a row group (or a slice of one the offset index allows) at a time. */
export async function* parquetBatches(file: string, shown: string, info: ReadInfo): AsyncGenerator<Row[]> {
  const hp = await import('hyparquet');
  let buffer: Awaited<ReturnType<typeof hp.asyncBufferFromFile>>;
  let metadata: Awaited<ReturnType<typeof hp.parquetMetadataAsync>>;
  try {
    buffer = await hp.asyncBufferFromFile(file);
    metadata = await hp.parquetMetadataAsync(buffer);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw inputError(`${shown}: cannot read (${code === 'ENOENT' ? 'no such file' : code})`);
    throw inputError(`${shown}: not a Parquet file (${(e as Error).message})`, 'Check the file, or pass --format.');
  }
  info.columns = hp.parquetSchema(metadata).children.map((c) => c.element.name);
  const parsers = {
    dateFromDays: ymd,
    timestampFromMilliseconds: (x: bigint) => iso(Number(x)),
    timestampFromMicroseconds: (x: bigint) => iso(Number(x / 1000n)),
    timestampFromNanoseconds: (x: bigint) => iso(Number(x / 1000000n)),
  };
  const { decompress: unzstd } = await import('fzstd');
  // Snappy is hyparquet's own; gzip and brotli are Node's zlib; zstd (Polars' default) is fzstd.
  const compressors = {
    GZIP: (input: Uint8Array) => zlib.gunzipSync(input),
    BROTLI: (input: Uint8Array) => zlib.brotliDecompressSync(input),
    ZSTD: (input: Uint8Array, size: number) => unzstd(input, new Uint8Array(size)),
  };
  let start = 0;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    const sliceable = group.columns.every((c) => c.offset_index_offset !== undefined && c.offset_index_length);
    const step = sliceable ? 65536 : rows;
    for (let from = start; from < start + rows; from += step) {
      const to = Math.min(start + rows, from + step);
      let objects: Record<string, unknown>[];
      try {
        objects = await hp.parquetReadObjects({ file: buffer, metadata, rowStart: from, rowEnd: to, parsers, compressors, useOffsetIndex: sliceable });
      } catch (e) {
        throw inputError(
          `${shown}: rows ${from + 1}–${to}: cannot decode (${(e as Error).message})`,
          'Check the file (e.g. with DuckDB: SELECT * FROM read_parquet(...)).',
        );
      }
      for (let i = 0; i < objects.length; i += BATCH) {
        const out: Row[] = [];
        for (let k = i; k < Math.min(objects.length, i + BATCH); k++) {
          const value: Record<string, unknown> = {};
          for (const [name, x] of Object.entries(objects[k])) value[name] = plain(x);
          out.push({ index: from + k, line: from + k + 1, value });
        }
        yield out;
      }
      objects = [];
    }
    start += rows;
  }
}

export const parquet: Format = {
  name: 'parquet',
  extensions: ['.parquet', '.pq'],
  text: false,
  textCells: false,
  unit: 'row',
  sniff: (h: Head) => h.bytes.length >= 4 && Buffer.from(h.bytes.buffer, h.bytes.byteOffset, 4).toString('latin1') === 'PAR1',
  read: (src, _opts, info) => parquetBatches(src.path, src.shown, info),
  open: (target, columns) => openParquet(target, columns),
};
