// What a journal says of its job, without asking the API: the input, the group, the rows sent, and
// whether its last run ended. A journal tg cannot read is a job shown as damaged, never a crash.
import fs from 'node:fs';
import path from 'node:path';
import { readJournal, replayJournal, type JournalRec } from '../../io/journal';
import { lockHolder, type LockOwner } from '../../io/lock';

export interface LocalJob {
  journal: string;
  /** The input's real path, "-" for stdin; null without a header. */
  input: string | null;
  origin: string | null;
  processor: string | null;
  group: string | null;
  createdAt: string | null;
  /** The journal's last write (ms): the last thing tg did for this job on this machine. */
  activityMs: number;
  /** The input's valid rows as the last run that ended counted them, else those of the batches it reached. */
  rows: number | null;
  rowsExact: boolean;
  /** Rows the journal records as in the group (sent, found or held). */
  sent: number;
  /** Rows of POSTs whose answer never came (a kill or an outage mid-POST): a rerun reconciles them. */
  pending: number;
  /** The last run did not end (no `done` after its last record). */
  interrupted: boolean;
  damagedRecords: number;
  /** Why the journal cannot be read at all. */
  unreadable: string | null;
  /** The tg sending for it now, if one holds its lock. */
  submitting: LockOwner | null;
}

/** The journals of `dir` (the state dir's journals/; rejects files and temp files left out). */
export function journalFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(dir, 'journals'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.filter((n) => n.endsWith('.jsonl') && !n.endsWith('.rejects.jsonl') && !n.startsWith('.')).map((n) => path.join(dir, 'journals', n));
}

/** One journal, read (never throws for its content). */
export function readLocalJob(file: string): LocalJob {
  let activityMs = 0;
  try {
    activityMs = fs.statSync(file).mtimeMs;
  } catch {
    /* vanished meanwhile: shown as unreadable below */
  }
  const base: LocalJob = {
    journal: file,
    input: null,
    origin: null,
    processor: null,
    group: null,
    createdAt: null,
    activityMs,
    rows: null,
    rowsExact: false,
    sent: 0,
    pending: 0,
    interrupted: false,
    damagedRecords: 0,
    unreadable: null,
    submitting: lockHolder(`${file}.lock`),
  };
  try {
    const { recs, damaged } = readJournal(file);
    return { ...base, ...fromRecords(recs, damaged) };
  } catch (e) {
    return { ...base, unreadable: (e as Error).message };
  }
}

/** The job as its records tell it. Pure. */
export function fromRecords(recs: JournalRec[], damaged: number): Partial<LocalJob> {
  const replay = replayJournal(recs, damaged);
  const h = replay.header;
  const lastDone = lastIndex(recs, (r) => r.t === 'done');
  const done = lastDone >= 0 ? (recs[lastDone] as Extract<JournalRec, { t: 'done' }>) : null;
  const worked = lastIndex(recs, (r) => r.t !== 'done' && r.t !== 'header');
  let pending = 0;
  const lastSending = new Map<number, Extract<JournalRec, { t: 'sending' }>>();
  for (const r of recs) if (r.t === 'sending') lastSending.set(r.c, r);
  for (const [c, st] of replay.chunks) {
    if (!st.pending) continue;
    const s = lastSending.get(c);
    const offsets = s?.offsets ?? Array.from({ length: st.n }, (_, i) => i);
    pending += st.covered === 'all' ? 0 : offsets.filter((o) => !(st.covered as Set<number>).has(o)).length;
  }
  const interrupted = worked > lastDone;
  const reached = [...replay.chunks.values()].reduce((n, c) => n + c.n, 0);
  const exact = !interrupted && typeof done?.rows === 'number';
  const atLeast = Math.max(reached, done?.rows ?? 0);
  const rows = exact ? (done!.rows as number) : atLeast > 0 ? atLeast : null;
  return {
    input: h ? h.input : null,
    origin: h ? h.origin : null,
    processor: h && typeof h.options?.processor === 'string' ? h.options.processor : null,
    group: replay.group ?? null,
    createdAt: h?.created_at ?? null,
    rows,
    rowsExact: exact,
    sent: replay.knownRuns,
    pending,
    interrupted,
    damagedRecords: damaged,
  };
}

function lastIndex<T>(xs: T[], p: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (p(xs[i])) return i;
  return -1;
}
