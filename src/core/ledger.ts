// The group is the ledger: which rows a group already holds, by row identity and content digest.
// Pure: the listing itself is done by the caller (src/commands/submit/ledger.ts).
//
// A row is known by its key — the --key column's value, or its row number — and by a digest of
// exactly what was sent for it: the input, the processor, the task spec and the run options. Both travel in each
// run's metadata (tg_key, tg_sha; tg_kc names the key column, tg_src the source: a digest of the
// input's real path, or "stdin"), so any tg, from any directory, can tell which rows a group has.
import { digest64, hash52 } from './hash';

export interface RunTags {
  tg_key: string;
  tg_src: string;
  tg_sha: string;
  tg_kc?: string;
}

/**
 * A 64-bit digest (16 hex digits) of what is sent for a row: its input as JSON text, the
 * processor, the spec's digest and the run options with their betas (runOptionsKey; when there
 * are none the digest is what it was before run options existed).
 */
export function rowSha(inputJson: string, processor: string, specSha: string | null, optionsKey = ''): string {
  return digest64(`${inputJson}\0${processor}\0${specSha ?? ''}${optionsKey ? `\0${optionsKey}` : ''}`);
}

/**
 * The slot of a row: key column + key, or source + row number. Two runs in one slot with other
 * digests are the same row changed (a conflict).
 */
export function rowIdent(src: string, keyColumn: string | undefined, key: string): string {
  return keyColumn !== undefined ? `k\0${keyColumn}\0${key}` : `s\0${src}\0${key}`;
}

/**
 * What makes a row "already in the group": its key (the key column's value, or the row number,
 * whatever source sent it) with the same digest. So the same rows sent once from a file and again
 * through stdin, a copy or a renamed file are recognised; two different files sent into one group
 * are not confused, because their rows differ in content.
 */
export function presenceKey(keyColumn: string | undefined, key: string, sha: string): string {
  return keyColumn !== undefined ? `k\0${keyColumn}\0${key}\0${sha}` : `n\0${key}\0${sha}`;
}

/** The slot of an existing run, from its metadata; null for runs tg did not create. */
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
 * What a group holds, in bounded memory: 52-bit hashes of presence keys, and of slots → digests.
 * A collision of two hashes (about 1 in 10^4 for a million rows) can make a new row look like a
 * conflict, which stops the command before anything is sent; for a row to look present, its key
 * and digest must both collide (about 1 in 10^15).
 */
export class Ledger {
  private readonly present = new Set<number>();
  private readonly slots = new Map<number, number>();
  runs = 0;
  tagged = 0;
  duplicates = 0;
  /** Key columns seen per source (to catch a resume with another --key). */
  readonly keyColumnsBySource = new Map<string, Set<string>>();

  add(md: Record<string, unknown> | null | undefined): void {
    this.runs++;
    const slot = runIdent(md);
    if (slot === null || !md || typeof md.tg_sha !== 'string') return;
    this.tagged++;
    const kc = typeof md.tg_kc === 'string' && md.tg_kc !== '' ? md.tg_kc : undefined;
    const p = hash52(presenceKey(kc, String(md.tg_key), md.tg_sha));
    const sameSlot = this.slots.get(hash52(slot)) === shaNum(md.tg_sha);
    if (sameSlot && this.present.has(p)) this.duplicates++; // the same row twice (a resend after a change is not)
    this.present.add(p);
    this.slots.set(hash52(slot), shaNum(md.tg_sha));
    if (md.tg_src !== undefined) {
      const src = String(md.tg_src);
      let s = this.keyColumnsBySource.get(src);
      if (!s) this.keyColumnsBySource.set(src, (s = new Set()));
      s.add(kc ?? '');
    }
  }

  state(slot: string, presence: string): RowState {
    if (this.present.has(hash52(presence))) return 'present';
    return this.slots.has(hash52(slot)) ? 'conflict' : 'new';
  }

  get size(): number {
    return this.slots.size;
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
