// The submit journal: a local cache of what this input sent where, so the common resume needs no
// listing of the group. Append-only JSON lines, each fsynced; "sending" before a POST, "sent" with
// the run ids after. A torn last line (a kill mid-append) is dropped; a garbled line elsewhere is
// skipped with a warning and the group is listed instead (it is the ledger; this is a cache).
import fs from 'node:fs';
import { completeLength } from './durable';
import { inputError } from '../errors';

export const JOURNAL_VERSION = 2;

export type JournalRec =
  | { t: 'header'; v: number; identity: string; src: string; origin: string; input: string; options: Record<string, unknown>; created_at: string }
  | { t: 'group'; id: string; created: boolean }
  | { t: 'sending'; g: string; c: number; h: string; n: number; offsets?: number[] }
  | { t: 'sent'; g: string; c: number; offsets?: number[]; run_ids: string[]; run_cursor: string | null }
  | { t: 'found'; g: string; c: number; offsets: number[]; run_ids: string[] }
  | { t: 'held'; g: string; c: number; h: string; n: number; offsets?: number[]; /** rows repeating another row's content: no run of their own */ same?: true }
  | { t: 'sketch'; n: number; h: number[] }
  | { t: 'done'; g: string; submitted: number; at: string; /** the input's valid rows (tg jobs); absent before L6 */ rows?: number };

/** What the journal knows of one chunk (batchSize valid rows) of the input. */
export interface ChunkState {
  n: number;
  h: string;
  covered: Set<number> | 'all';
  /** A "sending" whose outcome was never learnt. */
  pending: boolean;
  /** Run cursor to reconcile a pending send from. */
  scanFrom: string | null;
  /** Covered rows that repeat another row's content: they add no run. */
  same: number;
}

export interface Replay {
  header?: Extract<JournalRec, { t: 'header' }>;
  /** The input's content sketch, once recorded (see core/sketch.ts). */
  sketch?: Extract<JournalRec, { t: 'sketch' }>;
  group?: string;
  chunks: Map<number, ChunkState>;
  lastSentCursor: string | null;
  /** Runs the journal accounts for: the group holds at least these; exactly these allows the fast path. */
  knownRuns: number;
  damaged: number;
}

export function coveredCount(c: ChunkState): number {
  return c.covered === 'all' ? c.n : c.covered.size;
}

export function cover(c: ChunkState, offsets: number[] | undefined) {
  if (c.covered === 'all') return;
  if (!offsets) {
    c.covered = 'all';
    return;
  }
  for (const o of offsets) c.covered.add(o);
  if (c.covered.size >= c.n) c.covered = 'all';
}

/** Replay records into per-chunk state. Pure. */
export function replayJournal(recs: JournalRec[], damaged = 0): Replay {
  const r: Replay = { chunks: new Map(), lastSentCursor: null, knownRuns: 0, damaged };
  for (const rec of recs) {
    if (rec.t === 'header') r.header = rec;
    else if (rec.t === 'sketch') r.sketch = rec;
    else if (rec.t === 'group') r.group = rec.id;
    else if (rec.t === 'sending') {
      r.group ??= rec.g;
      let c = r.chunks.get(rec.c);
      if (!c || c.h !== rec.h || c.n !== rec.n) r.chunks.set(rec.c, (c = { n: rec.n, h: rec.h, covered: new Set(), pending: true, scanFrom: null, same: 0 }));
      c.pending = true;
      c.scanFrom = r.lastSentCursor;
    } else if (rec.t === 'held') {
      r.group ??= rec.g;
      let c = r.chunks.get(rec.c);
      if (!c || c.h !== rec.h || c.n !== rec.n) r.chunks.set(rec.c, (c = { n: rec.n, h: rec.h, covered: new Set(), pending: false, scanFrom: null, same: 0 }));
      const before = coveredCount(c);
      cover(c, rec.offsets);
      if (rec.same) c.same += coveredCount(c) - before;
    } else if (rec.t === 'sent' || rec.t === 'found') {
      r.group ??= rec.g;
      const c = r.chunks.get(rec.c);
      if (!c) continue;
      cover(c, rec.offsets);
      if (rec.t === 'sent') r.lastSentCursor = rec.run_cursor ?? r.lastSentCursor;
      c.pending = false;
    }
  }
  // Rows of the current chunks the group is known to hold. Runs of a chunk recorded earlier with
  // other rows (the input changed) are not counted: if the group holds such runs, its count
  // exceeds this and the group is listed.
  for (const c of r.chunks.values()) r.knownRuns += coveredCount(c) - c.same;
  return r;
}

const KNOWN = new Set(['header', 'group', 'sending', 'sent', 'found', 'held', 'sketch', 'done']);

/**
 * The head of a journal (its first records: header, group, sketch), read without the rest: enough
 * to tell which input it was, into which group, and what content it held.
 */
export function journalHead(file: string, bytes = 64 * 1024): JournalRec[] {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(bytes);
      text = buf.subarray(0, fs.readSync(fd, buf, 0, bytes, 0)).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
  const recs: JournalRec[] = [];
  for (const line of text.split('\n').slice(0, -1)) {
    try {
      const r = JSON.parse(line);
      if (r && typeof r === 'object' && KNOWN.has(r.t)) recs.push(r as JournalRec);
    } catch {
      /* a torn or garbled line: the journal's reader says so */
    }
  }
  return recs;
}

/**
 * Read a journal: complete lines only; lines that do not parse as records are counted as damaged.
 * An unknown version is an error (a newer tg wrote it); so is a file that is not a journal at all.
 */
export function readJournal(file: string): { recs: JournalRec[]; damaged: number } {
  const end = completeLength(file);
  if (end === 0) return { recs: [], damaged: 0 };
  const fd = fs.openSync(file, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(end);
    fs.readSync(fd, buf, 0, end, 0);
    text = buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
  const recs: JournalRec[] = [];
  let damaged = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let rec: JournalRec | null = null;
    try {
      const r = JSON.parse(line);
      if (r && typeof r === 'object' && KNOWN.has(r.t)) rec = r as JournalRec;
    } catch {
      /* counted below */
    }
    if (!rec) damaged++;
    else recs.push(rec);
  }
  const header = recs.find((r) => r.t === 'header') as Extract<JournalRec, { t: 'header' }> | undefined;
  if (header && header.v !== JOURNAL_VERSION) {
    const group = recs.find((r) => r.t === 'group') as { id: string } | undefined;
    throw inputError(
      `${file}: a tg journal of version ${JSON.stringify(header.v)}; this tg reads version ${JOURNAL_VERSION}`,
      header.v < JOURNAL_VERSION && group
        ? `It was written by an older tg for group ${group.id}. Pass --group ${group.id} (and --state with a new file name): tg lists that group and sends only the rows it lacks.`
        : 'Use the tg that wrote it, or pass --state with another file.',
    );
  }
  if (!header && recs.length === 0 && damaged > 0 && damaged === text.split('\n').filter((l) => l.trim()).length && !looksLikeJournal(text))
    throw inputError(`${file}: not a tg journal`, 'Pass --state a journal tg wrote, or a new file name.');
  return { recs, damaged };
}

function looksLikeJournal(text: string): boolean {
  return /"t":"(header|group|sending|sent|found|held|done)"/.test(text);
}
