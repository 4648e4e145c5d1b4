// Cells as the text Excel shows (less decoration): a number through its cell's number format —
// dates as YYYY-MM-DD (date-times as ISO, times as HH:MM:SS), the format's decimals, leading
// zeros and percent sign applied; thousands separators, currency symbols, colours and literal
// text left out, so a number stays a number to the input_schema's coercion — and without a
// format ("General") at most 15 significant digits, as Excel shows 0.1+0.2 as 0.3.

/** Excel's built-in number formats that are not General (ids 27–36 and 50–58 are East Asian dates). */
const BUILTIN: Record<number, string> = {
  1: '0',
  2: '0.00',
  3: '#,##0',
  4: '#,##0.00',
  9: '0%',
  10: '0.00%',
  11: '0.00E+00',
  12: '# ?/?',
  13: '# ??/??',
  14: 'yyyy-mm-dd',
  15: 'd-mmm-yy',
  16: 'd-mmm',
  17: 'mmm-yy',
  18: 'h:mm AM/PM',
  19: 'h:mm:ss AM/PM',
  20: 'h:mm',
  21: 'h:mm:ss',
  22: 'm/d/yy h:mm',
  37: '#,##0 ;(#,##0)',
  38: '#,##0 ;[Red](#,##0)',
  39: '#,##0.00;(#,##0.00)',
  40: '#,##0.00;[Red](#,##0.00)',
  45: 'mm:ss',
  46: '[h]:mm:ss',
  47: 'mmss.0',
  48: '##0.0E+0',
  49: '@',
};
for (let id = 27; id <= 36; id++) BUILTIN[id] = 'yyyy-mm-dd';
for (let id = 50; id <= 58; id++) BUILTIN[id] = 'yyyy-mm-dd';

/** How a cell's format shows a number. */
export type Shown =
  | { kind: 'general' }
  | { kind: 'text' }
  | { kind: 'date'; date: boolean; time: boolean }
  | { kind: 'fixed'; decimals: number; intDigits: number; percent: boolean };

const GENERAL: Shown = { kind: 'general' };

/** A format code's first section with quoted text, escapes, fill/padding and [brackets] taken out. */
function bare(code: string): { text: string; elapsed: boolean } {
  let section = '';
  let quoted = false;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (c === ';') break;
    else if (c === '\\' || c === '_' || c === '*') i++;
    else section += c;
  }
  const elapsed = /\[(h+|m+|s+)\]/i.test(section);
  return { text: section.replace(/\[[^\]]*\]/g, ''), elapsed };
}

/** How the number format `code` shows numbers. */
export function classify(code: string | undefined): Shown {
  if (code === undefined || /^general$/i.test(code.trim())) return GENERAL;
  const { text, elapsed } = bare(code);
  if (text.trim() === '@') return { kind: 'text' };
  if (/[dy]/i.test(text) || /[hs]/i.test(text) || elapsed || (/m/i.test(text) && !/[0#?]/.test(text))) {
    const date = /[dy]/i.test(text) || (/m/i.test(text) && !/[hs]/i.test(text) && !elapsed);
    return { kind: 'date', date, time: /[hs]/i.test(text) || elapsed };
  }
  if (/E[+-]/i.test(text) || /\?\/|\/\?|#\s*\?/.test(text) || !/[0#?]/.test(text)) return GENERAL;
  const dot = text.indexOf('.');
  const intPart = dot < 0 ? text : text.slice(0, dot);
  const decPart = dot < 0 ? '' : text.slice(dot + 1);
  return {
    kind: 'fixed',
    decimals: (decPart.match(/[0#?]/g) ?? []).length,
    intDigits: (intPart.match(/0/g) ?? []).length,
    percent: text.includes('%'),
  };
}

/** The built-in or custom format code of a number format id. */
export function formatCode(id: number, custom: Map<number, string>): string | undefined {
  return custom.get(id) ?? BUILTIN[id];
}

/** `v` rounded half away from zero to `d` decimals, through its 15-significant-digit decimal form (as Excel rounds). */
function roundExcel(v: number, d: number): number {
  const [m, e] = Math.abs(v).toPrecision(15).split('e');
  const r = Math.round(Number(`${m}e${Number(e ?? 0) + d}`));
  return Math.sign(v) * Number(`${r}e${-d}`);
}

/** General: integers as they are, others at most 15 significant digits (0.1+0.2 → 0.3). */
export function general(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(15)));
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** An Excel date serial as ISO text (1900 system with its phantom 29 February 1900, or 1904). */
export function excelDate(serial: number, shown: { date: boolean; time: boolean }, date1904: boolean): string {
  let days = Math.floor(serial);
  let secs = Math.round((serial - days) * 86400);
  if (secs >= 86400) {
    days++;
    secs -= 86400;
  }
  const time = `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}`;
  if (!shown.date) return shown.time && serial >= 1 ? `${pad(Math.floor(serial * 24))}:${time.slice(3)}` : time;
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : days < 60 ? Date.UTC(1899, 11, 31) : Date.UTC(1899, 11, 30);
  const d = new Date(epoch + days * 86400000);
  const ymd = !date1904 && days === 60 ? '1900-02-29' : `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return shown.time ? `${ymd}T${time}` : ymd;
}

/** A number cell's text through the way its format shows it. */
export function showNumber(v: number, shown: Shown, date1904: boolean): string {
  switch (shown.kind) {
    case 'general':
    case 'text':
      return general(v);
    case 'date':
      return excelDate(v, shown, date1904);
    case 'fixed': {
      const x = roundExcel(shown.percent ? v * 100 : v, shown.decimals);
      let s = Math.abs(x).toFixed(shown.decimals);
      const dot = s.indexOf('.');
      const int = dot < 0 ? s : s.slice(0, dot);
      if (int.length < shown.intDigits) s = '0'.repeat(shown.intDigits - int.length) + s;
      if (shown.intDigits === 0 && s.startsWith('0.')) s = s.slice(1); // "#.00" shows .5
      return (x < 0 ? '-' : '') + s + (shown.percent ? '%' : '');
    }
  }
}
