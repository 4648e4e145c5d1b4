// A results file that resumes exactly: lines are appended and fsynced, then a sidecar cursor
// (`<file>.tg.json`, atomic) records the stream position and the file length they cover. On
// resume the file is cut back to that length (dropping a half-written line, or lines whose
// cursor was never saved: the stream replays them), so nothing is lost or written twice.
import fs from 'node:fs';
import path from 'node:path';
import { atPath, beforeWork, inputError, usageError } from '../errors';
import { makeDir, writeFileAtomic, writeFileAtomicAsync } from './durable';
import { acquireLock, type Lock } from './lock';
import { cursorPath, type CursorState, type OutputSink } from './cursor';

/** Buffered output is written (not yet fsynced) once it reaches this many characters. */
const WRITE_AHEAD_CHARS = 256 * 1024;

const fsyncOf = (fd: number) => new Promise<void>((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve())));

/**
 * Write `bufs` (`total` bytes in all) at `pos`, all of it: one writev (libuv goes on after short
 * writes), then what an error part-way left out is written again from a copy — which throws the
 * error (ENOSPC...) if it persists.
 */
export function writeAllAt(fd: number, bufs: Buffer[], total: number, pos: number, io: Pick<typeof fs, 'writevSync' | 'writeSync'> = fs): void {
  let off = io.writevSync(fd, bufs, pos);
  if (off >= total) return;
  const rest = Buffer.concat(bufs, total);
  while (off < total) off += io.writeSync(fd, rest, off, total - off, pos + off);
}

/** What a flush makes durable: the lines queued before it began, and the cursor as it was then. */
interface Snapshot {
  bytes: number;
  lines: number;
  counts: Record<string, number>;
  eventId: string | null;
  extra: Record<string, unknown> | undefined;
}

/** The cursor `s` moved past the lines of `snap`. */
function advance(s: CursorState, snap: Snapshot): CursorState {
  const next: CursorState = { ...s, bytes: snap.bytes, lines: s.lines + snap.lines, counts: { ...s.counts }, updated_at: new Date().toISOString() };
  for (const [k, v] of Object.entries(snap.counts)) next.counts[k] = (next.counts[k] ?? 0) + v;
  if (snap.eventId !== null) next.last_event_id = snap.eventId;
  if (snap.extra !== undefined) next.extra = snap.extra;
  return next;
}

/**
 * A results file: lines are queued, written ahead in large writes (encoded into one reused buffer,
 * not a buffer a line), and made durable by flushes. A flush takes a snapshot of what was queued
 * (its length, line count, counts, event id, extra), fsyncs off the main thread, then saves that
 * snapshot as the cursor: lines queued meanwhile go on being written, and are covered by the next
 * flush. Flushes run one at a time, in order.
 */
export class FileSink implements OutputSink {
  /** The saved cursor: what is durable. */
  state: CursorState;
  private fd: number;
  readonly file: string;
  readonly resumed: boolean;
  /** Queued lines (without newline), not yet written, and their characters. */
  private texts: string[] = [];
  private chars = 0;
  /** Where the next write goes: past everything written, durable or not. */
  private pos: number;
  /** Lines and counts queued since the last snapshot; the event id and extra to save next. */
  private lines = 0;
  private counts: Record<string, number> = {};
  private eventId: string | null = null;
  private extra: Record<string, unknown> | undefined;
  /** Lines in the snapshot being flushed. */
  private flushingLines = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Flushes asked for and not yet done. */
  private flushes = 0;
  private busy = false;
  private failed: unknown = null;
  private pool = Buffer.allocUnsafe(0);

  private constructor(file: string, state: CursorState, fd: number, resumed: boolean) {
    this.file = file;
    this.state = state;
    this.fd = fd;
    this.resumed = resumed;
    this.pos = state.bytes;
    this.extra = state.extra;
  }

