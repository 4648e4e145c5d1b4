// The ledger decision of submit: which group the rows go into (the journal's, --group's, an
// older tg's, or a new one), and whether the journal can vouch for what that group holds. When it
// cannot (another journal's runs, a damaged or lost journal, changed rows), the group's runs are
// listed (in a worker thread, while pass 1 validates) and each row is classified against them:
// present, new, or conflicting. The real run and --dry-run both decide here.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { TgError, inputError, usageError } from '../../errors';
import { shownPath } from '../../core/util';
import { findJobs, type FoundJob } from '../../flows/state';
import { keyColumnChange, MarkList, type Ledger } from '../../core/ledger';
import { makeDir, writeFileAtomic, type AppendLog } from '../../io/durable';
import type { ApiClient } from '../../api/client';
import { readJournal, replayJournal, type Replay } from '../../io/journal';
import { classify, validatePass, rowErrors, type Validation } from './validate';
import { listLedger } from './listing';
import { conflictError } from './conflicts';
import type { Sender } from './send';
import { journalCovered, uncoveredRepeats, withinLimit } from './cost';
import type { Job } from './job';

export function checkValidation(job: Job, v: Validation) {
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
      `${job.shown}: no data rows${job.cfg.textCells ? ' (a header row at most)' : ' (the input is empty)'}`,
      'Nothing to send: check that this is the file you meant.',
    );
  if (v.valid === 0) throw inputError(`${job.shown}: no valid rows to send (${v.invalid} invalid)`);
}

/** The rows this run sends (what the bill counts): as the ledger classified them, else the journal's uncovered ones within --limit. */
export function rowsToSend(job: Job, v: Validation, ledger: Ledger | null, replay: Replay): number {
  return ledger ? v.toSend : withinLimit(job, v.valid) - journalCovered(job, replay, v.chunks) - uncoveredRepeats(job, replay, v);
}

/**
 * The group the rows go into: the journal's, else --group's, else an older tg's (none: a new
 * group). A journal of another group than --group is a usage error.
 */
export function targetOf(job: Job, replay: Replay): string | undefined {
  const { o } = job;
  const given = o.group ?? groupOfFile(job);
  if (given && replay.group && given !== replay.group)
    throw new TgError('usage', `the journal ${job.statePath} belongs to group ${replay.group}, not ${given}`, {
      hint: 'Pass another --state file for the other group.',
    });
  return replay.group ?? given ?? legacyGroup(job);
}

/** The file --group-file names: the group a job goes into, wherever it runs (commit it, or keep it with the input). */
interface GroupFile {
  tg: 'group';
  taskgroup_id: string;
  origin: string;
  input: string;
  created_at: string;
}

/** --group-file's group, when the file exists (an error when it is not tg's, or of another API). */
function groupOfFile(job: Job): string | undefined {
  const file = job.o.groupFile && path.resolve(job.ctx.io.cwd, job.o.groupFile);
  if (!file || !fs.existsSync(file)) return undefined;
  let g: GroupFile;
  try {
    g = JSON.parse(fs.readFileSync(file, 'utf8')) as GroupFile;
  } catch {
    throw inputError(`--group-file ${job.o.groupFile}: not a group file tg wrote`, 'Pick another --group-file, or move this one away.');
  }
  if (g?.tg !== 'group' || typeof g.taskgroup_id !== 'string') throw inputError(`--group-file ${job.o.groupFile}: not a group file tg wrote`);
  if (job.o.group && job.o.group !== g.taskgroup_id)
    throw usageError(`--group ${job.o.group} and --group-file ${job.o.groupFile} (${g.taskgroup_id}) name two groups`);
  if (g.origin !== job.origin)
    throw usageError(
      `--group-file ${job.o.groupFile} names a group of ${g.origin}, not of ${job.origin}`,
      'Pass the --base-url it was made with, or another --group-file.',
    );
  return g.taskgroup_id;
}

