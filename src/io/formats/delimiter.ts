// Which character separates the columns of delimited text: given (--delimiter), or detected from
// the header line when that is unambiguous; a file that cannot be split with confidence is an
// error that says what to pass, never rows read as one column.
import { inputError, usageError } from '../../errors';

/** The delimiters tg reads and detects. */
export const DELIMITERS = [',', ';', '\t', '|'] as const;

/** A delimiter as messages and options spell it: `,` `;` `tab` `|`. */
export const delimiterText = (d: string): string => (d === '\t' ? 'tab' : d);

/** Its name in prose: comma, semicolon, tab, bar. */
export const delimiterName = (d: string): string => ({ ',': 'comma', ';': 'semicolon', '\t': 'tab', '|': 'bar' })[d] ?? `"${d}"`;

/** A `--delimiter` value (`,` `;` `|` `tab` or a tab character), or a usage error. */
export function parseDelimiter(text: string): string {
  const d = text === 'tab' || text === '\\t' ? '\t' : text;
  if ((DELIMITERS as readonly string[]).includes(d)) return d;
  throw usageError(`--delimiter ${JSON.stringify(text)}: not a delimiter tg reads`, "Pass one of , ; | tab (e.g. --delimiter ';').");
}

/**
 * Fields per record of the first `max` records of `sample` split on `d` (a quote opens a field
 * that may hold the delimiter and line breaks; `""` is a quote inside it). The last record counts
 * only when the sample is the whole file (`complete`) or it ends with a line break.
 */
export function fieldCounts(sample: string, d: string, complete: boolean, max = 50): number[] {
  const counts: number[] = [];
  let fields = 1;
  let quoted = false;
  let empty = true;
  for (let i = 0; i < sample.length && counts.length < max; i++) {
    const c = sample[i];
    if (c === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (c === d) fields++;
    else if (c === '\n') {
      if (!empty || fields > 1) counts.push(fields);
      fields = 1;
      empty = true;
      continue;
    } else if (c === '\r') continue;
    empty = false;
  }
  if (complete && !quoted && (!empty || fields > 1) && counts.length < max) counts.push(fields);
  return counts;
}

export interface Detected {
  delimiter: string;
  /** False when the header holds no delimiter at all: a one-column file, read with `fallback`. */
  detected: boolean;
}

/**
 * The delimiter of delimited text from its first lines: the one candidate that splits the header
 * into ≥ 2 columns; of several, the one whose every sampled line has the header's field count.
 * A header of one column holding a candidate, or a tie, is an input error naming the choices.
 */
export function detectDelimiter(file: string, sample: string, complete: boolean, fallback: string): Detected {
  const text = sample.replace(/^\ufeff/, '');
  const counts = new Map(DELIMITERS.map((d) => [d, fieldCounts(text, d, complete)] as const));
  const multi = DELIMITERS.filter((d) => (counts.get(d)![0] ?? 1) >= 2);
  const pass = (ds: readonly string[]) => ds.map((d) => `--delimiter '${delimiterText(d)}'`).join(' or ');
  if (multi.length === 1) return { delimiter: multi[0], detected: true };
  if (multi.length > 1) {
    const steady = multi.filter((d) => {
      const c = counts.get(d)!;
      return c.length > 1 && c.every((n) => n === c[0]);
    });
    if (steady.length === 1) return { delimiter: steady[0], detected: true };
    const how = multi.map((d) => `${delimiterName(d)}s (${counts.get(d)![0]} columns)`).join(' and ');
    throw inputError(`${file}:1: cannot tell how the columns are separated: the header splits on ${how}`, `Pass ${pass(multi)}.`);
  }
  const header = text.slice(0, Math.max(0, text.indexOf('\n')) || text.length);
  const inside = DELIMITERS.filter((d) => d !== fallback && header.includes(d));
  if (inside.length)
    throw inputError(
      `${file}:1: cannot tell how the columns are separated: the header is one column that holds ${inside.map((d) => `a ${delimiterName(d)}`).join(' and ')}`,
      `Pass ${pass(inside)} if it separates the columns, or --delimiter '${delimiterText(fallback)}' if the file has one column.`,
    );
  return { delimiter: fallback, detected: false };
}
