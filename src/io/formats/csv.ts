// CSV: delimited text whose delimiter is detected from the header (`,` `;` tab `|`) unless given.
import { delimitedBatches } from './delimited';
import { DELIMITERS, fieldCounts } from './delimiter';
import { openDelimited } from './delimitedwrite';
import type { Format, Head } from './types';

/** The delimiter the start of a text splits on with confidence: ≥ 2 columns, the same on every sampled line. */
export function sniffDelimiter(h: Head): string | null {
  if (h.text === null || /^\ufeff?\s*[[{]/.test(h.text)) return null;
  const text = h.text.replace(/^\ufeff/, '');
  const fits = DELIMITERS.filter((d) => {
    const c = fieldCounts(text, d, h.complete);
    return c.length >= 2 && c[0] >= 2 && c.every((n) => n === c[0]);
  });
  return fits.length === 1 ? fits[0] : null;
}

export const csv: Format = {
  name: 'csv',
  extensions: ['.csv'],
  text: true,
  textCells: true,
  unit: 'line',
  sniff: (h) => sniffDelimiter(h) !== null,
  read: (src, opts, info) =>
    delimitedBatches(src.shown, src.text(), {
      delimiter: opts.delimiter,
      fallback: ',',
      ragged: opts.ragged,
      skipEmpty: opts.skipEmpty ?? true,
      maxRowBytes: opts.maxRowBytes,
      info,
    }),
  open: (target, columns, opts = {}) => openDelimited(target, columns, { ...opts, delimiter: opts.delimiter ?? ',' }),
};
