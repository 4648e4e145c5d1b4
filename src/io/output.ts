// Results to stdout (StdoutSink, no cursor) and writes to a pipe; results files are in fileSink.ts
// (re-exported here with the cursor's types, where the commands import them from).
import fs from 'node:fs';
import { ClosedPipeError } from '../errors';
import { cursorPath, type CursorState, type OutputSink } from './cursor';

export { cursorPath, type CursorState, type OutputSink } from './cursor';
export { FileSink, writeAllAt } from './fileSink';

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
    for (const w of this.wakers) w();
  };
  private readonly wakers = new Set<() => void>();
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
  setExtra(extra: Record<string, unknown>) {
    this.state.extra = extra;
  }
  checkpoint() {
    if (this.broken) throw this.broken;
    this.flush().catch(() => undefined); // the next flush reports it
  }
  drain() {
    if (this.broken) return Promise.reject(this.broken);
    return this.needsDrain() ? this.flush() : null;
  }
  pendingLines() {
    return this.buf.length;
  }
  /** Write what is queued; resolves once the stream has room again (after 'drain' when it is full). */
  async flush() {
    if (this.broken) throw this.broken;
    if (this.buf.length) {
      const chunk = this.buf.join('');
      this.buf = [];
      try {
        this.out.write(chunk);
      } catch (e) {
        throw (this.broken ??= stdoutError(e));
      }
    }
    if (this.needsDrain()) {
      await new Promise<void>((r) => {
        const wake = () => {
          this.wakers.delete(wake);
          r();
        };
        this.wakers.add(wake);
        this.out.once('drain', wake);
      });
    }
    if (this.broken) throw this.broken;
  }
  private needsDrain(): boolean {
    return (this.out as { writableNeedDrain?: boolean }).writableNeedDrain === true;
  }
  async close() {
    await this.flush(); // the 'error' listener stays: a late EPIPE must not become an uncaught error
  }
}

/** A checkpoint (a flush not waited for) at most this often while a listing is copied: what a kill costs to read again. */
export const CHECKPOINT_MS = 1000;

/**
 * What to call after each batch of lines: a promise to wait on while the output is a full pipe
 * (constant memory), else null; at most every `everyMs`, a checkpoint and `tick` (progress).
 */
export function pacer(sink: OutputSink, now: () => number, tick: () => void, everyMs = CHECKPOINT_MS): () => Promise<void> | null {
  let last = now();
  return () => {
    if (now() - last >= everyMs) {
      last = now();
      sink.checkpoint();
      tick();
    }
    return sink.drain();
  };
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
