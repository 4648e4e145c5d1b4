// A results file that resumes exactly: lines are appended and fsynced, then a sidecar cursor
// (`<file>.tg.json`, atomic) records the stream position and the file length they cover. On
// resume the file is cut back to that length (dropping a half-written line, or lines whose
// cursor was never saved: the stream replays them), so nothing is lost or written twice.
import fs from 'node:fs';
import path from 'node:path';
import { atPath, beforeWork, ClosedPipeError, inputError, usageError } from '../errors';
import { makeDir, writeFileAtomic } from './durable';
import { acquireLock, type Lock } from './lock';

export interface CursorState {
  tg: 'cursor';
  v: 1;
  kind: string; // 'watch' | 'fetch-jsonl' | 'fetch-csv'
  group: string;
  last_event_id: string | null;
  bytes: number;
  lines: number;
  counts: Record<string, number>;
  extra?: Record<string, unknown>;
  /** "emulator" for results of the in-process --emulator (whose groups vanish with it). */
  origin?: string;
  updated_at?: string;
}

export const cursorPath = (file: string) => `${file}.tg.json`;

export interface OutputSink {
  /** Queue one line (without newline) that covers the stream up to eventId. */
  line(text: string, status?: string): void;
  setEventId(eventId: string | null): void;
  /** Make queued lines durable and save the cursor. */
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly state: CursorState;
  pendingLines(): number;
}

/** The error a stdout write failed with, as a ClosedPipeError when the reader went away. */
export function stdoutError(e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END' ? new ClosedPipeError() : e;
}

/** Write `s` to a stream, resolving once it is taken (after 'drain' when the stream is full); a closed stdout rejects with ClosedPipeError. */
export function writeOut(out: NodeJS.WritableStream, s: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: unknown) => reject(stdoutError(e));
    out.once('error', onError);
    const ok = out.write(s, (e) => {
      if (e) onError(e);
    });
    const done = () => {
      out.removeListener('error', onError);
      resolve();
    };
    if (ok) done();
    else out.once('drain', done);
  });
}

/** Lines to stdout: no cursor, no resume. A closed stdout rejects the next flush with ClosedPipeError. */
export class StdoutSink implements OutputSink {
  state: CursorState;
  private buf: string[] = [];
  private broken: unknown = null;
  private readonly onError = (e: unknown) => {
    this.broken ??= stdoutError(e);
    this.wake?.();
  };
  private wake: (() => void) | null = null;
  constructor(
    private readonly out: NodeJS.WritableStream,
    kind: string,
    group: string,
  ) {
    this.state = { tg: 'cursor', v: 1, kind, group, last_event_id: null, bytes: 0, lines: 0, counts: {} };
    out.on('error', this.onError);
  }
  line(text: string, status?: string) {
    if (this.broken) throw this.broken;
    this.buf.push(text + '\n');
    this.state.lines++;
    if (status) this.state.counts[status] = (this.state.counts[status] ?? 0) + 1;
    if (this.buf.length >= 256) this.flush().catch(() => undefined); // the next flush reports it
  }
  setEventId(id: string | null) {
    if (id) this.state.last_event_id = id;
  }
  pendingLines() {
    return this.buf.length;
  }
  async flush() {
    if (this.broken) throw this.broken;
    if (!this.buf.length) return;
    const chunk = this.buf.join('');
    this.buf = [];
    let full: boolean;
    try {
      full = !this.out.write(chunk);
    } catch (e) {
      throw (this.broken ??= stdoutError(e));
    }
    if (full) {
      await new Promise<void>((r) => {
        this.wake = r;
        this.out.once('drain', () => r());
      });
      this.wake = null;
    }
    if (this.broken) throw this.broken;
  }
  async close() {
    await this.flush(); // the 'error' listener stays: a late EPIPE must not become an uncaught error
  }
}

/** Buffered output is written (not yet fsynced) once it reaches this many characters. */
const WRITE_AHEAD_CHARS = 256 * 1024;

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

export class FileSink implements OutputSink {
  state: CursorState;
  private fd: number;
  private buf: string[] = [];
  readonly file: string;
  readonly resumed: boolean;

  private constructor(file: string, state: CursorState, fd: number, resumed: boolean) {
    this.file = file;
    this.state = state;
    this.fd = fd;
    this.resumed = resumed;
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
      if (!resumed) sink.saveCursor(); // the cursor exists before the first line does
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

  private saveCursor() {
    this.state.updated_at = new Date().toISOString();
    try {
      writeFileAtomic(cursorPath(this.file), JSON.stringify(this.state) + '\n');
    } catch (e) {
      throw atPath(e, cursorPath(this.file));
    }
  }

  line(text: string, status?: string) {
    this.buf.push(text + '\n');
    this.bufChars += text.length + 1;
    this.pendingCounts.push(status ?? '');
    if (this.bufChars >= WRITE_AHEAD_CHARS) this.guard(() => this.writeAhead());
  }
  private guard<R>(f: () => R): R {
    try {
      return f();
    } catch (e) {
      throw atPath(e, this.file);
    }
  }
  private pendingCounts: string[] = [];
  private bufChars = 0;
  /** Bytes written past state.bytes but not yet fsynced nor covered by the cursor. */
  private unsynced = 0;
  private unsyncedLines = 0;

  /**
   * Write buffered lines to the file without moving the cursor: keeps memory flat between
   * flushes. A kill before the next flush leaves bytes past the cursor, cut off on resume.
   */
  private writeAhead() {
    if (!this.buf.length) return;
    // A buffer a line and one writev: measured twice as fast as encoding the joined text.
    let bytes = 0;
    const bufs = this.buf.map((s) => {
      const b = Buffer.from(s);
      bytes += b.length;
      return b;
    });
    writeAllAt(this.fd, bufs, bytes, this.state.bytes + this.unsynced);
    this.unsynced += bytes;
    this.unsyncedLines += this.buf.length;
    this.buf = [];
    this.bufChars = 0;
  }
  private pendingEventId: string | null = null;

  setEventId(id: string | null) {
    if (id) this.pendingEventId = id;
  }
  pendingLines() {
    return this.buf.length + this.unsyncedLines;
  }

  async flush() {
    if (!this.buf.length && !this.unsynced && (this.pendingEventId === null || this.pendingEventId === this.state.last_event_id)) return;
    this.guard(() => this.writeAhead());
    if (this.unsynced) {
      this.guard(() => fs.fsyncSync(this.fd));
      this.state.bytes += this.unsynced;
      this.state.lines += this.unsyncedLines;
      for (const st of this.pendingCounts) if (st) this.state.counts[st] = (this.state.counts[st] ?? 0) + 1;
      this.unsynced = 0;
      this.unsyncedLines = 0;
      this.pendingCounts = [];
    }
    if (this.pendingEventId !== null) this.state.last_event_id = this.pendingEventId;
    this.saveCursor();
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

  /** The -o lock, held from open to close: one writer per results file. */
  private lock: Lock | null = null;
}

/**
 * With --emulator, a results file left by an earlier --emulator run (its group vanished with that
 * emulator) is replaced, so the README's demo can be run again; results of a real API never are.
 */
export function replaceEmulatorResults(file: string, group: string | null): boolean {
  const cfile = cursorPath(file);
  let state: CursorState;
  try {
    state = JSON.parse(fs.readFileSync(cfile, 'utf8')) as CursorState;
  } catch {
    return false;
  }
  if (state.tg !== 'cursor' || state.origin !== 'emulator' || state.group === group) return false;
  fs.rmSync(file, { force: true });
  fs.rmSync(cfile, { force: true });
  return true;
}
