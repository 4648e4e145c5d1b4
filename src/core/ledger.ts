// The group is the ledger: which rows a group already holds, by row identity and content digest.
// Pure: the listing itself is done by the caller (src/commands/submit/ledger.ts).
//
// A row's identity is its key in a namespace: with --key, the key column's value (shared by every
// input sent into the group with that --key column); without, the row number within its source
// (the input's real path, or "stdin"). Its digest covers exactly what was sent for it: the input,
// the processor and the task spec. Both travel in each run's metadata (tg_key, tg_src, tg_kc,
// tg_sha), so any tg, from any directory, can tell which rows a group already has.
import { createHash } from 'node:crypto';
import { hash52 } from './hash';

export interface RunTags {
  tg_key: string;
  tg_src: string;
  tg_sha: string;
  tg_kc?: string;
}

/** 16 hex digits of sha256 over what is sent for a row: input, processor and the spec's digest. */
export function rowSha(input: unknown, processor: string, specSha: string | null): string {
  return createHash('sha256')
    .update(typeof input === 'string' ? `s${input}` : `o${JSON.stringify(input)}`)
    .update(`\0${processor}\0${specSha ?? ''}`)
    .digest('hex')
    .slice(0, 16);
}

/** The identity of a row: key column + key, or source + row number. */
export function rowIdent(src: string, keyColumn: string | undefined, key: string): string {
  return keyColumn !== undefined ? `k\0${keyColumn}\0${key}` : `s\0${src}\0${key}`;
}

/** The identity of an existing run, from its metadata; null for runs tg did not create. */
export function runIdent(md: Record<string, unknown> | null | undefined): string | null {
  if (!md || md.tg_key === undefined || md.tg_key === null) return null;
  if (typeof md.tg_kc === 'string' && md.tg_kc !== '') return rowIdent('', md.tg_kc, String(md.tg_key));
  if (md.tg_src === undefined || md.tg_src === null) return null;
  return rowIdent(String(md.tg_src), undefined, String(md.tg_key));
}

/** A 52-bit number from the first 13 hex digits of a digest. */
export const shaNum = (sha: string): number => parseInt(sha.slice(0, 13), 16);

export type RowState = 'new' | 'present' | 'conflict';

/**
 * What a group holds, in bounded memory: 52-bit hashes of identities → 52-bit digests (the
 * latest run wins, so a row resent after a change counts as its new content). A collision
 * of two identities' hashes (about 1 in 10^4 for a million rows) makes a new row look like a
 * conflict, which stops the command before anything is sent — never a silent skip: a row is
 * "present" only if its 52-bit digest matches too.
 */
export class Ledger {
  private readonly rows = new Map<number, number>();
  runs = 0;
  tagged = 0;
  duplicates = 0;
  /** Key columns seen per source (to catch a resume with another --key). */
  readonly keyColumnsBySource = new Map<string, Set<string>>();

  add(md: Record<string, unknown> | null | undefined): void {
    this.runs++;
    const ident = runIdent(md);
    if (ident === null || !md) return;
    this.tagged++;
    const h = hash52(ident);
    const sha = typeof md.tg_sha === 'string' ? shaNum(md.tg_sha) : -1;
    if (this.rows.get(h) === sha) this.duplicates++; // the same row twice (a resend after a change is not)
    this.rows.set(h, sha);
    if (md.tg_src !== undefined) {
      const src = String(md.tg_src);
      let s = this.keyColumnsBySource.get(src);
      if (!s) this.keyColumnsBySource.set(src, (s = new Set()));
      s.add(typeof md.tg_kc === 'string' ? md.tg_kc : '');
    }
  }

  state(ident: string, sha: string): RowState {
    const have = this.rows.get(hash52(ident));
    if (have === undefined) return 'new';
    return have === shaNum(sha) ? 'present' : 'conflict';
  }

  get size(): number {
    return this.rows.size;
  }
}

/** The key column a source was sent with before, if it differs from this one's (else null). */
export function keyColumnChange(ledger: Ledger, src: string, keyColumn: string | undefined): string | null {
  const seen = ledger.keyColumnsBySource.get(src);
  if (!seen) return null;
  const mine = keyColumn ?? '';
  for (const kc of seen) if (kc !== mine) return kc;
  return null;
}
