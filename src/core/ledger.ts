// The group is the ledger: which rows a group already holds, by row identity and content digest.
// Pure: the listing itself is done by the caller (src/commands/submit/listing.ts).
//
// A row is known by its key — the --key column's value, or its row number — and by a digest of
// exactly what was sent for it: the input, the processor, the task spec and the run options. Both travel in each
// run's metadata (tg_key, tg_sha; tg_kc names the key column, tg_src the source: a digest of the
// input's real path, or "stdin"), so any tg, from any directory, can tell which rows a group has.
import { digest64, hash52 } from './hash';
import { NumTable, type NumTableData } from './numTable';

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

/** The slot of an existing run, from its metadata; null for runs tg did not create. */
export function runIdent(md: Record<string, unknown> | null | undefined): string | null {
  const id = identOf(md);
  return id && rowIdent(id.src, id.kc, id.key);
}

/**
 * The parts of a run's row identity in its metadata: the key column (`tg_kc`) when there is one,
 * else the source (`tg_src`), and the key; null when a part is missing (not a tg row).
 */
function identOf(md: Record<string, unknown> | null | undefined): { src: string; kc: string | undefined; key: string } | null {
  if (!md || md.tg_key === undefined || md.tg_key === null) return null;
  const kc = typeof md.tg_kc === 'string' && md.tg_kc !== '' ? md.tg_kc : undefined;
  if (kc === undefined && (md.tg_src === undefined || md.tg_src === null)) return null;
  return { src: kc === undefined ? String(md.tg_src) : '', kc, key: String(md.tg_key) };
}

/** A 52-bit number from the first 13 hex digits of a digest. */
export const shaNum = (sha: string): number => parseInt(sha.slice(0, 13), 16);

const TWO52 = 2 ** 52;

/**
 * A row's marks, as the Ledger compares them: its slot (key column + key, or source + row
 * number); its presence; and a second, independent hash of its content for content identity.
 *
 * With content identity (the default, `dedupe`), a row is in the group when a run has the same
 * digest under any key: a repeated row, a re-sorted or re-exported file, a copy, stdin — the
 * content is what is paid for, once. Presence is then the digest's own 52 bits, and `check` a
 * second 52-bit hash of it: both must match (content sets keep every pair, so two contents whose
 * first hashes collide are both kept: a collision never hides a row).
 * Without it (--no-dedupe), a row is in the group when a run has its key with the same digest:
 * the presence hash adds the digest's 52 bits to a hash of the key.
 */
export type RowMarks = [slot: number, presence: number, check: number];

export function rowMarks(src: string, keyColumn: string | undefined, key: string, sha: string, dedupe = false): RowMarks {
  const slot = hash52(rowIdent(src, keyColumn, key));
  if (dedupe) return [slot, shaNum(sha), hash52(sha)];
  return [slot, keyColumn !== undefined ? (slot + shaNum(sha)) % TWO52 : presenceHash(undefined, key, sha), 0];
}

/** A row's presence hash alone without content identity (the second of rowMarks). */
export function presenceHash(keyColumn: string | undefined, key: string, sha: string): number {
  return (hash52(keyColumn !== undefined ? rowIdent('', keyColumn, key) : `n\0${key}`) + shaNum(sha)) % TWO52;
}

/** The content marks of a digest: its own 52 bits and a second hash of it. */
export const contentMarks = (sha: string): [number, number] => [shaNum(sha), hash52(sha)];

/**
 * A set of contents by their two 52-bit hashes: a table of first hash → second, and for the rare
 * first hash two contents share, the others beside it (so nothing is lost to a collision).
 */
export class ContentSet {
  private table: NumTable;
  private more = new Map<number, number[]>();
  constructor(capacity = 1024) {
    this.table = new NumTable(true, capacity);
  }
  /** Add a content; false when it was there already. */
  add(a: number, b: number): boolean {
    const v = this.table.get(a);
    if (v === undefined) {
      this.table.set(a, b);
      return true;
    }
    if (v === b) return false;
    const others = this.more.get(a);
    if (others?.includes(b)) return false;
    if (others) others.push(b);
    else this.more.set(a, [b]);
    return true;
  }
  has(a: number, b: number): boolean {
    const v = this.table.get(a);
    return v === b || (v !== undefined && (this.more.get(a)?.includes(b) ?? false));
  }
  export(): ContentSetData {
    return { table: this.table.export(), more: [...this.more] };
  }
  static from(d: ContentSetData): ContentSet {
    const c = new ContentSet(0);
    c.table = NumTable.from(d.table);
    c.more = new Map(d.more);
    return c;
  }
}

export interface ContentSetData {
  table: NumTableData;
  more: [number, number[]][];
}

export type RowState = 'new' | 'present' | 'conflict';

