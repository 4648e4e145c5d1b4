// A sketch of a set of row contents: its k smallest 52-bit content hashes (a "bottom-k" sketch) and
// its size. Two inputs' sketches tell how much of one's content the other holds, whatever the row
// order: a renamed copy, a re-sorted or re-exported file, stdin that grew. Pure.

export const SKETCH_K = 64;

export interface Sketch {
  /** Distinct contents the input had. */
  n: number;
  /** Its SKETCH_K smallest content hashes, ascending. */
  h: number[];
}

/** Collects the k smallest distinct hashes offered. */
export class BottomK {
  private h: number[] = [];
  n = 0;
  constructor(private readonly k = SKETCH_K) {}
  /** Offer one distinct content's hash. */
  add(x: number): void {
    this.n++;
    const h = this.h;
    if (h.length === this.k && x >= h[h.length - 1]) return;
    let i = h.length;
    while (i > 0 && h[i - 1] > x) i--;
    if (h[i - 1] === x) return;
    h.splice(i, 0, x);
    if (h.length > this.k) h.pop();
  }
  sketch(): Sketch {
    return { n: this.n, h: [...this.h] };
  }
}

/**
 * How much of the smaller input's content the other holds, estimated from their sketches: the
 * Jaccard similarity over the union's k smallest hashes, turned into a containment (0..1).
 */
export function containment(a: Sketch, b: Sketch, k = SKETCH_K): number {
  if (!a.n || !b.n) return 0;
  const inA = new Set(a.h);
  const inB = new Set(b.h);
  const union = [...new Set([...a.h, ...b.h])].sort((x, y) => x - y).slice(0, k);
  const shared = union.filter((x) => inA.has(x) && inB.has(x)).length;
  const j = shared / union.length;
  const both = (j * (a.n + b.n)) / (1 + j);
  return Math.min(1, both / Math.min(a.n, b.n));
}
