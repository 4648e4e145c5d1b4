// A Parquet table writer (hyparquet-writer): typed columns from the output field types — int →
// INT64, number → DOUBLE, bool → BOOLEAN, date → DATE, list → a list of strings, anything else a
// UTF-8 string (input columns are text) — written a row group at a time (≤ 8,192 rows or about
// 8 MiB of values), so memory stays flat. DuckDB reads it with these types, no casts.
import { openSink } from './sink';
import type { ColumnType, TableColumn, TableWriter } from './types';

const GROUP_ROWS = 8192;
const GROUP_BYTES = 8 << 20;

interface SchemaElement {
  name: string;
  type?: string;
  converted_type?: string;
  repetition_type?: string;
  num_children?: number;
}

function schemaOf(c: TableColumn): SchemaElement[] {
  switch (c.type) {
    case 'int':
      return [{ name: c.name, type: 'INT64', repetition_type: 'OPTIONAL' }];
    case 'number':
      return [{ name: c.name, type: 'DOUBLE', repetition_type: 'OPTIONAL' }];
    case 'bool':
      return [{ name: c.name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' }];
    case 'date':
      return [{ name: c.name, type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' }];
    case 'list':
      return [
        { name: c.name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      ];
    default:
      return [{ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' }];
  }
}

const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** A cell as its column's type holds it, or undefined when it does not fit (written as null, counted). */
export function typed(v: unknown, type: ColumnType | undefined): unknown {
  if (v === null || v === undefined || v === '') return null;
  switch (type) {
    case 'int': {
      if (typeof v === 'bigint') return v;
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
      if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) && !Number.isSafeInteger(n)) return BigInt(v.trim());
      return Number.isSafeInteger(n) ? BigInt(n) : undefined;
    }
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) ? n : undefined;
    }
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
      return undefined;
    case 'date': {
      const m = typeof v === 'string' ? /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(v) : null;
      if (!m) return undefined;
      const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
      return Number.isNaN(ms) ? undefined : Math.floor(ms / 86400000);
    }
    case 'list':
      return Array.isArray(v) ? v.map((x) => (x === null || x === undefined ? null : text(x))) : [text(v)];
    default:
      return text(v);
  }
}

export interface ParquetTableWriter extends TableWriter {
  /** Cells written as null because they did not fit their column's type (e.g. "n/a" in an int column). */
  readonly misfits: number;
}

export async function openParquet(target: string | NodeJS.WritableStream, columns: readonly TableColumn[]): Promise<ParquetTableWriter> {
  const { ParquetWriter, ByteWriter } = await import('hyparquet-writer');
  const sink = await openSink(target);
  const bw = new ByteWriter(1 << 20);
  const drain = async () => {
    if (!bw.index) return;
    await sink.write(new Uint8Array(bw.buffer, 0, bw.index));
    bw.index = 0;
  };
  const schema = [{ name: 'root', num_children: columns.length }, ...columns.flatMap(schemaOf)];
  const pq = new ParquetWriter({ writer: bw, schema: schema as never, createdBy: 'tg' });
  let data: unknown[][] = columns.map(() => []);
  let rows = 0;
  let bytes = 0;
  let misfits = 0;
  const flush = async () => {
    if (!rows) return;
    const columnData = columns.map((c, i) => ({ name: c.name, data: data[i] }));
    await pq.write({ columnData: columnData as never, rowGroupSize: rows });
    data = columns.map(() => []);
    rows = 0;
    bytes = 0;
    await drain();
  };
  return {
    get misfits() {
      return misfits;
    },
    async write(batch) {
      for (const r of batch) {
        for (let i = 0; i < columns.length; i++) {
          let v = typed(r[i], columns[i].type);
          if (v === undefined) {
            misfits++;
            v = null;
          }
          if (typeof v === 'string') bytes += v.length;
          data[i].push(v);
        }
        bytes += columns.length * 8;
        if (++rows >= GROUP_ROWS || bytes >= GROUP_BYTES) await flush();
      }
    },
    async close() {
      await flush();
      await pq.finish();
      await drain();
      await sink.close();
    },
    abort: () => sink.abort(),
  };
}
