// An open-addressing hash table of integer keys below 2^52 (the Ledger's hashes), each with an
// optional number: Float64Arrays instead of a Set/Map of heap numbers, which cost ~2 µs an insert
// (measured: 100k Ledger.add calls 0.8 s with a Set and a Map, see the commit). Keys are stored
// plus one, so 0 marks an empty slot; linear probing; at most half full.

export class NumTable {
  private keys: Float64Array;
  private vals: Float64Array | null;
  size = 0;

  constructor(withValues: boolean, capacity = 1024) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.keys = new Float64Array(n);
    this.vals = withValues ? new Float64Array(n) : null;
  }

  /** The slot holding k, or the empty slot where it would go. */
  private slot(k: number): number {
    const stored = k + 1;
    const mask = this.keys.length - 1;
    for (let i = (k >>> 0) & mask; ; i = (i + 1) & mask) {
      const t = this.keys[i];
      if (t === 0 || t === stored) return i;
    }
  }

  has(k: number): boolean {
    return this.keys[this.slot(k)] !== 0;
  }

  /** The number kept with k (0 for a table without values), or undefined if k is absent. */
  get(k: number): number | undefined {
    const i = this.slot(k);
    if (this.keys[i] === 0) return undefined;
    return this.vals ? this.vals[i] : 0;
  }

  set(k: number, v = 0): void {
    let i = this.slot(k);
    if (this.keys[i] === 0) {
      if ((this.size + 1) * 2 > this.keys.length) {
        this.grow();
        i = this.slot(k);
      }
      this.keys[i] = k + 1;
      this.size++;
    }
    if (this.vals) this.vals[i] = v;
  }

  /** The table's arrays, to move it to another thread (transfer the buffers) and `from` there. */
  export(): NumTableData {
    return { keys: this.keys, vals: this.vals, size: this.size };
  }

  static from(d: NumTableData): NumTable {
    const t = new NumTable(d.vals !== null, 0);
    t.keys = d.keys;
    t.vals = d.vals;
    t.size = d.size;
    return t;
  }

  private grow(): void {
    const { keys, vals } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.vals = vals ? new Float64Array(keys.length * 2) : null;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.set(keys[i] - 1, vals ? vals[i] : 0);
  }
}

export interface NumTableData {
  keys: Float64Array;
  vals: Float64Array | null;
  size: number;
}
