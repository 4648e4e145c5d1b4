// The submit pipeline: preflight → input identity → the journal's lock → the ledger decision and
// validation (target.ts) → the bill (cost.ts) → the group → send (send.ts) → what the caller does
// next (afterSend: wait, retry, write results), holding the locks. Returns null for --dry-run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Context } from '../../context';
import { ApiError, inputError } from '../../errors';
import { spoolStdin } from '../../io/rows';
import type { Format } from '../../io/formats';
import { inputFormat, openInput } from './input';
import { loadSpec, type LoadedSpec } from '../../core/spec';
import { formatDuration, rowBudget } from '../../core/plan';
import { errnoText } from '../../core/util';
import { acquireLock, type Lock } from '../../io/lock';
import { AppendLog } from '../../io/durable';
import { Progress } from '../../io/progress';
import type { ApiClient } from '../../api/client';
import { preflight, type Preflight } from './preflight';
import { apiOrigin, defaultJournalPath, fileIdentity, groupLockPath, stateDir, type InputIdentity } from '../../flows/state';
import { JOURNAL_VERSION } from '../../io/journal';
import type { Validation } from './validate';
import { Sender, sendPass } from './send';
import { dryRun } from './dryrun';
import { fieldSpec, intentSpec } from '../../flows/spec';
import { checkCost, withinLimit } from './cost';
import { earlierJob, holdAll, openJournal, recordGroupFile, rowsToSend, targetOf, validateAgainst } from './target';
import { outOfCredit, reportPlan, resumeHint, summarize, type SubmitSummary } from './report';
import type { Job, SubmitOptions } from './job';

export type { SubmitSummary };

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
  ctx.sending = 'not-yet';
  const pre = preflight(o, ctx);
  const dir = stateDir(ctx);
  const tmpDir = ctx.global.emulator ? fs.mkdtempSync(path.join(os.tmpdir(), 'tg-emulator-state-')) : null;
  let spool: string | null = null;
  const locks: Lock[] = [];
  try {
    if (o.input === '-') spool = await spoolStdin(ctx.io.stdin, tmpDir ?? path.join(dir, 'spool'));
    const file = spool ?? path.resolve(ctx.io.cwd, o.input);
    const id = await fileIdentity(file, Boolean(spool));
    const format = await inputFormat(o, file, Boolean(spool), ctx);
    const job = await makeJob(o, ctx, pre, { file, format, id }, tmpDir ?? dir);
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

interface Input {
  file: string;
  format: Format;
  id: InputIdentity;
}

async function makeJob(o: SubmitOptions, ctx: Context, pre: Preflight, { file, format, id }: Input, dir: string): Promise<Job> {
  const shown = o.input === '-' ? '<stdin>' : o.input;
  const columns = () => openInput(o, file, shown, format, true);
  const input = { columns, textCells: format.textCells, inputColumn: o.inputColumn };
  // --intent (issue L7): the API's suggested fields and processor, kept in the state dir for reruns
  const intent = o.intent !== undefined ? await intentSpec({ ...o, intent: o.intent }, ctx, input, dir) : null;
  const spec = o.field?.length
    ? await loadSpec('--field', JSON.stringify(await fieldSpec(o.field, input)), format.textCells)
    : o.spec
      ? await readSpec(o.spec, ctx, format.textCells)
      : intent
        ? await loadSpec('--intent', JSON.stringify(intent.spec), format.textCells)
        : null;
  const origin = apiOrigin(ctx);
  const statePath = o.state ? path.resolve(ctx.io.cwd, o.state) : defaultJournalPath(dir, id, origin, o.group);
  return {
    o,
    ctx,
    file,
    shown,
    format,
    cfg: { textCells: format.textCells, inputColumn: o.inputColumn, keyColumn: o.key, spec },
    specSha: spec ? createHash('sha256').update(JSON.stringify(spec.spec)).digest('hex') : null,
    processor: intent?.processor ?? o.processor, // --intent: the suggested one unless --processor was given
    batchSize: pre.batchSize,
    rate: pre.rate,
    rateText: pre.rateText,
    runOptions: pre.runOptions,
    betas: pre.betas,
    optionsKey: pre.optionsKey,
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

/** The rest, holding the journal's lock. */
async function submitLocked(job: Job, hooks: SubmitHooks, locks: Lock[]): Promise<SubmitSummary> {
  const { ctx, o } = job;
  const t0 = ctx.clock.now();
  if (o.restart) fs.rmSync(job.statePath, { force: true });
  const replay = openJournal(job);
  let target = targetOf(job, replay);
  hooks.onTarget?.(target ?? null);
  const client = await ctx.client();
  const journal = new AppendLog(job.statePath);
  try {
    if (!replay.header) journal.appendSoon(headerRecord(job)); // durable with the first record that must be
    const lockGroup = (g: string) =>
      locks.push(
        acquireLock(
          groupLockPath(job.stateDir, job.origin, g),
          `adding runs to ${g}`,
          'Wait for it to finish, then rerun: tg sends only the rows the group lacks.',
        ),
      );
    if (target) lockGroup(target);
    const seen = () => {
      if (target && !replay.group) journal.appendSoon({ t: 'group', id: target, created: false }); // known from now on, even if killed
    };
    let { v, ledger } = await validateAgainst(job, client, replay, target, seen);
    if (!target && (target = earlierJob(job, v))) {
      hooks.onTarget?.(target);
      lockGroup(target);
      ({ v, ledger } = await validateAgainst(job, client, replay, target, seen));
    }
    if (!replay.sketch) journal.appendSoon({ t: 'sketch', ...v.sketch }); // finds this job again from another path
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

async function createGroup(job: Job, client: ApiClient, journal: AppendLog): Promise<string> {
  const g = await client.createGroup({ tg_input: path.basename(job.shown).slice(0, 500) }, job.ctx.signal);
  journal.append({ t: 'group', id: g.taskgroup_id, created: true });
  job.ctx.info(`tg: created group ${g.taskgroup_id}`);
  recordGroupFile(job, g.taskgroup_id);
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
    const n = sender.sentRows + sender.skippedRows + sender.sameRows;
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

/** The first record of a new journal: what it is for. */
export function headerRecord(job: Job) {
  const o = job.o;
  const options = {
    format: job.format.name,
    processor: job.processor,
    key: o.key ?? null,
    input_column: o.inputColumn ?? null,
    metadata: job.o.metadata ?? {},
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
