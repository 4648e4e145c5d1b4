// The input of a submit: its format (--format, else its extension, else — for stdin — what its
// content looks like, said in one line) and how each pass reads its rows (--delimiter, --encoding,
// --sheet; with --skip-invalid a row with the wrong number of fields is a row, rejected).
import fs from 'node:fs';
import type { Context } from '../../context';
import { formatByExtension, formatNames, formatOf, openRows, sniffFile, where, type Format, type ReadInfo, type RowSource } from '../../io/formats';
import { inputError } from '../../errors';
import type { Job, SubmitOptions } from './job';

/**
 * The input's format: --format, else its extension; stdin (spooled to `file`) and a file whose
 * extension says nothing (Excel's "Unicode Text" is a .txt) are sniffed, and the guess said.
 */
export async function inputFormat(o: SubmitOptions, file: string, isStdin: boolean, ctx: Context): Promise<Format> {
  if (o.format || (!isStdin && (formatByExtension(o.input) || /\.(xls|xlsb|ods|numbers)$/i.test(o.input)))) return formatOf(o.input, o.format);
  const name = isStdin ? 'stdin' : o.input;
  if (fs.statSync(file).size === 0) throw inputError(`${name} is empty: nothing to send`, isStdin ? 'Pipe the rows in: cat rows.csv | tg submit -' : undefined);
  const s = await sniffFile(file);
  if (!s) throw inputError(`${name}: cannot tell its format from its ${isStdin ? 'content' : 'name or content'}`, `Pass --format ${formatNames().join('|')}.`);
  ctx.info(`tg: ${name} ${s.says} (--format chooses)`);
  return s.format;
}

/** A read of the input `file` (the real file or the stdin spool) with the reading options of `o`. */
export function openInput(o: SubmitOptions, file: string, shown: string, format: Format, ragged: boolean): RowSource {
  return openRows(file, { format: format.name, shown, delimiter: o.delimiter, encoding: o.encoding, sheet: o.sheet, ragged });
}

/** One read of the job's input: rows in batches, and what the read finds out (delimiter, empty rows). */
export function rowsOf(job: Job): RowSource {
  return openInput(job.o, job.file, job.shown, job.format, Boolean(job.o.skipInvalid));
}

/** Where a row (and one of its columns) is, for messages: `f.csv:5`, `f.xlsx:Sheet1!C5`, `f.parquet row 5`. */
export function positionIn(info: ReadInfo | undefined, job: Job): (line: number, column?: string) => string {
  return info ? (line, column) => where(info, line, column) : (line) => `${job.shown}:${line}`;
}