/** After a new group is created: --group-file records it (never replacing a file that exists). */
export function recordGroupFile(job: Job, group: string): void {
  const file = job.o.groupFile && path.resolve(job.ctx.io.cwd, job.o.groupFile);
  if (!file || fs.existsSync(file)) return;
  const g: GroupFile = {
    tg: 'group',
    taskgroup_id: group,
    origin: job.origin,
    input: path.basename(job.shown),
    created_at: new Date(job.ctx.clock.now()).toISOString(),
  };
  makeDir(path.dirname(file));
  writeFileAtomic(file, JSON.stringify(g, null, 2) + '\n');
  job.ctx.info(`tg: wrote ${job.o.groupFile}: this job's group, for reruns anywhere (commit it, or keep it with the input)`);
}

/**
 * A job with no group yet: an earlier job of this machine whose content the input holds (a
 * renamed or copied file, another checkout, a re-sorted file, stdin that grew) is continued — the
 * group is the ledger, so only the rows it lacks are sent; a partial likeness is said plainly, as
 * is a state directory with no jobs at all (a fresh machine: the group may be elsewhere).
 */
export function earlierJob(job: Job, v: Validation): string | undefined {
  if (job.o.restart || job.o.state) return undefined; // a journal the user chose, or a new group on purpose
  const found = findJobs(job.stateDir, job.origin, job.statePath, v.sketch);
  const best = found[0];
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const where = (f: FoundJob) => (f.input === '-' ? 'stdin' : shownPath(f.input, job.ctx.io.cwd, job.ctx.io.env.HOME));
  if (best && best.share >= 0.5) {
    job.ctx.info(
      `tg: ${job.shown} holds the rows of ${where(best)} (${pct(best.share)} alike), sent before into ${best.group}: continuing into it; only the rows it lacks are sent (--restart starts a new group)`,
    );
    return best.group;
  }
  if (best)
    job.ctx.warn(
      `tg: warning: a new group for ${job.shown}, though ${pct(best.share)} of its rows look like rows of ${where(best)} in ${best.group}: pass --group ${best.group} to pay only for the rows it lacks`,
    );
  else if (!hasJournals(job.stateDir))
    job.ctx.info(
      `tg: no earlier jobs on this machine: a new group (if ${job.shown} was sent from elsewhere, --group G or --group-file sends only the rows G lacks)`,
    );
  return undefined;
}

function hasJournals(dir: string): boolean {
  try {
    return fs.readdirSync(path.join(dir, 'journals')).some((n) => n.endsWith('.jsonl'));
  } catch {
    return false;
  }
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
  if (ledger) await checkLedger(job, ledger, v, client, target!);
  return { v, ledger };
}

/**
 * Read the journal. A damaged one is rebuilt at once: its readable records are kept in a fresh
 * journal written atomically (the damaged file is kept beside it), and the group is listed,
 * since the journal no longer accounts for everything the group holds.
 */
export function openJournal(job: Job): Replay {
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
export function holdAll(job: Job, v: Validation, journal: AppendLog, group: string, sender: Sender) {
  journal.append(v.chunks.map((h, c) => ({ t: 'held', g: group, c, h, n: Math.min(job.batchSize, v.valid - c * job.batchSize) })));
  sender.skip(v.valid);
}

/** The fast path holds when every chunk the journal recorded is still the same rows. */
function journalMatches(replay: Replay, v: Validation): boolean {
  for (const [c, st] of replay.chunks) if (v.chunks[c] !== st.h) return false;
  return true;
}

async function checkLedger(job: Job, ledger: Ledger, v: Validation, client: ApiClient | null, group: string) {
  const other = keyColumnChange(ledger, job.src, job.cfg.keyColumn);
  if (other !== null) {
    const was = other === '' ? 'by row number (no --key)' : `by --key ${other}`;
    throw inputError(
      `${job.shown} was sent to this group keyed ${was}; now ${job.cfg.keyColumn === undefined ? 'by row number' : `by --key ${job.cfg.keyColumn}`}: nothing was sent`,
      `Pass the same ${other === '' ? 'options (no --key)' : `--key ${other}`} as before, so rows already in the group are recognised.`,
    );
  }
  if (v.conflicts && job.o.onConflict === 'error') throw await conflictError(job, client, group, v);
}
