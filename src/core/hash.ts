// Fast non-cryptographic string hashes.

/** 32-bit hash of a string (FNV-1a, then mixed). */
export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 52-bit hash as a double (exact integer): collisions among a million keys are ~1e-4 likely. */
export function hash52(s: string): number {
  return hash32(s, 0x1234567) * 1048576 + (hash32(s, 0x7654321) & 0xfffff);
}
