// `tg submit`: validate every row, then add them as runs exactly once, at the rate limit.
//
// Exactly once: each batch is journalled as "sending" (fsync) before its POST and "sent" with
// its run ids after. A POST whose outcome is unknown (lost response, 5xx, kill mid-POST) is
// reconciled by listing the group's runs after the last known cursor and matching the
// (tg_src, tg_key) metadata of its rows; only rows not found are sent again.
import fs from 'node:fs';
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from '../context';
import { ApiError, EXIT, InterruptedError, NetworkError, TgError, UnknownOutcomeError, inputError, usageError } from '../errors';
import { detectFormat, readRows, spoolStdin, type Format } from '../io/rows';
import { loadSpec, prepareRow, formatIssue, type LoadedSpec, type PrepareConfig } from '../core/spec';
import { parseKeyValues } from '../core/kv';
import { RunBudget, parseRate } from '../core/rateBudget';
import { planBatches, formatDuration } from '../core/plan';
import { backoffDelay } from '../core/backoff';
import { hash52 } from '../core/hash';
import { errnoText, sleep } from '../core/util';
import { AppendLog, readJsonLines } from '../io/durable';
import { Progress } from '../io/progress';
import type { ApiClient } from '../api/client';
import type { TaskGroupRunResponse } from '../api/types';

export interface SubmitOptions {
  input: string;
  group?: string;
  spec?: string;
  processor: string;
  format?: Format;
  key?: string;
  inputColumn?: string;
  metadata?: string[];
  batchSize: number;
  rate: string;
  state?: string;
  dryRun?: boolean;
  skipInvalid?: boolean;
  restart?: boolean;
  watch?: boolean;
  output?: string;
  timeout?: string;
}

export interface SubmitSummary {
  taskgroup_id: string | null;
  submitted: number;
  skipped: number;
  rejected: number;
  rows: number;
  batches: number;
  state: string | null;
  elapsed_ms: number;
  rate_limited: number;
}

interface BatchState {
  n: number;
  first: number;
  covered: Set<number> | 'all';
  pending: boolean; // a "sending" not yet resolved
  scanFrom: string | null; // run cursor to reconcile from
}

type JournalRec =
  | { t: 'header'; v: number; nonce: string; input_sha256: string; options_sha256: string; options: Record<string, unknown>; input: string; created_at: string }
  | { t: 'group'; id: string; created: boolean }
  | { t: 'sending'; b: number; first: number; n: number; offsets?: number[] }
  | { t: 'sent'; b: number; offsets?: number[]; run_ids: string[]; run_cursor: string | null; event_cursor: string | null }
  | { t: 'found'; b: number; offsets: number[]; run_ids: string[] }
  | { t: 'done'; submitted: number; at: string };

const MAX_SHOWN_ERRORS = 10;

export function defaultStatePath(cwd: string, input: string, group?: string): string {
  const abs = path.resolve(cwd, input);
  const h = createHash('sha256').update(abs + '\0' + (group ?? '')).digest('hex').slice(0, 10);
  const base = path.basename(input).replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(cwd, '.tg', `${base}-${h}.json`);
}

function coveredCount(b: BatchState): number {
  return b.covered === 'all' ? b.n : b.covered.size;
}

function cover(b: BatchState, offsets: number[] | undefined) {
  if (b.covered === 'all') return;
  if (!offsets) {
    b.covered = 'all';
    return;
  }
  for (const o of offsets) b.covered.add(o);
  if (b.covered.size >= b.n) b.covered = 'all';
}

