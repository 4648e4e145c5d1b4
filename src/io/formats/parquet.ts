// Parquet: read a page at a time (row groups of flat columns) or a row group at a time (lists,
// structs: memory bounded by the largest such row group), values keep
// their types as JSON would hold them (numbers, booleans, strings, lists, objects; dates as
// YYYY-MM-DD, timestamps as ISO text, 64-bit integers as numbers when exact, else text); written
// with typed columns (parquetwrite.ts).
import zlib from 'node:zlib';
import { inputError } from '../../errors';
import { BATCH } from './limits';
import { openParquet } from './parquetwrite';
import { flatGroup, groupRowsByPage, pageLibs, type PageLibs } from './parquetpages';
import type { AsyncBuffer, Compressors, FileMetaData, ParquetParsers } from 'hyparquet';
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

const HINT = 'Check the file (e.g. with DuckDB: SELECT * FROM read_parquet(...)).';

/** What every row group's read needs: the file, its metadata, how values and codecs are decoded. */
interface Ctx {
  hp: typeof import('hyparquet');
  libs: PageLibs;
  file: AsyncBuffer;
  metadata: FileMetaData;
  parsers: Partial<ParquetParsers>;
  compressors: Compressors;
  shown: string;
  names: string[];
}

async function open(file: string, shown: string): Promise<Ctx> {
  const hp = await import('hyparquet');
  let buffer: AsyncBuffer;
  let metadata: FileMetaData;
  try {
    buffer = await hp.asyncBufferFromFile(file);
    metadata = await hp.parquetMetadataAsync(buffer);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw inputError(`${shown}: cannot read (${code === 'ENOENT' ? 'no such file' : code})`);
    throw inputError(`${shown}: not a Parquet file (${(e as Error).message})`, 'Check the file, or pass --format.');
  }
  const { decompress: unzstd } = await import('fzstd');
  return {
    hp,
    libs: await pageLibs(hp),
    file: buffer,
    metadata,
    shown,
    names: hp.parquetSchema(metadata).children.map((c) => c.element.name),
    parsers: {
      dateFromDays: ymd,
      timestampFromMilliseconds: (x: bigint) => iso(Number(x)),
      timestampFromMicroseconds: (x: bigint) => iso(Number(x / 1000n)),
      timestampFromNanoseconds: (x: bigint) => iso(Number(x / 1000000n)),
    },
    // Snappy is hyparquet's own; gzip and brotli are Node's zlib; zstd (Polars' default) is fzstd.
    compressors: {
      GZIP: (input: Uint8Array) => zlib.gunzipSync(input),
      BROTLI: (input: Uint8Array) => zlib.brotliDecompressSync(input),
      ZSTD: (input: Uint8Array, size: number) => unzstd(input, new Uint8Array(size)),
    },
  };
}

type Group = FileMetaData['row_groups'][number];

/** Rows of a Parquet file: row groups of flat columns a page at a time, others a group (or an offset-index slice) at a time. */
export async function* parquetBatches(file: string, shown: string, info: ReadInfo): AsyncGenerator<Row[]> {
  const ctx = await open(file, shown);
  info.columns = ctx.names;
  const tree = ctx.hp.parquetSchema(ctx.metadata);
  let start = 0;
  for (const group of ctx.metadata.row_groups) {
    if (flatGroup(ctx.libs, tree, group.columns)) yield* pagedRows(ctx, group, start);
    else yield* groupRows(ctx, group, start);
    start += Number(group.num_rows);
  }
}

/** A row group of flat columns, a page at a time, whatever the row group's size. */
async function* pagedRows(ctx: Ctx, group: Group, start: number): AsyncGenerator<Row[]> {
  const cols = group.columns.map((c) => c.meta_data!.path_in_schema[0]);
  let k = start;
  try {
    for await (const batch of groupRowsByPage(ctx.libs, ctx, group, BATCH)) {
      const out: Row[] = [];
      for (const cells of batch) {
        const value: Record<string, unknown> = {};
        for (let c = 0; c < cols.length; c++) value[cols[c]] = plain(cells[c]);
        out.push({ index: k, line: k + 1, value });
        k++;
      }
      yield out;
    }
  } catch (e) {
    if ((e as Error).name === 'TgError') throw e;
    throw inputError(`${ctx.shown} row ${k + 1}: cannot decode (${(e as Error).message})`, HINT);
  }
}

/** A row group with lists or structs: decoded whole (or in slices its offset index allows), rows made from the columns. */
async function* groupRows(ctx: Ctx, group: Group, start: number): AsyncGenerator<Row[]> {
  const rows = Number(group.num_rows);
  const sliceable = group.columns.every((c) => c.offset_index_offset !== undefined && c.offset_index_length);
  const step = sliceable ? 8192 : rows;
  for (let from = start; from < start + rows; from += step) {
    const to = Math.min(start + rows, from + step);
    const chunks = new Map<string, { rowStart: number; rowEnd: number; data: ArrayLike<unknown> }[]>(ctx.names.map((n) => [n, []]));
    try {
      await ctx.hp.parquetRead({
        file: ctx.file,
        metadata: ctx.metadata,
        rowStart: from,
        rowEnd: to,
        parsers: ctx.parsers,
        compressors: ctx.compressors,
        useOffsetIndex: sliceable,
        onChunk: (c) => chunks.get(c.columnName)?.push({ rowStart: c.rowStart, rowEnd: c.rowEnd, data: c.columnData }),
      });
    } catch (e) {
      throw inputError(`${ctx.shown}: rows ${from + 1}–${to}: cannot decode (${(e as Error).message})`, HINT);
    }
    yield* rowsOf(ctx.names, chunks, from, to);
  }
}

/** Rows from..to of decoded column chunks, in batches. */
function* rowsOf(
  names: string[],
  chunks: Map<string, { rowStart: number; rowEnd: number; data: ArrayLike<unknown> }[]>,
  from: number,
  to: number,
): Generator<Row[]> {
  const cols = names.map((n) => chunks.get(n)!.sort((a, b) => a.rowStart - b.rowStart));
  const at = names.map(() => 0); // the chunk of each column holding the current row
  for (let i = from; i < to; i += BATCH) {
    const out: Row[] = [];
    for (let k = i; k < Math.min(to, i + BATCH); k++) {
      const value: Record<string, unknown> = {};
      for (let c = 0; c < names.length; c++) {
        const list = cols[c];
        while (at[c] < list.length - 1 && k >= list[at[c]].rowEnd) at[c]++;
        const chunk = list[at[c]];
        value[names[c]] = chunk && k >= chunk.rowStart && k < chunk.rowEnd ? plain(chunk.data[k - chunk.rowStart]) : null;
      }
      out.push({ index: k, line: k + 1, value });
    }
    yield out;
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
