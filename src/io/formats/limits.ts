// Bounds that keep memory flat whatever the input: the API takes at most 25,000 characters per
// input, so no row a run can use is anywhere near these; a larger one is refused, not buffered.

/** The largest row, line, field, JSON element or sheet cell read: 1 MiB. */
export const MAX_ROW_BYTES = 1 << 20;

/** Rows a batch holds at most (one batch per chunk of text, never a promise per row). */
export const BATCH = 512;

/** `1 MiB` for messages. */
export function sizeText(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** The hint of every "too large" error. */
export const TOO_LARGE_HINT =
  'The API takes at most 25,000 characters per input: check that the file is what you meant (a corrupt or malicious file?), or cut the row.';
