// Where a submit's journal lives, found from what is submitted and where to, not from the cwd:
// the input's real path (symlinks resolved) or, for stdin, the digest of its content; and the
// API origin. The in-process emulator's journals live in a temporary directory of their own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Context } from '../context';
import { journalHead, readJournal } from '../io/journal';
import { containment, type Sketch } from '../core/sketch';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** tg's state directory: $TG_STATE_DIR, else $XDG_STATE_HOME/tg, else ~/.local/state/tg. */
export function stateDir(ctx: Context): string {
  const env = ctx.io.env;
  if (env.TG_STATE_DIR) return path.resolve(ctx.io.cwd, env.TG_STATE_DIR);
  if (env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)) return path.join(env.XDG_STATE_HOME, 'tg');
  return path.join(env.HOME || os.homedir(), '.local', 'state', 'tg');
}

/** The API origin journals are keyed by. */
export function apiOrigin(ctx: Context): string {
  if (ctx.global.emulator) return 'emulator';
  const raw = ctx.global.baseUrl ?? ctx.io.env.PARALLEL_BASE_URL ?? 'https://api.parallel.ai';
  try {
    return new URL(raw).origin;
  } catch {
    return raw;
  }
}

export interface InputIdentity {
  /** Real path, or "stdin:<sha256 of the content>". */
  identity: string;
  /** Namespace of row-number keys in run metadata (tg_src). */
  src: string;
  base: string;
}

export async function fileIdentity(file: string, isStdin: boolean): Promise<InputIdentity> {
  if (isStdin) {
    const h = createHash('sha256');
    for await (const b of fs.createReadStream(file)) h.update(b as Buffer);
    return { identity: `stdin:${h.digest('hex')}`, src: 'stdin', base: 'stdin' };
  }
  const real = fs.realpathSync(file);
  return { identity: real, src: sha(real).slice(0, 12), base: path.basename(real).replace(/[^A-Za-z0-9._-]/g, '_') };
}

/**
 * The default journal: one per (input, API origin), which also records the group. With --group G,
 * that journal unless it already belongs to another group; then one for (input, origin, G).
 */
export function defaultJournalPath(dir: string, id: InputIdentity, origin: string, group?: string): string {
  const plain = path.join(dir, 'journals', `${id.base}-${sha(`${id.identity}\0${origin}`).slice(0, 12)}.jsonl`);
  if (!group || !fs.existsSync(plain)) return plain;
  try {
    const { recs } = readJournal(plain);
    const g = recs.find((r) => r.t === 'group') as { id: string } | undefined;
    if (!g || g.id === group) return plain;
  } catch {
    /* a damaged or foreign journal: use the group's own */
  }
  return withGroup(dir, id, origin, group);
}

function withGroup(dir: string, id: InputIdentity, origin: string, group: string): string {
  return path.join(dir, 'journals', `${id.base}-${sha(`${id.identity}\0${origin}\0${group}`).slice(0, 12)}.jsonl`);
}

/** The lock that keeps one tg adding runs to a group from this machine at a time. */
export function groupLockPath(dir: string, origin: string, group: string): string {
  return path.join(dir, 'locks', `group-${sha(`${origin}\0${group}`).slice(0, 16)}.lock`);
}

/** An earlier job of this machine whose content this input holds (see findJob). */
export interface FoundJob {
  group: string;
  /** The input it was submitted as (its real path, or "-" for stdin). */
  input: string;
  journal: string;
  /** How much of the smaller of the two inputs' content the other holds (0..1). */
  share: number;
}

/**
 * The earlier jobs, on this machine and API, whose content this input holds — a renamed or copied
 * file, another checkout, a re-sorted or re-exported file, stdin that grew — best first. Read from
 * the heads of the journals in `dir` (their sketch record); `self` (this input's own journal) is
 * left out.
 */
export function findJobs(dir: string, origin: string, self: string, sketch: Sketch): FoundJob[] {
  const jdir = path.join(dir, 'journals');
  let names: string[];
  try {
    names = fs.readdirSync(jdir).filter((n) => n.endsWith('.jsonl'));
  } catch {
    return [];
  }
  const found: FoundJob[] = [];
  for (const name of names) {
    const file = path.join(jdir, name);
    if (file === self) continue;
    const recs = journalHead(file);
    const header = recs.find((r) => r.t === 'header');
    const group = recs.find((r) => r.t === 'group');
    const other = recs.find((r) => r.t === 'sketch');
    if (!header || !group || !other || header.origin !== origin) continue;
    const share = containment(sketch, other);
    if (share > 0) found.push({ group: group.id, input: header.input, journal: file, share });
  }
  return found.sort((a, b) => b.share - a.share);
}
