// Durable files: an append-only JSON-lines journal (append, fsync), atomic state files (temp,
// fsync, rename), and recovery of a half-written last line.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { atPath } from '../errors';

/**
 * Write a whole file atomically: temp file, fsync, rename, fsync the directory. Mode 0600. The
 * temp file has a random name and is created exclusively (`wx`): a file or symlink planted at a
 * predictable name in a shared directory is never followed.
 */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = tempName(file);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    // the temporary name is tg's business: the failure is the file's
    if (e && typeof e === 'object' && 'code' in e) (e as NodeJS.ErrnoException).path = file;
    throw e;
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
  const fh = await fs.promises.open(tmp, 'wx', 0o600);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
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
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const good = completeLength(file);
    this.fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o600);
    if (fs.fstatSync(this.fd).size !== good) fs.ftruncateSync(this.fd, good);
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
    let off = 0;
    try {
      while (off < b.length) off += fs.writeSync(this.fd, b, off, b.length - off, this.pos + off);
    } catch (e) {
      // a part written is a torn last line: the next reader drops it, and so does this log
      if (off > 0) fs.ftruncateSync(this.fd, this.pos);
      throw atPath(e, this.file);
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