  /**
   * Open (or resume) a results file. A file that exists without a cursor, or whose cursor belongs
   * to another group or kind, is refused rather than overwritten.
   */
  static open(file: string, kind: string, group: string, extraCheck?: (s: CursorState) => void, origin?: string): FileSink {
    const lock = acquireLock(
      `${file}.tg.lock`,
      `writing results of ${group} into ${file}`,
      'Wait for it to finish (or stop it), then run the same command again: it resumes from the file.',
    );
    try {
      return FileSink.openLocked(file, kind, group, extraCheck, origin, lock);
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  private static openLocked(
    file: string,
    kind: string,
    group: string,
    extraCheck: ((s: CursorState) => void) | undefined,
    origin: string | undefined,
    lock: Lock,
  ): FileSink {
    const { state: prior, cfile } = FileSink.check(file, kind, group, extraCheck);
    const fresh: CursorState = { tg: 'cursor', v: 1, kind, group, last_event_id: null, bytes: 0, lines: 0, counts: {}, ...(origin ? { origin } : {}) };
    const resumed = Boolean(prior);
    const state = prior ?? fresh;
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o644);
    } catch (e) {
      throw beforeWork(e); // nothing written yet
    }
    const sink = new FileSink(file, state, fd, resumed);
    try {
      const actual = sink.guard(() => fs.fstatSync(fd).size);
      if (actual < state.bytes)
        throw inputError(
          `${file} is shorter than its cursor says (${actual} < ${state.bytes} bytes): it was changed outside tg`,
          `Delete ${file} and ${cfile} to start over.`,
        );
      if (actual > state.bytes) sink.guard(() => fs.ftruncateSync(fd, state.bytes)); // lines past the cursor are replayed
      if (!resumed) sink.saveFirstCursor(); // the cursor exists before the first line does
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    sink.lock = lock;
    return sink;
  }

  /**
   * Every check `open` makes, writing nothing: run it before the first request so a bad -o fails
   * at once, and open only after the group is known to exist.
   */
  static check(file: string, kind: string, group: string, extraCheck?: (s: CursorState) => void): { state: CursorState | null; cfile: string } {
    const dir = path.dirname(file);
    try {
      makeDir(dir);
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (e) {
      throw beforeWork(e);
    }
    const cfile = cursorPath(file);
    let state: CursorState | null = null;
    if (fs.existsSync(cfile)) {
      try {
        state = JSON.parse(fs.readFileSync(cfile, 'utf8')) as CursorState;
      } catch {
        throw inputError(`${cfile}: cursor file is unreadable`, `Delete ${cfile} and ${file} to start over.`);
      }
      if (state.tg !== 'cursor') throw inputError(`${cfile} is not a tg cursor file`);
      if (state.group !== group) throw inputError(`${file} holds results of group ${state.group}, not ${group}`, 'Pick another -o file.');
      if (state.kind !== kind)
        throw inputError(`${file} was written by \`tg ${state.kind.replace('-', ' --format ')}\`, not this command`, 'Pick another -o file.');
      extraCheck?.(state);
    }
    let size = 0;
    try {
      const st = fs.statSync(file);
      if (st.isDirectory()) throw usageError(`-o ${file} is a directory`);
      size = st.size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (!state && size > 0) {
      throw inputError(
        `${file}: the file exists and is not a tg output (no ${path.basename(cfile)} beside it); not touching it`,
        'Pick another -o file, or move this one away first.',
      );
    }
    return { state, cfile };
  }

  line(text: string, status?: string) {
    if (this.failed) throw this.failed;
    this.texts.push(text);
    this.chars += text.length + 1;
    this.lines++;
    if (status) this.counts[status] = (this.counts[status] ?? 0) + 1;
    if (this.chars >= WRITE_AHEAD_CHARS) this.guard(() => this.writeAhead());
  }
  setEventId(id: string | null) {
    if (id) this.eventId = id;
  }
  setExtra(extra: Record<string, unknown>) {
    this.extra = extra;
  }
  pendingLines() {
    return this.lines + this.flushingLines;
  }
  drain() {
    return null; // writes are synchronous; flushes do not hold lines in memory
  }

  private guard<R>(f: () => R): R {
    try {
      return f();
    } catch (e) {
      throw (this.failed = atPath(e, this.file));
    }
  }

  /**
   * Write the queued lines at the end of the file, without moving the cursor: keeps memory flat
   * between flushes. A kill before the next flush leaves bytes past the cursor, cut off on resume.
   * The lines are encoded into one buffer kept for the next time (at most 3 bytes a character).
   */
  private writeAhead() {
    if (!this.texts.length) return;
    const need = this.chars * 3;
    if (this.pool.length < need) this.pool = Buffer.allocUnsafe(Math.max(need, 1 << 20));
    const b = this.pool;
    let n = 0;
    for (const t of this.texts) {
      n += b.write(t, n);
      b[n++] = 10;
    }
    if (b.length > 4 * WRITE_AHEAD_CHARS * 3) this.pool = Buffer.allocUnsafe(0); // a huge line: not kept
    this.texts = [];
    this.chars = 0;
    writeAllAt(this.fd, [b.subarray(0, n)], n, this.pos);
    this.pos += n;
  }

  /**
   * Everything queued so far made durable, the cursor saved. With no flush under way its snapshot
   * is taken now; else once the one under way is done (and then covers what was queued meanwhile).
   */
  flush(): Promise<void> {
    const p = this.flushes++ ? this.chain.then(() => this.flushNow()) : this.flushNow();
    const done = () => void this.flushes--;
    this.chain = p.then(done, done);
    return p;
  }

  checkpoint() {
    if (this.failed) throw this.failed;
    if (this.busy) return;
    this.busy = true;
    this.flush().then(
      () => (this.busy = false),
      () => (this.busy = false), // kept in this.failed: thrown by the next call
    );
  }

  private async flushNow() {
    if (this.failed) throw this.failed;
    this.guard(() => this.writeAhead());
    const s = this.state;
    const snap: Snapshot = { bytes: this.pos, lines: this.lines, counts: this.counts, eventId: this.eventId, extra: this.extra };
    if (snap.bytes === s.bytes && (snap.eventId === null || snap.eventId === s.last_event_id) && snap.extra === s.extra) return;
    this.lines = 0;
    this.counts = {};
    this.flushingLines = snap.lines;
    let what = this.file;
    try {
      if (snap.bytes > s.bytes) await fsyncOf(this.fd);
      const next = advance(s, snap);
      what = cursorPath(this.file);
      await writeFileAtomicAsync(what, JSON.stringify(next) + '\n');
      this.state = next;
    } catch (e) {
      throw (this.failed = atPath(e, what));
    } finally {
      this.flushingLines = 0;
    }
  }

  async close() {
    try {
      await this.flush();
    } finally {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* closed */
      }
      this.lock?.release();
    }
  }

  /** The first cursor, written before the first line: the file is tg's from the start. */
  private saveFirstCursor() {
    this.state.updated_at = new Date().toISOString();
    try {
      writeFileAtomic(cursorPath(this.file), JSON.stringify(this.state) + '\n');
    } catch (e) {
      throw atPath(e, cursorPath(this.file));
    }
  }

  /** The -o lock, held from open to close: one writer per results file. */
  private lock: Lock | null = null;
}
