// The workbook around a sheet: which sheets it has and where, its date system, the number format
// of each cell style, and its shared strings (streamed into a bounded StringStore).
import { inputError, usageError } from '../../errors';
import { classify, formatCode, type Shown } from './numfmt';
import { StringStore } from './strings';
import { parseXml, type XmlHandlers, type Zip } from './xlsxzip';

export interface Book {
  sheets: { name: string; part: string }[];
  date1904: boolean;
  /** How each cell style (the `s` of a cell) shows numbers. */
  styles: Shown[];
  strings: StringStore;
}

const SMALL = 1 << 20; // the bound of any one text or attribute in a workbook part

/** Runs handlers over a whole (small) part. */
async function readPart(zip: Zip, name: string, shown: string, h: XmlHandlers): Promise<void> {
  const tooLarge = () => inputError(`${shown}: ${name} holds a value over 1 MiB`, 'Open the workbook in Excel and save it again.');
  for await (const _ of parseXml(zip.chunks(name), h, SMALL, tooLarge, `${shown}: ${name}`)) void _;
}

const noText = () => undefined;

/** Relationship id → part path, for the relationships of `part` (targets resolved against its folder). */
async function rels(zip: Zip, part: string, shown: string): Promise<Map<string, { target: string; type: string }>> {
  const dir = part.includes('/') ? part.slice(0, part.lastIndexOf('/') + 1) : '';
  const relsName = `${dir}_rels/${part.slice(dir.length)}.rels`;
  const out = new Map<string, { target: string; type: string }>();
  if (!zip.has(relsName)) return out;
  await readPart(zip, relsName, shown, {
    open(name, a) {
      if (name !== 'Relationship' || a.TargetMode === 'External') return;
      const target = a.Target.startsWith('/') ? a.Target.slice(1) : normalise(dir + a.Target);
      out.set(a.Id, { target, type: a.Type ?? '' });
    },
    close: noText,
    text: noText,
  });
  return out;
}

function normalise(p: string): string {
  const parts: string[] = [];
  for (const s of p.split('/')) {
    if (s === '..') parts.pop();
    else if (s !== '.' && s !== '') parts.push(s);
  }
  return parts.join('/');
}

/** The workbook part (from the package relationships; xl/workbook.xml by default). */
async function workbookPart(zip: Zip, shown: string): Promise<string> {
  for (const r of (await rels(zip, '', shown)).values()) if (r.type.endsWith('/officeDocument')) return r.target;
  if (zip.has('xl/workbook.xml')) return 'xl/workbook.xml';
  throw inputError(`${shown}: not an Excel workbook (no workbook part)`, 'Save it from Excel as "Excel Workbook (.xlsx)".');
}

/** Sheets, date system and the parts a sheet needs. */
export async function readBook(zip: Zip, shown: string, maxCell: number): Promise<Book> {
  const wb = await workbookPart(zip, shown);
  const links = await rels(zip, wb, shown);
  const sheets: { name: string; part: string }[] = [];
  let date1904 = false;
  await readPart(zip, wb, shown, {
    open(name, a) {
      if (name === 'workbookPr') date1904 = a.date1904 === '1' || a.date1904 === 'true';
      if (name !== 'sheet') return;
      const id = Object.entries(a).find(([k]) => k === 'r:id' || k.endsWith(':id'))?.[1];
      const part = id ? links.get(id)?.target : undefined;
      if (part) sheets.push({ name: a.name, part });
    },
    close: noText,
    text: noText,
  });
  let stylesPart: string | undefined;
  let stringsPart: string | undefined;
  for (const r of links.values()) {
    if (r.type.endsWith('/styles')) stylesPart = r.target;
    if (r.type.endsWith('/sharedStrings')) stringsPart = r.target;
  }
  const styles = stylesPart && zip.has(stylesPart) ? await readStyles(zip, stylesPart, shown) : [];
  const strings = new StringStore();
  if (stringsPart && zip.has(stringsPart)) await readStrings(zip, stringsPart, shown, strings, maxCell);
  return { sheets, date1904, styles, strings };
}

async function readStyles(zip: Zip, part: string, shown: string): Promise<Shown[]> {
  const custom = new Map<number, string>();
  const xfs: number[] = [];
  let inXfs = false;
  await readPart(zip, part, shown, {
    open(name, a) {
      if (name === 'numFmt') custom.set(Number(a.numFmtId), a.formatCode ?? '');
      else if (name === 'cellXfs') inXfs = true;
      else if (name === 'xf' && inXfs) xfs.push(Number(a.numFmtId ?? 0));
    },
    close(name) {
      if (name === 'cellXfs') inXfs = false;
    },
    text: noText,
  });
  return xfs.map((id) => classify(formatCode(id, custom)));
}

/** Excel's escape of characters XML cannot hold: `_x000D_` is a carriage return. */
export const unescapeX = (s: string): string =>
  s.includes('_x') ? s.replace(/_x([0-9A-Fa-f]{4})_/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) : s;

async function readStrings(zip: Zip, part: string, shown: string, store: StringStore, max: number): Promise<void> {
  let text: string[] = [];
  let size = 0;
  let inT = false;
  let phonetic = false;
  const tooLarge = () =>
    inputError(
      `${shown}: shared string ${store.size + 1} is larger than ${max >> 20} MiB (the limit of a cell tg reads)`,
      'Check that the workbook is what you meant, or cut the cell.',
    );
  const h: XmlHandlers = {
    open(name) {
      if (name === 'si') {
        text = [];
        size = 0;
      } else if (name === 't') inT = true;
      else if (name === 'rPh') phonetic = true;
    },
    close(name) {
      if (name === 't') inT = false;
      else if (name === 'rPh') phonetic = false;
      else if (name === 'si') {
        const s = unescapeX(text.join(''));
        if (Buffer.byteLength(s) > max) throw tooLarge();
        store.push(s);
      }
    },
    text(t) {
      if (!inT || phonetic) return;
      size += t.length;
      if (size > max) throw tooLarge();
      text.push(t);
    },
  };
  for await (const _ of parseXml(zip.chunks(part), h, max, tooLarge, `${shown}: ${part}`)) void _;
}

/** The sheet `want` names (a name, or a 1-based number), or the first; an error lists the sheets. */
export function pickSheet(book: Book, shown: string, want?: string): { name: string; part: string } {
  if (!book.sheets.length) throw inputError(`${shown}: the workbook has no worksheet`);
  if (want === undefined) return book.sheets[0];
  const byName = book.sheets.find((s) => s.name === want) ?? book.sheets.find((s) => s.name.toLowerCase() === want.toLowerCase());
  if (byName) return byName;
  if (/^\d+$/.test(want) && Number(want) >= 1 && Number(want) <= book.sheets.length) return book.sheets[Number(want) - 1];
  throw usageError(`--sheet ${want}: ${shown} has no such sheet`, `Its sheets: ${book.sheets.map((s, i) => `${i + 1} "${s.name}"`).join(', ')}.`);
}
