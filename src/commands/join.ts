// `tg fetch G --join rows.csv`: the input rows, in order, with each row's result appended.
//
// Pass 1 streams the group's runs (with their stored input and output) into a temporary file and
// indexes them by tg_key (the index holds only keys and offsets). Pass 2 reads the input in order;
// each row takes the run with its key whose stored input matches the row's content (so a
// re-sorted input, or two files sent into one group, never gives a row another row's answer). A
// run whose input differs from its row is an error naming the rows; a join where no key matched
// at all is an error suggesting --key; rows without a finished run are listed and give exit 5.
//
// The output is written to an exclusive temporary file beside it and renamed into place; tg
// replaces only a file it wrote itself (a `<file>.tg.json` marker beside it) unless --force, and
// never the input itself.
import { count } from '../core/util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Context } from '../context';
import { EXIT, InterruptedError, TgError, inputError, usageError } from '../errors';
import { csvLine, flatten, orderColumns } from '../core/flatten';
import { detectFormat, readRows, type Row } from '../io/rows';
import { cursorPath, ClosedPipeError, stdoutError } from '../io/output';
import { writeFileAtomic } from '../io/durable';
import type { ApiClient } from '../api/client';
import type { TaskRunEvent } from '../api/types';
import type { FetchOptions } from './fetch';

type JoinOptions = FetchOptions & { group: string; join: string };

/** The marker beside a file written by --join -o: proof that tg may replace it. */
interface JoinMarker {
  tg: 'join';
  group: string;
  input: string;
}

export async function fetchJoin(o: JoinOptions, ctx: Context): Promise<number> {
  const inFormat = detectFormat(o.join);
  const file = path.resolve(ctx.io.cwd, o.join);
  const dest = o.output ? path.resolve(ctx.io.cwd, o.output) : null;
  if (dest) checkJoinTarget(dest, file, Boolean(o.force), 'fetch --join');
  const client = await ctx.client();
  await client.getGroup(o.group, ctx.signal);
  const index = new RunIndex();
  try {
    await index.load(client, o.group, ctx);
    const outFormat = o.format ?? (inFormat === 'csv' ? 'csv' : 'jsonl');
    const target = dest ? TempOutput.create(dest) : null;
    const out = target ? target.stream : ctx.io.stdout;
    let r: JoinResult;
    try {
      // A pipe (mkfifo, <(…)) can be read once: it is checked as it is written, as -o files are.
      // Rows with the wrong number of fields are read as rows (never sent: see runFor), as submit --skip-invalid reads them.
      const rows = () => readRows(file, inFormat, file, { ragged: true });
      if (!target && fs.statSync(file, { throwIfNoEntry: false })?.isFile()) await verifyJoin(rows(), index, o);
      r = await writeJoined(rows(), index, out, outFormat, o);
      checkJoin(r, index, o);
      if (target) await target.commit({ tg: 'join', group: o.group, input: file });
    } finally {
      target?.discard();
    }
    return report(r, index, o, ctx);
  } catch (e) {
    if (e instanceof ClosedPipeError || stdoutError(e) instanceof ClosedPipeError) return EXIT.CLOSED_PIPE;
    if (ctx.signal.aborted) throw new InterruptedError('Run the same command again: the join starts over.');
    if (e instanceof TgError) throw e;
    throw inputError(`--join failed: ${(e as Error).message}`);
  } finally {
    index.close();
  }
}

/**
 * Where --join -o may write: never the input itself; an existing non-empty file only if tg wrote
 * it by --join (its marker is beside it) or with --force — never a watch/fetch -o file.
 */
export function checkJoinTarget(dest: string, input: string, force: boolean, by: 'fetch --join' | 'submit --watch'): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (st.isDirectory()) throw usageError(`-o ${dest} is a directory`);
  const inSt = fs.statSync(input, { throwIfNoEntry: false });
  if (inSt && inSt.ino === st.ino && inSt.dev === st.dev)
    throw usageError(`-o ${dest} is the ${by === 'fetch --join' ? '--join ' : ''}input itself; tg never replaces its input`, 'Pick another -o file.');
  let marker: { tg?: string } | null = null;
  try {
    marker = JSON.parse(fs.readFileSync(cursorPath(dest), 'utf8'));
  } catch {
    marker = null;
  }
  if (marker?.tg === 'cursor')
    throw usageError(`-o ${dest} holds \`tg watch\`/\`tg fetch\` results (a cursor is beside it); not replacing it`, 'Pick another -o file.');
  if (marker?.tg === 'join' || force || st.size === 0) return;
  throw usageError(
    `-o ${dest}: the file exists and was not written by tg; not replacing it`,
    `Pick another -o file, or add --force to \`tg ${by}\` to replace it.`,
  );
}

/** An exclusive temporary file beside `dest` (random name, `wx`), renamed into place on commit. */
export class TempOutput {
  private done = false;
  private constructor(
    readonly dest: string,
    readonly tmp: string,
    readonly stream: fs.WriteStream,
  ) {}

