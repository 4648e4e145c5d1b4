// Pass 1: parse and validate every row; nothing is sent before it ends. Also computes what the
// send pass will check (a digest per chunk of valid rows) and, given the group's ledger, how many
// rows the group already holds and which conflict with it.
import { createHash } from 'node:crypto';
import { inputError } from '../../errors';
import { readNotes, type Row } from '../../io/formats';
import { flat } from '../../core/util';
import { positionIn, rowsOf } from './input';
import { RejectsFile } from '../../io/rejects';
import { prepareRow, formatIssue } from '../../core/spec';
import { hash52 } from '../../core/hash';
import { NumTable } from '../../core/numTable';
import type { ConflictRow } from './conflicts';
import { ContentSet, contentMarks, rowIdent, rowMarks, rowSha, type Ledger, type MarkList, type RowMarks, type RowState } from '../../core/ledger';
import { Bits } from '../../core/bits';
import { BottomK, type Sketch } from '../../core/sketch';
import type { PreparedRow, Job } from './job';

export const MAX_SHOWN_ERRORS = 10;

export interface Validation {
  rows: number;
  valid: number;
  invalid: number;
  errors: string[];
  dropped: string[];
  /** Digest of each chunk of batchSize valid rows (the send pass re-checks them). */
  chunks: string[];
  /** With a ledger: rows the group holds already, rows whose content differs, rows to send. */
  present: number;
  conflicts: number;
  /** The first few conflicting rows, to be named with what differs (see conflicts.ts). */
  conflictRows: ConflictRow[];
  fresh: number;
  /** With a ledger: rows among the first --limit valid ones that are to be sent (new, or changed with --on-conflict resend). */
  toSend: number;
  /** What the read found out that the user should know (the delimiter detected, empty rows skipped): one line each. */
  notes: string[];
  /**
   * Valid rows whose input (as sent, with processor, spec and run options) repeats an earlier
   * valid row's exactly: sent once, answered by that row's run (content identity; --no-dedupe
   * sends each). `repeatAt` holds their positions among the valid rows.
   */
  repeats: number;
  repeatAt: Bits;
  /** The input's content sketch (its distinct rows' k smallest content hashes): finds the job it belongs to from another path. */
  sketch: Sketch;
}

/** Where a row (or its cell) is, for messages: see positionIn. */
export type At = (line: number, column?: string) => string;

/**
 * A valid row's identity and digest, or null for an invalid one (issues go to `onInvalid`,
 * placed by `at`: `f.csv:5`, `f.xlsx:Sheet1!C5`).
 */
export function itemOf(job: Job, row: Row, onInvalid?: (issues: string[]) => void, at: At = positionIn(undefined, job)): PreparedRow | null {
  const textCells = job.cfg.textCells;
  if (row.invalid) {
    onInvalid?.([formatIssue(at(row.line), { rule: 'fields', message: row.invalid.message }, textCells)]);
    return null;
  }
  const p = prepareRow(row.value, row.index, job.cfg);
  if (!p.ok) {
    onInvalid?.(p.issues.map((i) => formatIssue(at(row.line, i.field), i, textCells)));
    return null;
  }
  return { key: p.key, inputJson: p.json, line: row.line };
}

/** The row's digest (tg_sha), computed once. */
export function shaOf(job: Job, it: PreparedRow): string {
  return (it.sha ??= rowSha(it.inputJson, job.processor, job.specSha, job.optionsKey));
}

/** What the ledger knows of a row: its state there (see core/ledger). */
export function ledgerState(job: Job, ledger: Ledger, it: PreparedRow) {
  return ledger.stateOf(...marksOf(job, it));
}

/** The row's slot and presence hashes (see core/ledger). */
export function marksOf(job: Job, it: PreparedRow): RowMarks {
  return rowMarks(job.src, job.cfg.keyColumn, it.key, shaOf(job, it), job.o.dedupe);
}

/**
 * Chunk digests, fed item by item: sha256 over the job's processor and spec and each row's key and
 * input, one hash per chunk (not per row). A chunk the journal recorded with the same digest holds
 * the same rows, sent the same way.
 */
