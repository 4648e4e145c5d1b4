// One writer per file: an exclusive lock file beside what it guards, held for the command's life.
//
// Why not a library: proper-lockfile (the usual choice) decides a lock is stale by its mtime, so a
// rerun right after a SIGKILL either waits out the stale period (10 s by default) or, with a
// short one, can take a lock from a live process whose timer was late on a busy machine. tg needs
// "another tg (pid N) is …" at once, and immediate takeover of a lock whose process is gone; both
// come from the pid recorded in the lock file, checked with kill(pid, 0) on this host.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { atPath, TgError } from '../errors';
import { makeDir } from './durable';

export interface LockOwner {
  pid: number;
  host: string;
  what: string;
  since: string;
}

export interface Lock {
  readonly file: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    const o = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    return typeof o.pid === 'number' ? o : null;
  } catch {
    return null; // vanished, or being written: treated as held (see below)
  }
}

/** Move a dead owner's lock aside; true when this process did it (only one contender can). */
function takeOver(file: string, dead: LockOwner): boolean {
  const aside = `${file}.${randomBytes(6).toString('hex')}.dead`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return false; // someone else moved it first
  }
  const moved = readOwner(aside);
  if (moved && (moved.pid !== dead.pid || moved.since !== dead.since)) {
    // Between reading and renaming, another contender took over and a live owner wrote this
    // lock: put it back (link fails if yet another lock appeared; then both are live — give up).
    try {
      fs.linkSync(aside, file);
    } catch {
      /* a newer lock exists; ours will fail to acquire and report its owner */
    }
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return true;
}

function held(file: string, me: LockOwner): Lock {
  let on = true;
  return {
    file,
    release() {
      if (!on) return;
      on = false;
      const o = readOwner(file);
      if (o && o.pid === me.pid && o.since === me.since) fs.rmSync(file, { force: true });
    },
  };
}

/**
 * Take the lock `file` for `what` (a phrase: "submitting rows.csv"), or fail at once with exit 2
 * naming the process that holds it. A lock whose process no longer exists on this host is taken over.
 */
export function acquireLock(file: string, what: string, hint: string): Lock {
  makeDir(path.dirname(file), 0o700);
  const me: LockOwner = { pid: process.pid, host: os.hostname(), what, since: new Date().toISOString() };
  // The lock appears with its content in one step (link of a private temp file), so a contender
  // never reads a half-written owner.
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    try {
      fs.writeFileSync(tmp, JSON.stringify(me) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      throw atPath(e, file, true); // the temporary name is tg's business: the failure is the lock's
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.linkSync(tmp, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw atPath(e, file, true);
        const owner = readOwner(file);
        if (owner === null) continue; // released meanwhile: try again
        if (owner.host === me.host && !alive(owner.pid) && takeOver(file, owner)) continue;
        const where = owner.host !== me.host ? ` on ${owner.host}` : '';
        throw new TgError('locked', `another tg (pid ${owner.pid}${where}) is ${owner.what} since ${owner.since} (lock ${file})`, { hint });
      }
      return held(file, me);
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  throw new TgError('locked', `could not take the lock ${file}`, { hint });
}

/**
 * Who holds the lock `file` now (for `tg jobs`): its owner, or null when there is no lock or its
 * process is gone (a lock of another host is taken as held: it cannot be checked from here).
 */
export function lockHolder(file: string): LockOwner | null {
  const owner = readOwner(file);
  if (!owner) return null;
  return owner.host !== os.hostname() || alive(owner.pid) ? owner : null;
}