  static create(dest: string): TempOutput {
    const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(8).toString('hex')}.tmp`);
    const fd = fs.openSync(tmp, 'wx', 0o644);
    return new TempOutput(dest, tmp, fs.createWriteStream('', { fd }));
  }

  async commit(marker: JoinMarker & Record<string, unknown>) {
    await new Promise<void>((resolve, reject) => this.stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
    const fd = fs.openSync(this.tmp, 'r+');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    writeFileAtomic(cursorPath(this.dest), JSON.stringify(marker) + '\n'); // first: a crash leaves the old file, still ours
    fs.renameSync(this.tmp, this.dest);
    this.done = true;
  }

  discard() {
    if (this.done) return;
    this.stream.on('error', () => undefined); // writes still queued fail quietly: the file goes
    this.stream.destroy();
    fs.rmSync(this.tmp, { force: true });
  }
}

export interface StoredRun {
  flat: Record<string, unknown>;
  input: unknown;
  /** The run's output (with its basis) and attempt (tg_try; 1 when absent): kept for the enriched CSV of submit. */
  output?: TaskRunEvent['output'];
  attempt?: number;
}

/** The group's runs on disk (a temporary file), indexed by tg_key → offsets of the runs with that key. */
export class RunIndex {
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-join-'));
  private readonly fd = fs.openSync(path.join(this.dir, 'runs.jsonl'), 'wx+', 0o600);
  private readonly byKey = new Map<string, number[]>();
  private pos = 0;
  readonly outNames: string[] = [];
  runs = 0;
  constructor(private readonly keepOutput = false) {}

  async load(client: ApiClient, group: string, ctx: Context) {
    const names = new Set<string>();
    const stream = client.streamRuns(group, {
      includeInput: true,
      includeOutput: true,
      signal: ctx.signal,
      giveUpMs: ctx.giveUpMs,
      idleMs: Math.min(ctx.giveUpMs, 60_000),
    });
    for await (const ev of stream) {
      if (ev.type !== 'task_run.state') continue;
      const key = ev.run.metadata?.tg_key;
      if (key === undefined) continue;
      const flat = flatten({ run: ev.run, output: ev.output });
      for (const k of Object.keys(flat)) {
        if (names.has(k)) continue;
        names.add(k);
        this.outNames.push(k);
      }
      const attempt = Number(ev.run.metadata?.tg_try ?? 1) || 1;
      const stored: StoredRun = { flat, input: ev.input?.input, attempt, ...(this.keepOutput ? { output: ev.output } : {}) };
      const b = Buffer.from(JSON.stringify(stored));
      fs.writeSync(this.fd, b, 0, b.length, this.pos);
      const at = this.byKey.get(String(key));
      if (at) at.push(this.pos, b.length);
      else this.byKey.set(String(key), [this.pos, b.length]);
      this.pos += b.length;
      this.runs++;
    }
  }

  get keys() {
    return this.byKey.size;
  }

  /** The runs stored under a key (usually one; more when several files were sent into one group). */
  get(key: string): StoredRun[] {
    const at = this.byKey.get(key);
    if (!at) return [];
    const out: StoredRun[] = [];
    for (let i = 0; i < at.length; i += 2) {
      const b = Buffer.alloc(at[i + 1]);
      fs.readSync(this.fd, b, 0, b.length, at[i]);
      out.push(JSON.parse(b.toString('utf8')) as StoredRun);
    }
    return out;
  }

  close() {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A CSV cell, a JSON value and a run's (schema-coerced) input field, compared as text. */
function sameValue(cell: unknown, sent: unknown): boolean {
  const text = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const a = text(cell);
  const b = text(sent);
  if (a === b) return true;
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(Number(a)) && Number(a) === Number(b)) return true; // "1.50" vs 1.5
  return false;
}

/** Does a run's stored input match a row? Every field the run was sent must equal the row's. */
export function inputMatchesRow(row: unknown, input: unknown): boolean {
  if (input === undefined) return true; // the run stream did not carry the input: nothing to check
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    if (!row || typeof row !== 'object') return false;
    const r = row as Record<string, unknown>;
    return Object.entries(input as Record<string, unknown>).every(([k, v]) => k in r && sameValue(r[k], v));
  }
  // --input-column: the run was sent one column's text
  if (row && typeof row === 'object') return Object.values(row as Record<string, unknown>).some((v) => sameValue(v, input));
  return sameValue(row, input);
}

export interface JoinResult {
  count: number;
  matched: number;
  failed: number;
  /** Line numbers of rows without a finished run (first few), and how many. */
  open: number[];
  openCount: number;
  mismatched: number[];
  mismatchCount: number;
}

export const FINISHED = new Set(['completed', 'failed', 'cancelled']);
const LIST = 10;

/**
 * The run of one row: of the runs under its key whose input matches, the latest attempt (a row
 * sent again by --retry-failed has several); run null when none matches, keyed false when no run
 * has the key.
 */
export function runFor(row: Row, index: RunIndex, o: { key?: string }): { run: StoredRun | null; keyed: boolean } {
  if (row.invalid) return { run: null, keyed: false }; // never sent (--skip-invalid): its key may be another row's
  const key = o.key !== undefined ? String((row.value as Record<string, unknown>)?.[o.key] ?? '') : String(row.index + 1);
  const runs = index.get(key);
  if (!runs.length) return { run: null, keyed: false };
  let best: StoredRun | null = null;
  for (const r of runs) if (inputMatchesRow(row.value, r.input) && (!best || (r.attempt ?? 1) >= (best.attempt ?? 1))) best = r;
  return { run: best, keyed: true };
}

const emptyResult = (): JoinResult => ({ count: 0, matched: 0, failed: 0, open: [], openCount: 0, mismatched: [], mismatchCount: 0 });

/** One row's run, counted into r: matched by key, mismatched, unfinished, failed. */
function tally(r: JoinResult, row: Row, index: RunIndex, o: { key?: string }): { run: StoredRun | null; res: Record<string, unknown> } {
  r.count++;
  const { run, keyed } = runFor(row, index, o);
  if (keyed) r.matched++;
  if (keyed && !run && r.mismatchCount++ < LIST) r.mismatched.push(row.line);
  const res = run?.flat ?? {};
  if (!row.invalid && !FINISHED.has(String(res.status)) && !(keyed && !run) && r.openCount++ < LIST) r.open.push(row.line);
  if (res.status === 'failed' || res.status === 'cancelled') r.failed++;
  return { run, res };
}

/** To stdout, whatever is written cannot be taken back: check every row of a file first (a read of it, nothing written). */
async function verifyJoin(rows: AsyncIterable<Row>, index: RunIndex, o: JoinOptions): Promise<void> {
  const r = emptyResult();
  for await (const row of rows) tally(r, row, index, o);
  checkJoin(r, index, o);
}

/** Pass 2: every input row in order, with its run's columns (CSV) or as `tg` (JSONL). */
async function writeJoined(
  rows: AsyncIterable<Row>,
  index: RunIndex,
  out: NodeJS.WritableStream,
  format: 'jsonl' | 'csv',
  o: JoinOptions,
): Promise<JoinResult> {
  const r = emptyResult();
  const outCols = orderColumns(index.outNames.length ? index.outNames : ['run_id', 'status', 'error']);
  const safe = !o.rawCsv;
  let header: string[] | null = null;
  for await (const row of rows) {
    const { run, res } = tally(r, row, index, o);
    let text: string;
    if (format === 'csv') {
      const v = (row.value && typeof row.value === 'object' ? row.value : { input: row.value }) as Record<string, unknown>;
      if (!header) {
        header = Object.keys(v);
        const inCols = header;
        await write(out, csvLine([...inCols, ...outCols.map((c) => (inCols.includes(c) ? `tg_${c}` : c))]) + '\n');
      }
      text = csvLine([...header.map((c) => v[c]), ...outCols.map((c) => res[c])], safe);
    } else {
      const base = row.value && typeof row.value === 'object' && !Array.isArray(row.value) ? { ...(row.value as object) } : { input: row.value };
      text = JSON.stringify({ ...base, tg: run ? res : null });
    }
    await write(out, text + '\n');
  }
  return r;
}

export function write(out: NodeJS.WritableStream, s: string): Promise<void> | undefined {
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

/** A join that cannot be trusted is an error (nothing is written in place of -o). */
export function checkJoin(r: JoinResult, index: RunIndex, o: { join: string; group: string; key?: string }): void {
  const lines = (l: number[], n: number) => `line${n === 1 ? '' : 's'} ${l.join(', ')}${n > l.length ? ` and ${n - l.length} more` : ''}`;
  if (r.mismatchCount) {
    throw new TgError(
      'join_mismatch',
      `${r.mismatchCount} rows of ${o.join} do not match the input of the run with their key (${lines(r.mismatched, r.mismatchCount)})`,
      EXIT.USAGE,
      `The file changed since it was submitted (re-sorted or edited), or other rows were sent into ${o.group} under the same keys. Join the file as it was submitted${o.key === undefined ? ', or the same --key used at submit' : ''}.`,
    );
  }
  if (r.count > 0 && index.runs > 0 && r.matched === 0) {
    const hint =
      o.key === undefined
        ? 'If the rows were submitted with --key <column>, pass the same --key here.'
        : `Check --key ${o.key}: it must be the --key used at submit.`;
    throw new TgError('join_no_match', `no row of ${o.join} matched a run of ${o.group} by its key (${index.keys} keys in the group)`, EXIT.USAGE, hint);
  }
}

function report(r: JoinResult, index: RunIndex, o: JoinOptions, ctx: Context): number {
  ctx.info(`tg: joined ${count(r.count, 'row')} of ${o.join} with ${count(index.runs, 'run')} of ${o.group}${o.output ? ` into ${o.output}` : ''}`);
  if (r.openCount) {
    const more = r.openCount > r.open.length ? ` and ${r.openCount - r.open.length} more` : '';
    ctx.warn(`tg: ${r.openCount} of ${r.count} rows have no finished run yet (left blank): line ${r.open.join(', ')}${more}`);
    return EXIT.PENDING;
  }
  return r.failed ? EXIT.RUNS_FAILED : EXIT.OK;
}