export class ChunkHasher {
  private parts: string[] = [];
  readonly digests: string[] = [];
  private readonly prefix: string;
  constructor(job: Job) {
    // --no-dedupe sends rows a dedupe run answered by another row's run: its chunks are other chunks
    this.prefix = `${job.processor}\0${job.specSha ?? ''}${job.optionsKey ? `\0${job.optionsKey}` : ''}${job.o.dedupe ? '' : '\0no-dedupe'}\n`;
    this.size = job.batchSize;
  }
  private readonly size: number;
  add(it: PreparedRow): string | null {
    this.parts.push(`${it.key}\0${it.inputJson}\n`);
    return this.parts.length < this.size ? null : this.close();
  }
  /** Close the current chunk (if any rows) and return its digest. */
  close(): string | null {
    if (this.parts.length === 0) return null;
    const d = createHash('sha256').update(this.prefix).update(this.parts.join('')).digest('hex').slice(0, 32);
    this.digests.push(d);
    this.parts = [];
    return d;
  }
}

/** --key and --input-column must be columns of a header (one clear error, not one per row). */
function checkHeader(job: Job, columns: string[], at: At): void {
  for (const [opt, col] of [
    ['--key', job.cfg.keyColumn],
    ['--input-column', job.cfg.inputColumn],
  ] as const) {
    if (col !== undefined && !columns.includes(col))
      throw inputError(
        `${at(1)}: the header has no column "${col}" (${opt}); it has: ${columns.map((c) => `"${c}"`).join(', ')}`,
        `Pass ${opt} one of the header's column names (case matters).`,
      );
  }
}

function droppedColumns(job: Job, value: unknown, into: Set<string>) {
  const props = job.cfg.spec?.inputProps;
  if (!props || !value || typeof value !== 'object' || Array.isArray(value)) return;
  for (const k of Object.keys(value)) if (!props.includes(k) && k !== job.cfg.keyColumn) into.add(k);
}

/**
 * Read and validate every row. With a ledger, count the rows against it; with `marks` (the group
 * is still being listed), keep each valid row's hashes for `classify` instead.
 */
export async function validatePass(job: Job, ledger: Ledger | null, writeRejects: boolean, marks?: MarkList): Promise<Validation> {
  const v: Validation = {
    rows: 0,
    valid: 0,
    invalid: 0,
    errors: [],
    dropped: [],
    chunks: [],
    present: 0,
    conflicts: 0,
    conflictRows: [],
    fresh: 0,
    toSend: 0,
    notes: [],
    repeats: 0,
    repeatAt: new Bits(),
    sketch: { n: 0, h: [] },
  };
  const bottom = new BottomK();
  const seen = job.o.dedupe ? new ContentSet() : null;
  const keyHashes = job.cfg.keyColumn !== undefined ? new NumTable(false) : null;
  const suspects = new Set<string>();
  const dropped = new Set<string>();
  const hasher = new ChunkHasher(job);
  const rejects = writeRejects ? new RejectsFile(job.rejectsPath) : null;
  const onInvalid = (row: Row) => (issues: string[]) => {
    v.invalid++;
    if (v.errors.length < MAX_SHOWN_ERRORS) v.errors.push(issues[0]);
    rejects?.add(row.line, row.invalid?.fields ?? row.value, issues);
  };
  try {
    const src = rowsOf(job);
    const at = positionIn(src.info, job);
    for await (const batch of src.batches) {
      for (const row of batch) {
        v.rows++;
        const header = src.info.columns ?? (job.cfg.textCells ? Object.keys(row.value as object) : null);
        if (v.rows === 1 && header) checkHeader(job, header, at);
        if (v.rows === 1 || !header) droppedColumns(job, row.value, dropped); // JSON rows each have their own keys
        const it = itemOf(job, row, onInvalid(row), at);
        if (!it) continue;
        if (keyHashes) {
          const h = hash52(it.key);
          if (keyHashes.has(h)) suspects.add(it.key);
          else keyHashes.set(h);
        }
        v.valid++;
        hasher.add(it);
        const content = contentMarks(shaOf(job, it));
        const repeat = seen !== null && !seen.add(...content);
        if (repeat) {
          v.repeats++;
          v.repeatAt.set(v.valid - 1);
        } else bottom.add(content[0]);
        if (!ledger)
          marks?.push(marksOf(job, it)); // every valid row: classify() skips the repeats
        else if (!repeat) countAgainst(ledger, job, it, v, v.valid <= (job.o.limit ?? Infinity), at);
      }
      if (rejects) await rejects.drained();
    }
    hasher.close();
    v.chunks = hasher.digests;
    v.dropped = [...dropped];
    v.notes = readNotes(src.info);
    v.sketch = bottom.sketch();
    if (suspects.size) await confirmDuplicates(job, suspects);
    await rejects?.finish(v.invalid > 0);
  } catch (e) {
    rejects?.abort(); // its temp file goes, with the rows it held
    throw e;
  }
  return v;
}

