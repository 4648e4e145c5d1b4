// TSV: tab-separated text (.tsv, .tab; Excel's "Unicode Text" is this in UTF-16 with a BOM).
import { delimitedBatches } from './delimited';
import { openDelimited } from './delimitedwrite';
import type { Format } from './types';

export const tsv: Format = {
  name: 'tsv',
  extensions: ['.tsv', '.tab'],
  text: true,
  textCells: true,
  unit: 'line',
  // Sniffing finds tab-separated text as csv with a tab delimiter (the same reader).
  sniff: () => false,
  read: (src, opts, info) =>
    delimitedBatches(src.shown, src.text(), {
      delimiter: opts.delimiter ?? '\t',
      ragged: opts.ragged,
      skipEmpty: opts.skipEmpty ?? true,
      maxRowBytes: opts.maxRowBytes,
      info,
    }),
  open: (target, columns, opts = {}) => openDelimited(target, columns, { ...opts, delimiter: opts.delimiter ?? '\t' }),
};
