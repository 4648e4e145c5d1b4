// Where a table writer's bytes go: a file (the caller's temp file: written, fsynced and closed by
// close(); the caller renames it) or a stream it does not own (flushed, never ended).
import fs from 'node:fs';

export interface ByteSink {
  write(chunk: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
  /** Bytes written so far. */
  readonly bytes: number;
}

const FLUSH_AT = 256 * 1024;

/** Buffered writes to `target`: strings and bytes are gathered and written 256 KiB at a time. */
export async function openSink(target: string | NodeJS.WritableStream): Promise<ByteSink> {
  const fh = typeof target === 'string' ? await fs.promises.open(target, 'w', 0o644) : null;
  const stream = typeof target === 'string' ? null : target;
  let parts: Buffer[] = [];
  let size = 0;
  let bytes = 0;
  const flush = async () => {
    if (!size) return;
    const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    if (fh) {
      for (let off = 0; off < buf.length;) off += (await fh.write(buf, off)).bytesWritten;
    } else await put(stream!, buf);
  };
  return {
    get bytes() {
      return bytes;
    },
    async write(chunk) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      parts.push(typeof chunk === 'string' ? b : Buffer.from(b)); // a caller may reuse its buffer
      size += b.length;
      bytes += b.length;
      if (size >= FLUSH_AT) await flush();
    },
    async close() {
      await flush();
      if (fh) {
        await fh.sync();
        await fh.close();
      }
    },
    async abort() {
      parts = [];
      size = 0;
      await fh?.close().catch(() => undefined);
    },
  };
}

/**
 * Write to a stream tg does not own, resolving once it is taken (after 'drain' when it is full).
 * A failed write (a full disk under a TempOutput's stream, a closed stdout) rejects with its
 * error: waiting for a 'drain' that never comes would leave the command stopped for good.
 */
function put(stream: NodeJS.WritableStream, buf: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const done = (e?: unknown) => {
      if (settled) return;
      settled = true;
      stream.removeListener('error', done);
      stream.removeListener('drain', drained);
      if (e) reject(e);
      else resolve();
    };
    const drained = () => done();
    stream.once('error', done);
    if (stream.write(buf, (e?: Error | null) => e && done(e))) done();
    else stream.once('drain', drained);
  });
}

/** A row of cells as an object of the columns' names (a missing cell is null), for the JSON writers. */
export function rowObject(names: readonly string[], cells: readonly unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i++) o[names[i]] = cells[i] === undefined ? null : cells[i];
  return o;
}