/** Count the rows marked during validation against the ledger listed meanwhile (conflicts unnamed). */
export function classify(job: Job, v: Validation, marks: MarkList, ledger: Ledger): void {
  const limit = job.o.limit ?? Infinity;
  for (let i = 0; i < marks.length; i++) if (!v.repeatAt.has(i)) countState(job, v, marks.state(ledger, i), i < limit);
}

function countAgainst(ledger: Ledger, job: Job, it: PreparedRow, v: Validation, inLimit: boolean, at: At) {
  if (countState(job, v, ledgerState(job, ledger, it), inLimit) === 'conflict' && v.conflictRows.length < MAX_SHOWN_ERRORS)
    v.conflictRows.push({ at: at(it.line), key: it.key, ident: rowIdent(job.src, job.cfg.keyColumn, it.key), inputJson: it.inputJson });
}

/** Count one row's state (and, within --limit, whether it is to be sent); returns the state. */
function countState(job: Job, v: Validation, s: RowState, inLimit: boolean): RowState {
  if (inLimit && (s === 'new' || (s === 'conflict' && job.o.onConflict === 'resend'))) v.toSend++;
  if (s === 'present') v.present++;
  else if (s === 'new') v.fresh++;
  else v.conflicts++;
  return s;
}

/** Confirm suspected duplicate keys exactly (hash collisions are possible, duplicates are errors). */
async function confirmDuplicates(job: Job, suspects: Set<string>) {
  const firstLine = new Map<string, number>();
  const dupErrors: string[] = [];
  let dupCount = 0;
  const src = rowsOf(job);
  const at = positionIn(src.info, job);
  for await (const row of flat(src.batches)) {
    if (row.invalid) continue; // rejected already: not a duplicate of anything
    const p = prepareRow(row.value, row.index, job.cfg);
    if (!p.ok || !suspects.has(p.key)) continue;
    const f = firstLine.get(p.key);
    if (f === undefined) firstLine.set(p.key, row.line);
    else {
      dupCount++;
      if (dupErrors.length < MAX_SHOWN_ERRORS)
        dupErrors.push(
          `${at(row.line, job.cfg.keyColumn)}: column "${job.cfg.keyColumn}": duplicate key "${p.key}" (first at ${job.format.unit} ${f}) (unique)`,
        );
    }
  }
  if (dupCount)
    throw rowErrors(
      dupErrors,
      dupCount,
      'duplicate --key value',
      job.shown,
      `Every row needs a unique "${job.cfg.keyColumn}"; fix the input or pick another --key column.`,
    );
}

/** The first error on the first line (file:line: what and why), the rest below, then a summary line. */
export function rowErrorText(errors: string[], count: number, summary: string): string {
  const more = count > errors.length ? [`… and ${count - errors.length} more`] : [];
  return [errors[0], ...errors.slice(1).map((e) => `  ${e}`), ...more.map((m) => `  ${m}`), summary].join('\n');
}

export function rowErrors(errors: string[], count: number, what: string, shown: string, hint: string) {
  return inputError(rowErrorText(errors, count, `${count} ${what}${count === 1 ? '' : 's'} in ${shown}; nothing was sent.`), hint);
}
