// A growable set of small non-negative integers as bits (one bit a row: 125 KB for a million).

export class Bits {
  private words = new Uint32Array(64);
  size = 0;

  set(i: number): void {
    const w = i >>> 5;
    if (w >= this.words.length) {
      let n = this.words.length;
      while (n <= w) n *= 2;
      const grown = new Uint32Array(n);
      grown.set(this.words);
      this.words = grown;
    }
    const bit = 1 << (i & 31);
    if (!(this.words[w] & bit)) this.size++;
    this.words[w] |= bit;
  }

  has(i: number): boolean {
    const w = i >>> 5;
    return w < this.words.length && (this.words[w] & (1 << (i & 31))) !== 0;
  }

  /** How many members are below n. */
  countBelow(n: number): number {
    let c = 0;
    for (let i = 0; i < n && i >>> 5 < this.words.length; i++) if (this.has(i)) c++;
    return c;
  }
}
