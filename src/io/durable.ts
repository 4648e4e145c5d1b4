// Durable files: an append-only JSON-lines journal (append, fsync), atomic state files (temp,
// fsync, rename), and recovery of a half-written last line.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { atPath, inTempDir } from '../errors';

/**
 * Write a whole file atomically: temp file, fsync, rename, fsync the directory. Mode 0600. The
 * temp file has a random name and is created exclusively (`wx`): a file or symlink planted at a
 * predictable name in a shared directory is never followed.
 */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = tempName(file);
  try {
    const fd = fs.openSync(tmp, 'wx', 0o600);
    try {
      // A write can be short (a disk filling up): the next one then fails with the cause.
      const b = Buffer.from(data);
      for (let off = 0; off < b.length;) off += fs.writeSync(fd, b, off, b.length - off, off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw atPath(e, file, true); // the temporary name is tg's business: the failure is the file's
  }
  try {
    const dfd = fs.openSync(path.dirname(file), 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    /* some filesystems do not allow fsync on directories */
  }
}

/** writeFileAtomic with its file system calls off the main thread (the same steps, in the same order). */
export async function writeFileAtomicAsync(file: string, data: string): Promise<void> {
  const tmp = tempName(file);
  try {
    const fh = await fs.promises.open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(data); // all of it (a short write is written on from where it stopped)
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw atPath(e, file, true); // the temporary name is tg's business: the failure is the file's
  }
  try {
    const dh = await fs.promises.open(path.dirname(file), 'r');
    await dh.sync().finally(() => dh.close());
  } catch {
    /* some filesystems do not allow fsync on directories */
  }
}

const tempName = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(8).toString('hex')}.tmp`);

/**
 * mkdir -p `dir`. Node's recursive mkdir reports ENOENT for other causes (a read-only file
 * system, where a plain mkdir says EROFS): then the missing directories are made one at a time,
 * so that a failure carries its real cause.
 */
export function makeDir(dir: string, mode?: number): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode });
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d) && path.dirname(d) !== d; d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      fs.mkdirSync(d, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/**
 * Write all of `b` at `pos` of `fd`: a write can be short (a disk filling up), and the next one
 * then fails with the cause. A failure names `file` (a descriptor's errors carry no path); `temp`:
 * it is a private temporary file of tg's in TMPDIR.
 */
export function writeAllSync(fd: number, b: Buffer, pos: number, file: string, temp = false): void {
  let off = 0;
  try {
    while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off, pos + off);
  } catch (e) {
    throw temp ? inTempDir(atPath(e, file)) : atPath(e, file);
  }
}

type WriteCb = (e: NodeJS.ErrnoException | null, n: number, data?: unknown) => void;

/**
 * fs.createWriteStream whose every failure names `file` (errors of writes on a descriptor carry no
 * path, and a write's callback sees the error before the stream's 'error' listeners do): through
 * the stream's documented `fs` option, the usual functions with the error named. `file` is the
 * name a failure is reported under (the destination of a temporary file).
 */
export function namedWriteStream(file: string, target: string | number, opts: { mode?: number; flags?: string } = {}): fs.WriteStream {
  const named = (cb: WriteCb) => (e: NodeJS.ErrnoException | null, n: number, data?: unknown) => cb(e && atPath(e, file), n, data);
  const own = {
    open: (p: string, flags: string, mode: number, cb: (e: NodeJS.ErrnoException | null, fd: number) => void) =>
      fs.open(p, flags, mode, (e, fd) => cb(e && atPath(e, file, true), fd)),
    close: fs.close,
    write: (fd: number, b: Buffer, off: number, len: number, pos: number | null, cb: WriteCb) => fs.write(fd, b, off, len, pos, named(cb)),
    writev: (fd: number, bufs: Buffer[], pos: number | null, cb: WriteCb) => fs.writev(fd, bufs, pos, named(cb)),
  };
  return typeof target === 'number'
    ? fs.createWriteStream('', { fd: target, fs: own })
    : fs.createWriteStream(target, { ...opts, fs: own } as Parameters<typeof fs.createWriteStream>[1]);
}

/**
 * Length of the file up to and including its last newline: a half-written last line (a kill in
 * the middle of an append) lies beyond it and is to be dropped.
 */
export function completeLength(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - buf.length);
      const n = fs.readSync(fd, buf, 0, end - start, start);
      const i = buf.subarray(0, n).lastIndexOf(10);
      if (i >= 0) return start + i + 1;
      end = start;
    }
    return 0;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * An append-only JSON-lines file. `append` writes and fsyncs before it returns; `appendDurable`
 * writes at once (records keep their order) and resolves once an fsync issued after the write
 * has completed, off the main thread, so that reading and sending go on meanwhile.
 */
export class AppendLog {
  private fd: number;
  readonly file: string;
  constructor(file: string) {
    this.file = file;
    makeDir(path.dirname(file), 0o700);
    const good = completeLength(file);
    this.fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o600);
    try {
      if (fs.fstatSync(this.fd).size !== good) fs.ftruncateSync(this.fd, good);
    } catch (e) {
      fs.closeSync(this.fd);
      throw atPath(e, file);
    }
    try {
      fs.fchmodSync(this.fd, 0o600);
    } catch {
      /* not ours to change */
    }
    this.pos = good;
  }
  private pos: number;

  /** An fsync of appendSoon's that failed: thrown by the next append. */
  private failed: Error | null = null;

  append(records: unknown[] | unknown): void {
    this.write(records);
    try {
      fs.fsyncSync(this.fd);
    } catch (e) {
      throw atPath(e, this.file);
    }
  }

  appendDurable(records: unknown[] | unknown): Promise<void> {
    this.write(records);
    return new Promise((resolve, reject) => fs.fsync(this.fd, (e) => (e ? reject(atPath(e, this.file)) : resolve())));
  }

  /**
   * Write now, fsync off the main thread without waiting: for records that need to be durable
   * only by the next `append`/`appendDurable` (whose fsync covers them), such as a new journal's
   * header, whose first fsync can take tens of milliseconds.
   */
  appendSoon(records: unknown[] | unknown): void {
    this.write(records);
    fs.fsync(this.fd, (e) => {
      if (e) this.failed ??= atPath(e, this.file);
    });
  }

  private write(records: unknown[] | unknown): void {
    if (this.failed) throw this.failed;
    const list = Array.isArray(records) ? records : [records];
    const text = list.map((r) => JSON.stringify(r) + '\n').join('');
    const b = Buffer.from(text);
    try {
      writeAllSync(this.fd, b, this.pos, this.file);
    } catch (e) {
      // a part written is a torn last line: the next reader drops it, and so does this log
      try {
        fs.ftruncateSync(this.fd, this.pos);
      } catch {
        /* the reader drops it */
      }
      throw e;
    }
    this.pos += b.length;
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/** Read every complete JSON line of a file (the half-written tail, if any, is ignored). */
export async function* readJsonLines<T = unknown>(file: string): AsyncGenerator<T> {
  const end = completeLength(file);
  if (end === 0) return;
  const stream = fs.createReadStream(file, { start: 0, end: end - 1, encoding: 'utf8', highWaterMark: 256 * 1024 });
  let buf = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    buf += chunk;
    let from = 0;
    let i: number;
    while ((i = buf.indexOf('\n', from)) >= 0) {
      const line = buf.slice(from, i);
      from = i + 1;
      if (line.trim()) yield JSON.parse(line) as T;
    }
    buf = buf.slice(from);
  }
}
