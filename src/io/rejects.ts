// The rejects file of --skip-invalid: each invalid row with its line and reasons, as JSON lines,
// written to an exclusive temporary file and renamed into place at the end (removed, with the rows
// it held, when the pass fails).
import fs from 'node:fs';
import path from 'node:path';
import { atPath } from '../errors';
import { makeDir, namedWriteStream } from './durable';

export class RejectsFile {
  private readonly tmp: string;
  private readonly out: fs.WriteStream;
  private wait: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** The stream's error (a full disk; or a write still in flight when abort() destroyed it). */
  private failed: Error | null = null;
  constructor(private readonly file: string) {
    makeDir(path.dirname(file), 0o700);
    this.tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
    this.out = namedWriteStream(this.file, this.tmp, { mode: 0o600, flags: 'wx' });
    this.out.on('error', (e) => {
      this.failed ??= atPath(e, this.file);
      this.wake?.();
    });
  }
  add(line: number, row: unknown, reasons: string[]) {
    if (this.failed) throw this.failed;
    if (!this.out.write(JSON.stringify({ line, reasons, row }) + '\n') && !this.wait)
      this.wait = new Promise<void>((r) => {
        this.wake = r;
        this.out.once('drain', () => r());
      });
  }
  async drained() {
    if (this.wait) await this.wait;
    this.wait = null;
    if (this.failed) throw this.failed;
  }
  /**
   * Stop and remove the temp file (the pass failed: nothing was sent). Removed now, and again when
   * the stream closes (an open still pending would create it after); never waited for.
   */
  abort() {
    const rm = () => fs.rmSync(this.tmp, { force: true });
    this.out.once('close', rm);
    this.out.destroy();
    rm();
  }
  async finish(keep: boolean) {
    if (this.failed) throw this.failed;
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(atPath(err, this.file)) : resolve())));
    if (keep) {
      try {
        fs.renameSync(this.tmp, this.file);
      } catch (e) {
        throw atPath(e, this.file, true);
      }
    } else {
      fs.rmSync(this.tmp, { force: true });
      fs.rmSync(this.file, { force: true });
    }
  }
}