/** Replay a journal into per-batch state. Pure over the records. */
export function replayJournal(recs: JournalRec[]) {
  let header: Extract<JournalRec, { t: 'header' }> | undefined;
  let group: string | undefined;
  let lastSentCursor: string | null = null;
  let done = false;
  const batches = new Map<number, BatchState>();
  for (const r of recs) {
    if (r.t === 'header') header = r;
    else if (r.t === 'group') group = r.id;
    else if (r.t === 'sending') {
      let b = batches.get(r.b);
      if (!b) batches.set(r.b, (b = { n: r.n, first: r.first, covered: new Set(), pending: true, scanFrom: lastSentCursor }));
      b.pending = true;
      b.scanFrom = lastSentCursor;
    } else if (r.t === 'sent' || r.t === 'found') {
      // The last "sending" of this batch is resolved: by an answer, or by a reconciliation.
      const b = batches.get(r.b);
      if (!b) continue;
      cover(b, r.offsets);
      if (r.t === 'sent') lastSentCursor = r.run_cursor ?? lastSentCursor;
      b.pending = false;
    } else if (r.t === 'done') done = true;
  }
  return { header, group, batches, lastSentCursor, done };
}

interface Item {
  key: string;
  input: string | Record<string, unknown>;
}

export async function submit(o: SubmitOptions, ctx: Context): Promise<number> {
  if (o.watch && !o.dryRun) return submitAndWatch(o, ctx);
  const summary = await runSubmit(o, ctx);
  if (!summary) return EXIT.OK; // dry run printed its plan
  if (ctx.global.json) {
    ctx.io.stdout.write(JSON.stringify({ taskgroup_id: summary.taskgroup_id, submitted: summary.submitted, skipped: summary.skipped, rejected: summary.rejected }) + '\n');
  } else ctx.io.stdout.write(`${summary.taskgroup_id}\n`);
  return EXIT.OK;
}

