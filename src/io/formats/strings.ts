// An append-only store of many strings (an xlsx workbook's shared strings), compact and bounded:
// UTF-8 bytes in 4 MiB pages with their offsets in typed arrays (~10 bytes a string besides its
// text, not a JS string each), and past `memoryBytes` of pages the rest goes to a temp file, read
// back a page at a time through a small cache. Peak memory stays flat whatever the workbook holds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeAllSync } from '../durable';

const PAGE = 4 << 20;

export class StringStore {
  private pages: (Buffer | null)[] = [];
  private page: Buffer;
  private used = 0;
  private starts = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  private n = 0;
  private inMemory = 0;
  private spill: { fd: number; file: string } | null = null;
  private cache = new Map<number, Buffer>();

  constructor(private readonly memoryBytes = 96 << 20) {
    this.page = Buffer.allocUnsafe(PAGE);
  }

  get size(): number {
    return this.n;
  }

  push(s: string): void {
    const len = Buffer.byteLength(s);
    if (len > PAGE) throw new RangeError(`a string of ${len} bytes is over the page size`); // callers bound cells to 1 MiB
    if (this.used + len > PAGE) this.nextPage();
    this.page.write(s, this.used);
    if (this.n === this.starts.length) {
      const starts = new Float64Array(this.n * 2);
      starts.set(this.starts);
      this.starts = starts;
      const lengths = new Uint32Array(this.n * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    this.starts[this.n] = this.pages.length * PAGE + this.used;
    this.lengths[this.n++] = len;
    this.used += len;
  }

  /** String `i`, or undefined past the end. */
  get(i: number): string | undefined {
    if (!(i >= 0 && i < this.n)) return undefined;
    const start = this.starts[i];
    const p = Math.floor(start / PAGE);
    const off = start - p * PAGE;
    const buf = p === this.pages.length ? this.page : (this.pages[p] ?? this.load(p));
    return buf.toString('utf8', off, off + this.lengths[i]);
  }

  /** Close the current page (kept in memory while under the bound, else written to the spill file). */
  private nextPage(): void {
    const full = this.page.subarray(0, this.used);
    if (this.inMemory + full.length <= this.memoryBytes) {
      this.pages.push(Buffer.from(full)); // a copy of its used part only
      this.inMemory += full.length;
    } else {
      if (!this.spill) {
        const file = path.join(os.tmpdir(), `tg-strings-${process.pid}-${Date.now()}.tmp`);
        this.spill = { fd: fs.openSync(file, 'wx+', 0o600), file };
      }
      writeAllSync(this.spill.fd, full, this.pages.length * PAGE, this.spill.file, true);
      this.pages.push(null);
    }
    this.page = Buffer.allocUnsafe(PAGE);
    this.used = 0;
  }

  private load(p: number): Buffer {
    const hit = this.cache.get(p);
    if (hit) return hit;
    const buf = Buffer.allocUnsafe(PAGE);
    fs.readSync(this.spill!.fd, buf, 0, PAGE, p * PAGE);
    if (this.cache.size >= 4) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(p, buf);
    return buf;
  }

  /** Free the pages and remove the spill file. */
  close(): void {
    this.pages = [];
    this.cache.clear();
    if (this.spill) {
      fs.closeSync(this.spill.fd);
      fs.rmSync(this.spill.file, { force: true });
      this.spill = null;
    }
  }
}
