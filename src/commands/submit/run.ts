// The submit pipeline: preflight → input identity → validation → (the group's ledger when the
// journal cannot vouch for it) → send. Returns null for --dry-run, after printing the plan.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Context } from '../../context';
import { ApiError, EXIT, InterruptedError, TgError, inputError, withResumeHint } from '../../errors';
import { spoolStdin } from '../../io/rows';
import { loadSpec, type LoadedSpec } from '../../core/spec';
import { planBatches, formatDuration, rowBudget } from '../../core/plan';
import { keyColumnChange, MarkList, type Ledger } from '../../core/ledger';
import { count, errnoText, shownPath } from '../../core/util';
import { acquireLock, type Lock } from '../../io/lock';
import { AppendLog, writeFileAtomic } from '../../io/durable';
import { Progress } from '../../io/progress';
import type { ApiClient } from '../../api/client';
import { preflight, type Preflight } from './preflight';
import { apiOrigin, defaultJournalPath, fileIdentity, groupLockPath, stateDir, type InputIdentity } from './identity';
import { JOURNAL_VERSION, readJournal, replayJournal, type Replay } from './journal';
import { classify, validatePass, rowErrors, rowErrorText, type Validation } from './validate';
import { listLedger } from './ledger';
import { Sender, sendPass } from './send';
import { printDryRun } from './dryrun';
import { fieldSpec, intentSpec } from './fieldspec';
import { checkCost, estimate, journalCovered, withinLimit } from './cost';
import type { Job, SubmitOptions } from './job';

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
  /** The exit status of what ran after the send pass (afterSend), if anything did. */
  exit?: number;
  /** Time spent waiting on the rate limit (budget or 429s). */
  waited_ms: number;
}

export interface SubmitHooks {
  onGroup?: (id: string) => void;
  /** The rows to send, and the client-side budget they are sent at (null: --rate off). */
  onPlan?: (validRows: number, rate: Job['rate']) => void;
  onSent?: (rowsSentOrSkipped: number) => void;
  /** Called before the first request with the target group (null: a new one); may throw. */
  onTarget?: (group: string | null) => void;
  noProgress?: boolean;
  /** After the send pass, holding the locks (the job and the group are known): wait, retry, write results. */
  afterSend?: (job: Job, client: ApiClient, group: string) => Promise<number>;
}

