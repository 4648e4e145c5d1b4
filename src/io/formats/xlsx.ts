// Excel workbooks (.xlsx): read streamed, a sheet at a time, cells as the text Excel shows (so
// they are text cells: empty is absent, and values are coerced to the input_schema's types);
// written streamed with typed cells. See xlsxread.ts and xlsxwrite.ts.
import { xlsxBatches } from './xlsxread';
import { openXlsx } from './xlsxwrite';
import type { Format, Head } from './types';

/** A zip whose first entry is an OOXML part (Excel writes [Content_Types].xml first; others docProps/ or xl/). */
function looksLikeXlsx(h: Head): boolean {
  const b = h.bytes;
  if (b.length < 30 || b[0] !== 0x50 || b[1] !== 0x4b || b[2] !== 0x03 || b[3] !== 0x04) return false;
  const name = Buffer.from(b.buffer, b.byteOffset + 30, Math.min(b[26] | (b[27] << 8), b.length - 30)).toString('latin1');
  return /^(\[Content_Types\]\.xml|_rels\/|docProps\/|xl\/)/.test(name) || Buffer.from(b.buffer, b.byteOffset, b.byteLength).includes('xl/workbook.xml');
}

export const xlsx: Format = {
  name: 'xlsx',
  extensions: ['.xlsx', '.xlsm'],
  text: false,
  textCells: true,
  unit: 'row',
  sniff: looksLikeXlsx,
  read: (src, opts, info) => xlsxBatches(src.path, src.shown, opts, info),
  open: (target, columns, opts) => openXlsx(target, columns, opts),
};
