// The ledger decision of submit: which group the rows go into (the journal's, --group's, an
// older tg's, or a new one), and whether the journal can vouch for what that group holds. When it
// cannot (another journal's runs, a damaged or lost journal, changed rows), the group's runs are
// listed (in a worker thread, while pass 1 validates) and each row is classified against them:
// present, new, or conflicting. The real run and --dry-run both decide here.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { TgError, inputError } from '../../errors';
import { keyColumnChange, MarkList, type Ledger } from '../../core/ledger';
import { writeFileAtomic, type AppendLog } from '../../io/durable';
import type { ApiClient } from '../../api/client';
import { readJournal, replayJournal, type Replay } from '../../io/journal';
import { classify, validatePass, rowErrors, rowErrorText, type Validation } from './validate';
import { listLedger } from './listing';
import type { Sender } from './send';
import { journalCovered, withinLimit } from './cost';
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
  return ledger ? v.toSend : withinLimit(job, v.valid) - journalCovered(job, replay, v.chunks);
}

/**
 * The group the rows go into: the journal's, else --group's, else an older tg's (none: a new
 * group). A journal of another group than --group is a usage error.
 */
export function targetOf(job: Job, replay: Replay): string | undefined {
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

function checkLedger(job: Job, ledger: Ledger, v: Validation) {
  const other = keyColumnChange(ledger, job.src, job.cfg.keyColumn);
  if (other !== null) {
    const was = other === '' ? 'by row number (no --key)' : `by --key ${other}`;
    throw inputError(
      `${job.shown} was sent to this group keyed ${was}; now ${job.cfg.keyColumn === undefined ? 'by row number' : `by --key ${job.cfg.keyColumn}`}: nothing was sent`,
      `Pass the same ${other === '' ? 'options (no --key)' : `--key ${other}`} as before, so rows already in the group are recognised.`,
    );
  }
  if (v.conflicts && job.o.onConflict === 'error') {
    const summary = `${v.conflicts} row${v.conflicts === 1 ? '' : 's'} of ${job.shown} differ from the runs the group holds for the same key; nothing was sent.`;
    throw new TgError('conflict', rowErrorText(v.conflictLines, v.conflicts, summary), {
      hint: 'Pass --on-conflict resend to send the changed rows again (new runs; the old ones stay), or --on-conflict skip to send only the new rows.',
    });
  }
}