export async function runSubmit(o: SubmitOptions, ctx: Context, hooks: SubmitHooks = {}): Promise<SubmitSummary | null> {
  const pre = preflight(o, ctx);
  const dir = stateDir(ctx);
  const tmpDir = ctx.global.emulator ? fs.mkdtempSync(path.join(os.tmpdir(), 'tg-emulator-state-')) : null;
  let spool: string | null = null;
  const locks: Lock[] = [];
  try {
    if (o.input === '-') spool = await spoolStdin(ctx.io.stdin, tmpDir ?? path.join(dir, 'spool'));
    const file = spool ?? path.resolve(ctx.io.cwd, o.input);
    const id = await fileIdentity(file, Boolean(spool));
    const job = await makeJob(o, ctx, pre, file, id, tmpDir ?? dir);
    if (o.dryRun) {
      await dryRun(job);
      return null;
    }
    locks.push(acquireLock(`${job.statePath}.lock`, `submitting ${job.shown}`, 'Wait for it to finish (or stop it), then rerun the same command: it resumes.'));
    return await submitLocked(job, hooks, locks);
  } catch (e) {
    throw resumeHint(e, o, ctx);
  } finally {
    for (const l of locks.reverse()) l.release();
    if (spool) fs.rmSync(spool, { force: true });
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

async function makeJob(o: SubmitOptions, ctx: Context, pre: Preflight, file: string, id: InputIdentity, dir: string): Promise<Job> {
  const shown = o.input === '-' ? '<stdin>' : o.input;
  // --intent (issue L7): the API's suggested fields and processor, kept in the state dir for reruns
  const intent =
    o.intent !== undefined ? await intentSpec({ ...o, intent: o.intent }, ctx, { file, format: pre.format, shown, inputColumn: o.inputColumn }, dir) : null;
  const spec = o.field?.length
    ? await loadSpec('--field', JSON.stringify(await fieldSpec(o.field, { file, format: pre.format, shown, inputColumn: o.inputColumn })), pre.format === 'csv')
    : o.spec
      ? await readSpec(o.spec, ctx, pre.format === 'csv')
      : intent
        ? await loadSpec('--intent', JSON.stringify(intent.spec), pre.format === 'csv')
        : null;
  const origin = apiOrigin(ctx);
  const statePath = o.state ? path.resolve(ctx.io.cwd, o.state) : defaultJournalPath(dir, id, origin, o.group);
  return {
    o,
    ctx,
    file,
    shown,
    format: pre.format,
    cfg: { format: pre.format, inputColumn: o.inputColumn, keyColumn: o.key, spec },
    spec,
    specSha: spec ? createHash('sha256').update(JSON.stringify(spec.spec)).digest('hex') : null,
    processor: intent?.processor ?? o.processor, // --intent: the suggested one unless --processor was given
    userMeta: pre.userMeta,
    batchSize: pre.batchSize,
    rate: pre.rate,
    rateText: pre.rateText,
    concurrency: pre.concurrency,
    runOptions: pre.runOptions,
    betas: pre.betas,
    optionsKey: pre.optionsKey,
    onConflict: pre.onConflict,
    src: id.src,
    identity: id.identity,
    stateDir: dir,
    origin,
    statePath,
    rejectsPath: `${statePath}.rejects.jsonl`,
  };
}

async function readSpec(file: string, ctx: Context, coerce: boolean): Promise<LoadedSpec> {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(ctx.io.cwd, file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(`${file}: cannot read the spec (${errnoText(code)})`, 'Pass --spec a TaskSpec JSON file: {"input_schema": …, "output_schema": …}.');
  }
  const spec = await loadSpec(file, text, coerce);
  for (const w of spec.warnings) ctx.warn(`tg: warning: ${w}`);
  return spec;
}

function checkValidation(job: Job, v: Validation) {
  if (v.errors.length && !job.o.skipInvalid)
    throw rowErrors(
      v.errors,
      v.invalid,
      'invalid row',
      job.shown,
      'Fix the rows, or pass --skip-invalid to send the valid ones and write the rejects to a file.',
    );
  if (v.rows === 0)
    throw inputError(
      `${job.shown}: no data rows${job.format === 'csv' ? ' (a header row at most)' : ' (the input is empty)'}`,
      'Nothing to send: check that this is the file you meant.',
    );
  if (v.valid === 0) throw inputError(`${job.shown}: no valid rows to send (${v.invalid} invalid)`);
}

/**
 * --dry-run: the plan, nothing sent and no state written. When the group is known (the journal's,
 * or --group) and an API key is at hand, it is asked as the real run would (GETs only): rows it
 * holds are not counted, and a conflict is the real run's exit 2.
 */
async function dryRun(job: Job): Promise<void> {
  const { ctx, o } = job;
  // As the real run reads it (an unreadable journal is the same exit 2), without repairing it;
  // --restart starts from no journal.
  let replay = replayJournal([]);
  if (!o.restart && fs.existsSync(job.statePath)) {
    const { recs, damaged } = readJournal(job.statePath);
    replay = replayJournal(recs, damaged);
  }
  const target = targetOf(job, replay);
  const keyed = Boolean(ctx.global.apiKey ?? ctx.io.env.PARALLEL_API_KEY) || Boolean(ctx.global.emulator);
  if (target && !keyed) ctx.warn(`tg: no API key: ${target} was not asked which rows it holds; rows the journal does not record count as to send`);
  const client = target && keyed ? await ctx.client() : null;
  const { v, ledger } = await validateAgainst(job, client, replay, target);
  const est = estimate(job, rowsToSend(job, v, ledger, replay));
  printDryRun(job, v, planBatches(v.valid, job.batchSize, job.rate), est, target ?? null);
  await checkCost(job, est.rows, true);
}

/** The rest, holding the journal's lock. */
async function submitLocked(job: Job, hooks: SubmitHooks, locks: Lock[]): Promise<SubmitSummary> {
  const { ctx, o } = job;
  const t0 = ctx.clock.now();
  if (o.restart) fs.rmSync(job.statePath, { force: true });
  const replay = openJournal(job);
  const target = targetOf(job, replay);
  hooks.onTarget?.(target ?? null);
  const client = await ctx.client();
  const journal = new AppendLog(job.statePath);
  try {
    if (!replay.header) journal.appendSoon(headerRecord(job)); // durable with the first record that must be
    if (target) {
      locks.push(
        acquireLock(
          groupLockPath(job.stateDir, job.origin, target),
          `adding runs to ${target}`,
          'Wait for it to finish, then rerun: tg sends only the rows the group lacks.',
        ),
      );
    }
    const { v, ledger } = await validateAgainst(job, client, replay, target, () => {
      if (target && !replay.group) journal.appendSoon({ t: 'group', id: target, created: false }); // known from now on, even if killed
    });
    reportPlan(job, v, ledger);
    await checkCost(job, rowsToSend(job, v, ledger, replay));
    const groupId = target ?? (await createGroup(job, client, journal));
    if (replay.group) ctx.info(`tg: resuming ${job.shown} into ${groupId}`);
    hooks.onPlan?.(withinLimit(job, v.valid), job.rate);
    hooks.onGroup?.(groupId);
    const sender = new Sender(job, client, journal, groupId, replay.lastSentCursor);
    if (ledger && v.fresh === 0 && v.conflicts === 0) holdAll(job, v, journal, groupId, sender);
    else await sendWithProgress(job, client, v, sender, { ledger, replay }, hooks);
    journal.append({ t: 'done', g: groupId, submitted: sender.sentRows, at: new Date().toISOString(), rows: v.valid }); // rows: for `tg jobs`
    const summary = summarize(job, v, groupId, sender, client, ctx.clock.now() - t0);
    if (hooks.afterSend) summary.exit = await hooks.afterSend(job, client, groupId);
    return summary;
  } finally {
    journal.close();
  }
}

/** The rows this run sends (what the bill counts): as the ledger classified them, else the journal's uncovered ones within --limit. */
function rowsToSend(job: Job, v: Validation, ledger: Ledger | null, replay: Replay): number {
  return ledger ? v.toSend : withinLimit(job, v.valid) - journalCovered(job, replay, v.chunks);
}

/**
 * The group the rows go into: the journal's, else --group's, else an older tg's (none: a new
 * group). A journal of another group than --group is a usage error.
 */
function targetOf(job: Job, replay: Replay): string | undefined {
  const { o } = job;
  if (o.group && replay.group && o.group !== replay.group)
    throw new TgError('usage', `the journal ${job.statePath} belongs to group ${replay.group}, not ${o.group}`, {
      hint: 'Pass another --state file for the other group.',
    });
  return replay.group ?? o.group ?? legacyGroup(job);
}

/**
 * Validate the input; when the group holds runs the journal cannot vouch for (another journal's,
 * a damaged or lost journal's, changed rows), list them and classify each row against them. A
 * row whose key the group holds with other content is a conflict: exit 2 unless --on-conflict.
 * The real run and --dry-run both come here: a dry run refuses what the run would refuse.
 */
export async function validateAgainst(
  job: Job,
  client: ApiClient | null,
  replay: Replay,
  target: string | undefined,
  onGroupSeen: () => void = () => undefined,
): Promise<{ v: Validation; ledger: Ledger | null }> {
  const { ctx } = job;
  let ledger: Ledger | null = null;
  let v: Validation | undefined;
  if (target && client) {
    const n = (await client.getGroup(target, ctx.signal)).status.num_task_runs;
    onGroupSeen();
    if (n > 0 && (n !== replay.knownRuns || replay.damaged > 0 || !replay.header)) ({ v, ledger } = await validateWhileListing(job, client, target, n));
  }
  if (!v) {
    ctx.display.phase(`validating ${job.shown}`);
    v = await validatePass(job, null, Boolean(job.o.skipInvalid) && !job.o.dryRun);
    ctx.display.phase('');
    checkValidation(job, v);
  }
  if (target && client && !ledger && !journalMatches(replay, v)) {
    ctx.display.phase(`listing the runs of ${target}`);
    ledger = await listLedger(job, client, target, replay.knownRuns);
    ctx.display.phase('');
    v = await validatePass(job, ledger, false);
  }
  if (ledger) checkLedger(job, ledger, v);
  return { v, ledger };
}

/**
 * Read the journal. A damaged one is rebuilt at once: its readable records are kept in a fresh
 * journal written atomically (the damaged file is kept beside it), and the group is listed,
 * since the journal no longer accounts for everything the group holds.
 */
function openJournal(job: Job): Replay {
  if (!fs.existsSync(job.statePath)) return replayJournal([]);
  const { recs, damaged } = readJournal(job.statePath);
  if (damaged) {
    const aside = `${job.statePath}.damaged-${Date.now()}`;
    fs.copyFileSync(job.statePath, aside);
    writeFileAtomic(job.statePath, recs.map((r) => JSON.stringify(r) + '\n').join(''));
    job.ctx.warn(
      `tg: warning: skipped ${damaged} damaged record${damaged === 1 ? '' : 's'} of the journal (the original is kept as ${aside}); the group's runs are listed, so no row is sent twice`,
    );
  }
  return replayJournal(recs, damaged);
}

/**
 * tg 0.1 kept its journal in <cwd>/.tg/<name>-<hash>.json. If this input has one there (and no
 * newer journal), continue into its group: the ledger keeps the rows it holds from being resent.
 */
function legacyGroup(job: Job): string | undefined {
  if (job.o.input === '-' || job.o.state || job.o.restart) return undefined;
  const abs = path.resolve(job.ctx.io.cwd, job.o.input);
  const h = createHash('sha256')
    .update(abs + '\0')
    .digest('hex')
    .slice(0, 10);
  const old = path.join(job.ctx.io.cwd, '.tg', `${path.basename(job.o.input).replace(/[^A-Za-z0-9._-]/g, '_')}-${h}.json`);
  if (!fs.existsSync(old)) return undefined;
  const m = /"t":"group","id":"(tgrp_\w+)"/.exec(fs.readFileSync(old, 'utf8'));
  if (m) job.ctx.info(`tg: found the journal of an older tg for ${job.shown} (${path.relative(job.ctx.io.cwd, old)}): continuing into ${m[1]}`);
  return m?.[1];
}

/**
 * Validate while the group's runs are listed (the listing streams in meanwhile), then classify the
 * rows against it; a conflict is read again to be named.
 */
async function validateWhileListing(job: Job, client: ApiClient, group: string, expected: number): Promise<{ v: Validation; ledger: Ledger }> {
  const stop = new AbortController();
  const listing = listLedger(job, client, group, expected, AbortSignal.any([job.ctx.signal, stop.signal]));
  listing.catch(() => undefined); // awaited below, unless validation fails first
  try {
    const marks = new MarkList();
    job.ctx.display.phase(`validating ${job.shown}, listing the runs of ${group}`);
    let v = await validatePass(job, null, Boolean(job.o.skipInvalid) && !job.o.dryRun, marks);
    checkValidation(job, v);
    job.ctx.display.phase(`listing the runs of ${group}`);
    const ledger = await listing;
    job.ctx.display.phase('');
    classify(job, v, marks, ledger);
    if (v.conflicts) v = await validatePass(job, ledger, false);
    return { v, ledger };
  } finally {
    stop.abort();
  }
}

/** The group holds every row: the journal records each chunk as held, in one write. */
function holdAll(job: Job, v: Validation, journal: AppendLog, group: string, sender: Sender) {
  journal.append(v.chunks.map((h, c) => ({ t: 'held', g: group, c, h, n: Math.min(job.batchSize, v.valid - c * job.batchSize) })));
  sender.skip(v.valid);
}

/** The fast path holds when every chunk the journal recorded is still the same rows. */
function journalMatches(replay: Replay, v: Validation): boolean {
  for (const [c, st] of replay.chunks) if (v.chunks[c] !== st.h) return false;
  return true;
}

function checkLedger(job: Job, ledger: Ledger, v: Validation) {
  const other = keyColumnChange(ledger, job.src, job.cfg.keyColumn);
  if (other !== null) {
    const was = other === '' ? 'by row number (no --key)' : `by --key ${other}`;
    throw inputError(
      `${job.shown} was sent to this group keyed ${was}; now ${job.cfg.keyColumn === undefined ? 'by row number' : `by --key ${job.cfg.keyColumn}`}: nothing was sent`,
      `Pass the same ${other === '' ? 'options (no --key)' : `--key ${other}`} as before, so rows already in the group are recognised.`,
    );
  }
  if (v.conflicts && job.onConflict === 'error') {
    const summary = `${v.conflicts} row${v.conflicts === 1 ? '' : 's'} of ${job.shown} differ from the runs the group holds for the same key; nothing was sent.`;
    throw new TgError('conflict', rowErrorText(v.conflictLines, v.conflicts, summary), {
      hint: 'Pass --on-conflict resend to send the changed rows again (new runs; the old ones stay), or --on-conflict skip to send only the new rows.',
    });
  }
}

function reportPlan(job: Job, v: Validation, ledger: Ledger | null) {
  const { ctx } = job;
  if (v.dropped.length) ctx.info(`tg: ${job.format === 'csv' ? 'columns' : 'fields'} not in input_schema are not sent: ${v.dropped.join(', ')}`);
  if (v.invalid) ctx.warn(`tg: ${count(v.invalid, 'invalid row')} skipped; see ${shownPath(job.rejectsPath, ctx.io.cwd, ctx.io.env.HOME)}`);
  if (ledger && (v.present || v.conflicts)) {
    const conflict = v.conflicts ? `, ${v.conflicts} changed (${job.onConflict === 'resend' ? 'sent again' : 'skipped'})` : '';
    ctx.info(
      `tg: the group holds ${v.present} of these ${count(v.valid, 'row')} already${conflict}; ${v.fresh + (job.onConflict === 'resend' ? v.conflicts : 0)} to send`,
    );
  }
}

function headerRecord(job: Job) {
  const o = job.o;
  const options = {
    format: job.format,
    processor: job.processor,
    key: o.key ?? null,
    input_column: o.inputColumn ?? null,
    metadata: job.userMeta,
    batch_size: job.batchSize,
    spec_sha256: job.specSha,
    ...(job.optionsKey ? { run_options: job.runOptions, betas: job.betas } : {}),
  };
  return {
    t: 'header' as const,
    v: JOURNAL_VERSION,
    identity: job.identity,
    src: job.src,
    origin: job.origin,
    input: o.input === '-' ? '-' : job.file,
    options,
    created_at: new Date().toISOString(),
  };
}

async function createGroup(job: Job, client: ApiClient, journal: AppendLog): Promise<string> {
  const g = await client.createGroup({ tg_input: path.basename(job.shown).slice(0, 500) }, job.ctx.signal);
  journal.append({ t: 'group', id: g.taskgroup_id, created: true });
  job.ctx.info(`tg: created group ${g.taskgroup_id}`);
  return g.taskgroup_id;
}

async function sendWithProgress(job: Job, client: ApiClient, v: Validation, sender: Sender, plan: Parameters<typeof sendPass>[2], hooks: SubmitHooks) {
  const { ctx } = job;
  const quietCtx = hooks.noProgress ? { ...ctx, global: { ...ctx.global, quiet: true } } : ctx;
  const rows = rowBudget(job.rate, job.batchSize);
  const budget = rows && { ...rows, shown: job.rateText };
  const progress = await Progress.start(quietCtx, { label: 'submit', unit: 'rows', total: withinLimit(job, v.valid), done: 0, budget });
  ctx.display.phase('sending');
  sender.onProgress = () => {
    const n = sender.sentRows + sender.skippedRows;
    const waited = sender.waitedMs();
    progress.update(
      n,
      `${client.rateLimited ? ` | 429s ${client.rateLimited}` : ''}${waited >= 1000 ? ` | waited ${formatDuration(waited)} on the limit` : ''}`,
      sender.skippedRows,
    );
    hooks.onSent?.(n);
  };
  try {
    await sendPass(job, v, plan, sender);
  } catch (e) {
    throw e instanceof ApiError && e.status === 402 ? outOfCredit(v, sender, e) : e;
  } finally {
    progress.stop();
    ctx.display.phase('');
  }
}

/** The budget in rows a minute, for the progress ETA: in requests, a full batch per request. */
/** A 402 mid-submit: say what was sent and that the same command resumes after a top-up (exit 3). */
function outOfCredit(v: Validation, sender: Sender, e: ApiError): TgError {
  const done = sender.sentRows + sender.skippedRows;
  return new TgError(
    'payment_required',
    `the account is out of credit: the API refused to add runs (402). ${done} of ${v.valid} rows are in the group, ${v.valid - done} are not yet (the API said: ${e.message})`,
    {
      hint: 'Add credit to the account (task groups reserve credit for all their runs up front), then rerun the same command: it resumes and sends only the rows the group lacks.',
      cause: e,
    },
  );
}

/** "at 95 requests/min (paced at 50 requests/6s after 429s), waited 12s on the rate limit" — or ''. */
function paceText(job: Job, sender: Sender, elapsed: number): string {
  const b = sender.budget;
  if (!b || elapsed <= 0) return '';
  const unit = b.unit === 'runs' ? 'runs' : 'requests';
  const spent = b.unit === 'runs' ? sender.sentRows : sender.posts;
  const parts = [`at ${Math.round((spent * 60_000) / elapsed)} ${unit}/min of ${job.rateText}`];
  if (b.pace < b.limit) parts.push(`paced down to ${b.pace} ${unit}/${b.windowMs / 1000}s by the server's 429s`);
  if (b.server) parts.push(`paced at ${b.server.limit} ${unit} per ${formatDuration(b.server.windowMs)}, the server's window by its 429s`);
  const waited = sender.waitedMs();
  if (waited >= 1000) parts.push(`waited ${formatDuration(waited)} on the rate limit`);
  return ` (${parts.join('; ')})`;
}

function summarize(job: Job, v: Validation, groupId: string, sender: Sender, client: ApiClient, elapsed: number): SubmitSummary {
  const { ctx } = job;
  const skipped = sender.skippedRows;
  ctx.info(
    `tg: ${groupId}: ${count(sender.sentRows, 'row')} sent${skipped ? `, ${skipped} already in the group` : ''}${v.invalid ? `, ${v.invalid} rejected` : ''}` +
      `${sender.limitedRows ? `, ${sender.limitedRows} past --limit ${job.o.limit} (the same command without --limit sends them)` : ''} in ${formatDuration(elapsed)}` +
      paceText(job, sender, elapsed) +
      (client.rateLimited ? ` (${client.rateLimited} answers were 429)` : ''),
  );
  if (client.rateLimited >= 3 && client.rateLimited > 0.05 * sender.posts)
    ctx.warn(
      `tg: hint: the API refused ${client.rateLimited} batches for the rate limit (each was waited out and resent); if another client shares this key, lower --rate (now ${job.rateText}) to stop the waits.`,
    );
  const batches = planBatches(v.valid, job.batchSize, job.rate).batches;
  return {
    taskgroup_id: groupId,
    submitted: sender.sentRows,
    skipped,
    rejected: v.invalid,
    rows: v.rows,
    batches,
    state: job.statePath,
    elapsed_ms: elapsed,
    rate_limited: client.rateLimited,
    waited_ms: sender.waitedMs(),
  };
}

/** Errors after which the same command resumes say so; never "--restart", which sends again. */
function resumeHint(e: unknown, o: SubmitOptions, ctx: Context): unknown {
  const again = o.restart ? 'Rerun the command without --restart to resume' : 'Rerun the same command to resume';
  const stdin = o.input === '-' ? ' (with the same stdin)' : '';
  if (e instanceof InterruptedError || (ctx.signal.aborted && !(e instanceof TgError && e.exitCode === EXIT.USAGE)))
    return new InterruptedError(`${again}${stdin}: rows the group holds already are not sent again.`);
  if (e instanceof TgError && (e.exitCode === EXIT.API || e.exitCode === EXIT.AUTH)) return withResumeHint(e, `${again}${stdin}: it resumes.`);
  return e;
}