/**
 * What a group holds, in bounded memory: 52-bit hashes of slots → digests, and of what is present
 * (contents, or keys with digests — see rowMarks). A collision of two slot hashes (about 1 in 10^4
 * for a million rows) can make a new row look like a conflict, which stops the command before
 * anything is sent; for a row to look present, two independent hashes must collide (about 1 in
 * 10^15).
 */
export class Ledger {
  private present: NumTable | null;
  private content: ContentSet | null;
  private slots: NumTable;
  runs = 0;
  tagged = 0;
  duplicates = 0;
  /** Key columns seen per source (to catch a resume with another --key). */
  readonly keyColumnsBySource = new Map<string, Set<string>>();

  /** `expected`: the group's run count, when known (the tables are sized once, not grown); `dedupe`: content identity (see rowMarks). */
  constructor(
    expected = 1024,
    readonly dedupe = false,
  ) {
    const size = Math.min(expected, 1 << 22); // beyond 4M runs, the tables grow as they fill
    this.present = dedupe ? null : new NumTable(false, size);
    this.content = dedupe ? new ContentSet(size) : null;
    this.slots = new NumTable(true, size);
  }

  add(md: Record<string, unknown> | null | undefined): void {
    this.runs++;
    const id = identOf(md);
    if (!md || !id || typeof md.tg_sha !== 'string') return;
    this.tagged++;
    const [slot, p, check] = rowMarks(id.src, id.kc, id.key, md.tg_sha, this.dedupe);
    const sha = shaNum(md.tg_sha);
    const retry = Number(md.tg_try) > 1; // --retry-failed sends a row again on purpose
    const isNew = this.content ? this.content.add(p, check) : this.present!.has(p) ? false : (this.present!.set(p), true);
    if (!isNew && !retry && (this.content || this.slots.get(slot) === sha)) this.duplicates++; // the same content paid twice (a resend after a change is not)
    this.slots.set(slot, sha);
    if (md.tg_src !== undefined) {
      const src = String(md.tg_src);
      let s = this.keyColumnsBySource.get(src);
      if (!s) this.keyColumnsBySource.set(src, (s = new Set()));
      s.add(id.kc ?? '');
    }
  }

  /** Add every run of a listing (`client.streamRunBatches(group)`): the group as the ledger. */
  async fill(batches: AsyncIterable<{ type: string; run?: { metadata?: Record<string, unknown> | null } }[]>): Promise<this> {
    for await (const batch of batches) for (const ev of batch) if (ev.type === 'task_run.state') this.add(ev.run?.metadata);
    return this;
  }

  /** A row's state, from its marks (see rowMarks). */
  stateOf(slot: number, presence: number, check: number): RowState {
    if (this.content ? this.content.has(presence, check) : this.present!.has(presence)) return 'present';
    return this.slots.has(slot) ? 'conflict' : 'new';
  }

  get size(): number {
    return this.slots.size;
  }

  /** Everything the ledger holds, to move it between threads (the table buffers transfer). */
  export(): LedgerData {
    const { runs, tagged, duplicates, dedupe } = this;
    const keyColumns = [...this.keyColumnsBySource].map(([src, kcs]) => [src, [...kcs]] as [string, string[]]);
    return {
      present: this.present?.export() ?? null,
      content: this.content?.export() ?? null,
      slots: this.slots.export(),
      runs,
      tagged,
      duplicates,
      dedupe,
      keyColumns,
    };
  }

  static from(d: LedgerData): Ledger {
    const l = new Ledger(0, d.dedupe);
    l.present = d.present && NumTable.from(d.present);
    l.content = d.content && ContentSet.from(d.content);
    l.slots = NumTable.from(d.slots);
    Object.assign(l, { runs: d.runs, tagged: d.tagged, duplicates: d.duplicates });
    for (const [src, kcs] of d.keyColumns) l.keyColumnsBySource.set(src, new Set(kcs));
    return l;
  }
}

export interface LedgerData {
  present: NumTableData | null;
  content: ContentSetData | null;
  slots: NumTableData;
  runs: number;
  tagged: number;
  duplicates: number;
  dedupe: boolean;
  keyColumns: [string, string[]][];
}

/**
 * The marks of the rows read while the group is still being listed, in row order: classified
 * once the listing ends (24 bytes a row).
 */
export class MarkList {
  private cols = [new Float64Array(1024), new Float64Array(1024), new Float64Array(1024)];
  length = 0;

  push(marks: RowMarks): void {
    if (this.length === this.cols[0].length)
      this.cols = this.cols.map((a) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      });
    for (let k = 0; k < 3; k++) this.cols[k][this.length] = marks[k];
    this.length++;
  }

  state(ledger: Ledger, i: number): RowState {
    return ledger.stateOf(this.cols[0][i], this.cols[1][i], this.cols[2][i]);
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
