// The processors the API lists (docs.parallel.ai, 2026); each has a -fast variant.
export const PROCESSOR_BASES = ['lite', 'base', 'core', 'core2x', 'pro', 'ultra', 'ultra2x', 'ultra4x', 'ultra8x'] as const;
export const PROCESSORS: ReadonlySet<string> = new Set(PROCESSOR_BASES.flatMap((p) => [p, `${p}-fast`]));