/** `submit --watch`: results are watched while batches are still being sent; one progress display. */
async function submitAndWatch(o: SubmitOptions, ctx: Context): Promise<number> {
  const { watch } = await import('./watch');
  const child = new AbortController();
  setMaxListeners(0, child.signal);
  const onAbort = () => child.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const wctx: Context = { ...ctx, signal: child.signal };
  let expected: number | undefined;
  let sent = 0;
  let watchP: Promise<number> | null = null;
  let settle!: (ok: boolean) => void;
  const submitting = new Promise<boolean>((r) => (settle = r));
  try {
    try {
      await runSubmit(o, ctx, {
        noProgress: true,
        onPlan: (n) => (expected = n),
        onSent: (n) => (sent = n),
        onGroup: (id) => {
          ctx.info(`tg: watching ${id}${o.output ? ` into ${o.output}` : ''} while submitting`);
          watchP = watch({ group: id, output: o.output, timeout: o.timeout }, wctx, {
            submitting,
            expected: () => expected,
            extra: () => (expected !== undefined && sent < expected ? ` | sent ${sent}/${expected}` : ''),
          });
          watchP.catch(() => undefined);
        },
      });
      settle(true);
    } catch (e) {
      settle(false);
      child.abort(e);
      if (watchP) await (watchP as Promise<number>).catch(() => undefined);
      throw e;
    }
    if (!watchP) return EXIT.OK;
    return await (watchP as Promise<number>);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** The submit pipeline. Returns null for --dry-run (after printing the plan). */
export interface SubmitHooks {
  onGroup?: (id: string) => void;
  onPlan?: (validRows: number) => void;
  onSent?: (rowsSentOrSkipped: number) => void;
  noProgress?: boolean;
}

export async function runSubmit(o: SubmitOptions, ctx: Context, hooks: SubmitHooks = {}): Promise<SubmitSummary | null> {
  const t0 = ctx.clock.now();
  if (o.output && !o.watch) throw usageError('-o/--output goes with --watch on submit', 'Add --watch, or use `tg watch <group> -o file` afterwards.');
  if (!(o.batchSize >= 1 && o.batchSize <= 1000)) throw usageError('--batch-size must be 1 to 1000');
  let rate: { limit: number; windowMs: number } | null;
  try {
    rate = parseRate(o.rate);
  } catch (e) {
    throw usageError(`--rate: ${(e as Error).message}`);
  }
  const rateText = rate ? `${rate.limit}/${rate.windowMs / 1000}s` : 'off';
  const userMeta = parseKeyValues(o.metadata, '--metadata');
  if (o.input !== '-') {
    let st: fs.Stats;
    try {
      st = fs.statSync(path.resolve(ctx.io.cwd, o.input));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw inputError(`${o.input}: cannot read the input (${errnoText(code)})`, code === 'ENOENT' ? 'Check the path; use - to read stdin.' : undefined);
    }
    if (st.isDirectory()) throw inputError(`${o.input}: is a directory, not an input file`, 'Pass a .csv, .json or .jsonl file (optionally .gz), or - for stdin.');
  }
  const format = detectFormat(o.input, o.format);
  const stateDir = path.join(ctx.io.cwd, '.tg');

  // ----- the input (stdin is spooled so it can be read twice) -----
  let file = o.input;
  let spool: string | null = null;
  if (o.input === '-') {
    spool = await spoolStdin(ctx.io.stdin, stateDir);
    file = spool;
  } else file = path.resolve(ctx.io.cwd, o.input);
  const shown = o.input === '-' ? '<stdin>' : o.input;
  try {
    // ----- spec -----
    let spec: LoadedSpec | null = null;
    if (o.spec) {
      let text: string;
      try {
        text = fs.readFileSync(path.resolve(ctx.io.cwd, o.spec), 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw inputError(`${o.spec}: cannot read the spec (${errnoText(code)})`, 'Pass --spec a TaskSpec JSON file: {"input_schema": …, "output_schema": …}.');
      }
      spec = await loadSpec(o.spec, text, format === 'csv');
      for (const w of spec.warnings) ctx.warn(`tg: warning: ${w}`);
    }
    const cfg: PrepareConfig = { format, inputColumn: o.inputColumn, keyColumn: o.key, spec };
    const batchSize = rate ? Math.min(o.batchSize, Math.floor(rate.limit)) : o.batchSize;
    if (batchSize < o.batchSize) ctx.info(`tg: batch size lowered to ${batchSize} to fit the --rate budget`);

    const statePath = o.state ? path.resolve(ctx.io.cwd, o.state) : o.input === '-' ? path.join(stateDir, `stdin-${process.pid}-${Date.now()}.json`) : defaultStatePath(ctx.io.cwd, o.input, o.group);
    const rejectsPath = `${statePath}.rejects.jsonl`;

    // ----- pass 1: parse and validate every row; nothing is sent before this ends -----
    const v = await validatePass(file, shown, format, cfg, Boolean(o.skipInvalid && !o.dryRun), rejectsPath, ctx);
    if (v.errors.length && !o.skipInvalid) throw rowErrors(v.errors, v.invalid, 'invalid row', shown, 'Fix the rows, or pass --skip-invalid to send the valid ones and write the rejects to a file.');
    if (v.rows === 0) throw inputError(`${shown}: no data rows${format === 'csv' ? ' (a header row at most)' : ' (the input is empty)'}`, 'Nothing to send: check that this is the file you meant.');
    if (v.valid === 0) throw inputError(`${shown}: no valid rows to send (${v.invalid} invalid)`);

    const options = {
      format,
      processor: o.processor,
      key: o.key ?? null,
      input_column: o.inputColumn ?? null,
      metadata: userMeta,
      batch_size: batchSize,
      skip_invalid: Boolean(o.skipInvalid),
      spec_sha256: spec ? createHash('sha256').update(JSON.stringify(spec.spec)).digest('hex') : null,
    };
    const optionsHash = createHash('sha256').update(JSON.stringify(options)).digest('hex');
    const plan = planBatches(v.valid, batchSize, rate);

    if (o.dryRun) {
      const out = {
        dry_run: true,
        input: shown,
        format,
        rows: v.rows,
        valid: v.valid,
        invalid: v.invalid,
        batches: plan.batches,
        batch_size: batchSize,
        rate: rateText,
        min_duration_s: Math.round(plan.minDurationMs / 1000),
        processor: o.processor,
        spec: o.spec ?? null,
        group: o.group ?? null,
        state: statePath,
      };
      if (ctx.global.json) ctx.io.stdout.write(JSON.stringify(out) + '\n');
      else {
        const lines = [
          `dry run: nothing sent`,
          `input        ${shown} (${format})`,
          `rows         ${v.rows} (${v.valid} valid, ${v.invalid} invalid)`,
          `batches      ${plan.batches} × ≤${batchSize} inputs per POST`,
          `processor    ${o.processor}`,
          `spec         ${o.spec ?? '(none: auto output)'}`,
          `rate         ${out.rate}`,
          `min duration ${formatDuration(plan.minDurationMs)} at the rate limit`,
          `group        ${o.group ?? '(a new group)'}`,
          `state        ${path.relative(ctx.io.cwd, statePath) || statePath}`,
        ];
        if (v.dropped.length) lines.push(`not sent     columns outside input_schema: ${v.dropped.join(', ')}`);
        ctx.io.stdout.write(lines.join('\n') + '\n');
        for (const e of v.errors) ctx.warn(`tg: invalid: ${e}`);
      }
      return null;
    }
    if (v.dropped.length) ctx.info(`tg: columns not in input_schema are not sent: ${v.dropped.join(', ')}`);
    if (v.invalid) ctx.warn(`tg: ${v.invalid} invalid rows skipped; see ${path.relative(ctx.io.cwd, rejectsPath) || rejectsPath}`);

    // ----- journal -----
    if (o.restart) {
      for (const f of [statePath]) fs.rmSync(f, { force: true });
    }
    const prior: JournalRec[] = [];
    if (fs.existsSync(statePath)) {
      try {
        for await (const r of readJsonLines<JournalRec>(statePath)) prior.push(r);
      } catch {
        throw inputError(`${statePath}: not a tg journal (unreadable)`, 'Pass another --state file, or delete this one.');
      }
      if (prior.length && prior[0].t !== 'header') throw inputError(`${statePath}: not a tg journal`, 'Pass another --state file, or delete this one.');
    }
    const replay = replayJournal(prior);
    if (replay.header) {
      const h = replay.header;
      if (h.input_sha256 !== v.digest || h.options_sha256 !== optionsHash) {
        const what: string[] = [];
        if (h.input_sha256 !== v.digest) what.push(`the input ${shown} changed`);
        for (const [k, val] of Object.entries(options)) if (JSON.stringify(h.options[k]) !== JSON.stringify(val)) what.push(`--${k.replace(/_/g, '-')} changed (was ${JSON.stringify(h.options[k])}, now ${JSON.stringify(val)})`);
        throw inputError(
          `${what.join('; ') || 'the input or options changed'} since the journal ${path.relative(ctx.io.cwd, statePath)} was written${replay.group ? ` for group ${replay.group}` : ''}`,
          'Restore the original input and options to resume, or pass --restart to start over (rows already sent stay in their group).',
        );
      }
      if (o.group && replay.group && o.group !== replay.group) throw usageError(`the journal belongs to group ${replay.group}, not ${o.group}`, 'Drop --group to resume, or pass --restart.');
    }
    const journal = new AppendLog(statePath);
    try {
      const nonce = replay.header?.nonce ?? randomBytes(6).toString('hex');
      if (!replay.header)
        journal.append({ t: 'header', v: 1, nonce, input_sha256: v.digest, options_sha256: optionsHash, options, input: o.input === '-' ? '-' : path.resolve(ctx.io.cwd, o.input), created_at: new Date().toISOString() });
      const client = await ctx.client();
      let groupId = replay.group;
      if (!groupId) {
        if (o.group) {
          await client.getGroup(o.group, ctx.signal);
          groupId = o.group;
          journal.append({ t: 'group', id: groupId, created: false });
        } else {
          const g = await client.createGroup({ tg_input: path.basename(shown).slice(0, 500) }, ctx.signal);
          groupId = g.taskgroup_id;
          journal.append({ t: 'group', id: groupId, created: true });
          ctx.info(`tg: created group ${groupId}`);
        }
      } else {
        await client.getGroup(groupId, ctx.signal);
        if (replay.done) ctx.info(`tg: every row of ${shown} was already sent to ${groupId}`);
        else ctx.info(`tg: resuming ${shown} into ${groupId}`);
      }
      hooks.onPlan?.(v.valid);
      hooks.onGroup?.(groupId);

      const sender = new Sender(ctx, client, journal, groupId, nonce, spec, o.processor, userMeta, rate, replay);
      const skipped = [...replay.batches.values()].reduce((s, b) => s + coveredCount(b), 0);
      const progress = await Progress.start(hooks.noProgress ? { ...ctx, global: { ...ctx.global, quiet: true } } : ctx, { label: 'submit', unit: 'rows', total: v.valid, done: skipped, budgetPerMin: rate ? Math.round((rate.limit * 60_000) / rate.windowMs) : undefined });
      hooks.onSent?.(skipped);
      sender.onProgress = (n) => {
        progress.update(skipped + n, client.rateLimited ? ` | 429s ${client.rateLimited}` : '');
        hooks.onSent?.(skipped + n);
      };
      try {
        if (!replay.done) await sendPass(file, format, cfg, batchSize, v.valid, sender, ctx);
      } catch (e) {
        // A definite refusal (e.g. 403 for an unknown processor, 422) before any row was sent:
        // drop the journal so the corrected command starts clean instead of "options changed".
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 429 && sender.sentRows === 0 && skipped === 0) {
          journal.close();
          fs.rmSync(statePath, { force: true });
          e.hint = `${e.hint ? `${e.hint} ` : ''}Nothing was sent (group ${groupId} is empty); fix the command and run it again.`;
        }
        throw e;
      } finally {
        progress.stop();
      }
      if (!replay.done) journal.append({ t: 'done', submitted: sender.sentRows + skipped, at: new Date().toISOString() });
      const elapsed = ctx.clock.now() - t0;
      ctx.info(
        `tg: ${groupId}: ${sender.sentRows} rows sent${skipped ? `, ${skipped} already sent before` : ''}${v.invalid ? `, ${v.invalid} rejected` : ''} in ${formatDuration(elapsed)}` +
          (client.rateLimited ? ` (${client.rateLimited} answers were 429)` : ''),
      );
      if (client.rateLimited >= 3)
        ctx.warn(`tg: hint: the API refused ${client.rateLimited} batches for the rate limit (each was waited out and resent); if another client shares this key, lower --rate (now ${rateText}) to stop the waits.`);
      return {
        taskgroup_id: groupId,
        submitted: sender.sentRows,
        skipped,
        rejected: v.invalid,
        rows: v.rows,
        batches: plan.batches,
        state: statePath,
        elapsed_ms: elapsed,
        rate_limited: client.rateLimited,
      };
    } catch (e) {
      if (e instanceof InterruptedError || ctx.signal.aborted) {
        const again = `Rerun the same command to resume${o.input === '-' ? ` (with --state ${path.relative(ctx.io.cwd, statePath)} and the same stdin)` : ''}: rows already sent are skipped.`;
        throw new InterruptedError(again);
      }
      if (e instanceof TgError && (e.exitCode === EXIT.API || e.exitCode === EXIT.AUTH) && !e.hint?.includes('resume')) {
        throw new TgError(e.code, e.message, e.exitCode, `${e.hint ? e.hint + ' ' : ''}The journal is saved: the same command resumes.`);
      }
      throw e;
    } finally {
      journal.close();
    }
  } finally {
    if (spool) fs.rmSync(spool, { force: true });
  }
}

interface Validation {
  rows: number;
  valid: number;
  invalid: number;
  errors: string[];
  digest: string;
  dropped: string[];
}

/** A CSV's --key and --input-column must be columns of its header (one clear error, not one per row). */
function checkHeader(shown: string, columns: string[], cfg: PrepareConfig): void {
  for (const [opt, col] of [['--key', cfg.keyColumn], ['--input-column', cfg.inputColumn]] as const) {
    if (col !== undefined && !columns.includes(col))
      throw inputError(`${shown}:1: the header has no column "${col}" (${opt}); it has: ${columns.map((c) => `"${c}"`).join(', ')}`, `Pass ${opt} one of the header's column names (case matters).`);
  }
}

async function validatePass(file: string, shown: string, format: Format, cfg: PrepareConfig, writeRejects: boolean, rejectsPath: string, ctx: Context): Promise<Validation> {
  const { rows, digest } = readRows(file, format, shown);
  const errors: string[] = [];
  let valid = 0;
  let invalid = 0;
  let count = 0;
  const keyHashes = cfg.keyColumn !== undefined ? new Set<number>() : null;
  const suspects = new Set<string>();
  const dropped = new Set<string>();
  let rejects: fs.WriteStream | null = null;
  const tmpRejects = `${rejectsPath}.${process.pid}.tmp`;
  if (writeRejects) {
    fs.mkdirSync(path.dirname(rejectsPath), { recursive: true, mode: 0o700 });
    rejects = fs.createWriteStream(tmpRejects, { mode: 0o600 });
  }
  const reject = (line: number, value: unknown, reasons: string[]) => {
    invalid++;
    if (errors.length < MAX_SHOWN_ERRORS) errors.push(reasons[0]);
    if (rejects && !rejects.write(JSON.stringify({ line, reasons, row: value }) + '\n')) return new Promise<void>((r) => rejects!.once('drain', () => r()));
  };
  for await (const row of rows) {
    count++;
    if (count === 1 && format === 'csv') checkHeader(shown, Object.keys(row.value as object), cfg);
    if (cfg.spec?.inputProps && count === 1 && row.value && typeof row.value === 'object' && !Array.isArray(row.value)) {
      for (const k of Object.keys(row.value)) if (!cfg.spec.inputProps.includes(k) && k !== cfg.keyColumn) dropped.add(k);
    }
    const p = prepareRow(row.value, row.index, cfg);
    if (!p.ok) {
      const w = reject(row.line, row.value, p.issues.map((i) => formatIssue(shown, row.line, i, format)));
      if (w) await w;
      continue;
    }
    if (keyHashes) {
      const h = hash52(p.key);
      if (keyHashes.has(h)) suspects.add(p.key);
      else keyHashes.add(h);
    }
    valid++;
  }
  // Confirm suspected duplicate keys exactly (hash collisions are possible, duplicates are errors).
  if (suspects.size) {
    const firstLine = new Map<string, number>();
    const dupErrors: string[] = [];
    let dupCount = 0;
    const again = readRows(file, format, shown);
    for await (const row of again.rows) {
      const p = prepareRow(row.value, row.index, cfg);
      if (!p.ok || !suspects.has(p.key)) continue;
      const f = firstLine.get(p.key);
      if (f === undefined) firstLine.set(p.key, row.line);
      else {
        dupCount++;
        if (dupErrors.length < MAX_SHOWN_ERRORS) dupErrors.push(`${shown}:${row.line}: column "${cfg.keyColumn}": duplicate key "${p.key}" (first at line ${f}) (unique)`);
      }
    }
    again.digest();
    if (dupCount) throw rowErrors(dupErrors, dupCount, 'duplicate --key value', shown, `Every row needs a unique "${cfg.keyColumn}"; fix the input or pick another --key column.`);
  }
  if (rejects) {
    await new Promise<void>((resolve, reject) => rejects!.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (invalid) fs.renameSync(tmpRejects, rejectsPath);
    else {
      fs.rmSync(tmpRejects, { force: true });
      fs.rmSync(rejectsPath, { force: true });
    }
  }
  return { rows: count, valid, invalid, errors, digest: digest(), dropped: [...dropped] };
}

/** Pass 2: read the rows again and send every batch the journal does not already cover. */
async function sendPass(file: string, format: Format, cfg: PrepareConfig, batchSize: number, total: number, sender: Sender, ctx: Context) {
  const { rows } = readRows(file, format);
  let b = 0;
  let items: Item[] = [];
  const flush = async () => {
    const first = b * batchSize;
    // One POST in flight at a time (the journal stays in batch order), but the next batch is
    // read and prepared while it is: wait for the previous POST only when this one is ready.
    if (inFlight) await inFlight;
    const p = sender.batch(b, first, items);
    p.catch(() => undefined); // observed by the next await; no unhandled rejection meanwhile
    inFlight = p;
    b++;
    items = [];
  };
  let inFlight: Promise<void> | null = null;
  let valid = 0;
  for await (const row of rows) {
    const p = prepareRow(row.value, row.index, cfg);
    if (!p.ok) continue;
    valid++;
    items.push({ key: p.key, input: p.input });
    if (items.length === batchSize) await flush();
    if (ctx.signal.aborted) {
      if (inFlight) await inFlight;
      throw new InterruptedError();
    }
  }
  if (items.length) await flush();
  if (inFlight) await inFlight;
  if (valid !== total) throw inputError(`the input changed while tg was reading it (${valid} valid rows now, ${total} before)`);
}

class Sender {
  sentRows = 0;
  onProgress: (n: number) => void = () => undefined;
  private readonly budget: RunBudget | null;
  private lastSentCursor: string | null;
  private readonly specJson: string | null;
  private readonly metaJson: string;
  private readonly processorJson: string;

  constructor(
    private readonly ctx: Context,
    private readonly client: ApiClient,
    private readonly journal: AppendLog,
    private readonly group: string,
    private readonly nonce: string,
    spec: LoadedSpec | null,
    processor: string,
    userMeta: Record<string, string>,
    rate: { limit: number; windowMs: number } | null,
    private readonly replay: ReturnType<typeof replayJournal>,
  ) {
    this.budget = rate ? new RunBudget(rate.limit, rate.windowMs) : null;
    this.lastSentCursor = replay.lastSentCursor;
    this.specJson = spec ? JSON.stringify(spec.spec) : null;
    this.metaJson = JSON.stringify(userMeta).slice(1, -1);
    this.processorJson = JSON.stringify(processor);
  }

  private body(items: Item[], offsets: number[]): string {
    const parts: string[] = [];
    for (const off of offsets) {
      const it = items[off];
      const meta = `{${this.metaJson ? this.metaJson + ',' : ''}"tg_key":${JSON.stringify(it.key)},"tg_src":"${this.nonce}"}`;
      parts.push(`{"input":${JSON.stringify(it.input)},"processor":${this.processorJson},"metadata":${meta}}`);
    }
    return `{"inputs":[${parts.join(',')}]${this.specJson ? `,"default_task_spec":${this.specJson}` : ''}}`;
  }

  async batch(b: number, first: number, items: Item[]) {
    const st = this.replay.batches.get(b);
    let offsets = items.map((_, i) => i);
    if (st) {
      if (st.n !== items.length || st.first !== first) throw inputError(`the journal's batch ${b} does not match the input (was ${st.n} rows from ${first})`, 'Pass --restart to start over.');
      if (st.pending) {
        // The previous process did not learn this batch's outcome: find what exists first.
        const left = st.covered === 'all' ? [] : offsets.filter((x) => !(st.covered as Set<number>).has(x));
        const found = await this.reconcile(b, items, left, st.scanFrom);
        cover(st, found);
        st.pending = false;
      }
      if (st.covered === 'all') return;
      offsets = offsets.filter((x) => !(st.covered as Set<number>).has(x));
    }
    await this.send(b, first, items, offsets);
  }

  /** Send the given rows of a batch until every one is known to exist as a run. */
  private async send(b: number, first: number, items: Item[], offsets: number[]) {
    let attempt = 0;
    let failingSince = 0;
    while (offsets.length) {
      if (this.ctx.signal.aborted) throw new InterruptedError();
      if (this.budget) {
        const wait = this.budget.waitMs(offsets.length, this.ctx.clock.now());
        if (wait > 0) await sleep(wait, this.ctx.signal);
      }
      const all = offsets.length === items.length;
      const scanFrom = this.lastSentCursor;
      this.journal.append({ t: 'sending', b, first, n: items.length, ...(all ? {} : { offsets }) });
      const res = this.budget?.reserve(offsets.length, this.ctx.clock.now());
      let answer: TaskGroupRunResponse;
      try {
        answer = await this.client.addRuns(this.group, this.body(items, offsets));
      } catch (e) {
        if (!failingSince) failingSince = this.ctx.clock.now();
        const stuck = this.ctx.clock.now() - failingSince > this.ctx.giveUpMs;
        if (e instanceof ApiError && e.status === 429) {
          if (res) this.budget!.cancel(res);
          const wait = e.retryAfterMs ?? backoffDelay(attempt++, Math.random, { baseMs: 1000, capMs: 60_000 });
          if (stuck) throw e;
          await sleep(wait, this.ctx.signal);
          continue;
        }
        if (e instanceof NetworkError && !e.sent) {
          if (res) this.budget!.cancel(res);
          if (stuck) throw e;
          await sleep(backoffDelay(attempt++, Math.random), this.ctx.signal);
          continue;
        }
        if (e instanceof UnknownOutcomeError) {
          if (res) this.budget!.commit(res, this.ctx.clock.now());
          if (stuck) throw e;
          await sleep(backoffDelay(attempt++, Math.random, { baseMs: 250 }), this.ctx.signal);
          const found = await this.reconcile(b, items, offsets, scanFrom);
          const f = new Set(found);
          offsets = offsets.filter((x) => !f.has(x));
          continue;
        }
        throw e;
      }
      if (res) this.budget!.commit(res, this.ctx.clock.now());
      if (!Array.isArray(answer.run_ids) || answer.run_ids.length !== offsets.length) {
        throw new TgError('bad_response', `add-runs answered ${answer.run_ids?.length ?? 'no'} run ids for ${offsets.length} inputs`, EXIT.API, 'Rerun the same command: it reconciles.');
      }
      this.journal.append({ t: 'sent', b, ...(all ? {} : { offsets }), run_ids: answer.run_ids, run_cursor: answer.run_cursor, event_cursor: answer.event_cursor });
      if (answer.run_cursor !== undefined) this.lastSentCursor = answer.run_cursor ?? this.lastSentCursor;
      this.sentRows += offsets.length;
      this.onProgress(this.sentRows);
      offsets = [];
    }
  }

  /** List the group's runs after `scanFrom` and record which of these rows already exist. */
  private async reconcile(b: number, items: Item[], offsets: number[], scanFrom: string | null): Promise<number[]> {
    if (!offsets.length) return [];
    const want = new Map<string, number>();
    for (const off of offsets) want.set(items[off].key, off);
    const found: number[] = [];
    const runIds: string[] = [];
    for await (const ev of this.client.streamRuns(this.group, { lastEventId: scanFrom, signal: this.ctx.signal, giveUpMs: this.ctx.giveUpMs })) {
      if (ev.type !== 'task_run.state') continue;
      const md = ev.run?.metadata;
      if (!md || md.tg_src !== this.nonce) continue;
      const off = want.get(String(md.tg_key));
      if (off === undefined) continue;
      want.delete(String(md.tg_key));
      found.push(off);
      runIds.push(ev.run.run_id);
    }
    this.journal.append({ t: 'found', b, offsets: found, run_ids: runIds }); // resolves the pending "sending", even when nothing was found
    if (found.length) this.ctx.info(`tg: batch ${b}: ${found.length} of ${offsets.length} rows already existed after an unknown outcome; ${offsets.length - found.length} to send`);
    return found;
  }
}

/** The first error on the first line (file:line: what and why), the rest below, then the count. */
function rowErrors(errors: string[], count: number, what: string, shown: string, hint: string) {
  const more = count > errors.length ? [`… and ${count - errors.length} more`] : [];
  const lines = [errors[0], ...errors.slice(1).map((e) => `  ${e}`), ...more.map((m) => `  ${m}`), `${count} ${what}${count === 1 ? '' : 's'} in ${shown}; nothing was sent.`];
  return inputError(lines.join('\n'), hint);
}
