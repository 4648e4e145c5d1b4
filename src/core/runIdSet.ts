// A compact set of run ids: each id is kept as a 64-bit fingerprint (two independent 32-bit
// FNV-1a hashes) in an open-addressing table of Uint32 pairs, so 1M runs take 16 MB (table of
// 2^21 slots × 8 bytes at ≤ 50 % load) instead of ~100 MB of strings. Two different ids share a
// fingerprint with probability ~n²/2^65 (about 3 in 100 million for a 1M-run group).

function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class RunIdSet {
  private table: Uint32Array;
  private count = 0;

  constructor(capacity = 1024) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.table = new Uint32Array(slots * 2);
  }

  get size(): number {
    return this.count;
  }

  has(id: string): boolean {
    return this.find(fnv1a(id, 0x811c9dc5), (fnv1a(id, 0x9747b28c) | 1) >>> 0) >= 0;
  }

  /** Add an id; false if it was already there. */
  add(id: string): boolean {
    const a = fnv1a(id, 0x811c9dc5);
    const b = (fnv1a(id, 0x9747b28c) | 1) >>> 0; // never 0: 0/0 marks an empty slot
    if (this.find(a, b) >= 0) return false;
    if ((this.count + 1) * 2 > this.table.length / 2) this.grow();
    this.insert(a, b);
    this.count++;
    return true;
  }

  private find(a: number, b: number): number {
    const mask = this.table.length / 2 - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      const ta = this.table[2 * i];
      const tb = this.table[2 * i + 1];
      if (tb === 0) return -1;
      if (ta === a && tb === b) return i;
    }
  }

  private insert(a: number, b: number) {
    const mask = this.table.length / 2 - 1;
    let i = a & mask;
    while (this.table[2 * i + 1] !== 0) i = (i + 1) & mask;
    this.table[2 * i] = a;
    this.table[2 * i + 1] = b;
  }

  private grow() {
    const old = this.table;
    this.table = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.insert(old[i], old[i + 1]);
  }
}
