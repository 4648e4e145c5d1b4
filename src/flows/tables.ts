// Table outputs by format: which formats a table can be written in, and its writer on a file tg
// owns (a TempOutput's stream) or stdout. A binary format (xlsx, Parquet) never goes to a terminal.
import type { Context } from '../context';
import { usageError } from '../errors';
import { formatByName, WRITABLE, type Format, type RowSource, type TableColumn, type TableWriter, type WriteOptions } from '../io/formats';

/** The format a table is written in, checked: one tg writes; a binary one only to a file or a pipe. */
export function tableFormat(name: string, output: string | undefined, ctx: Context): Format {
  if (!WRITABLE.includes(name))
    throw usageError(`tg writes tables as ${WRITABLE.join(', ')}, not ${name}`, 'Pick one of them with --format, or by the -o extension.');
  const f = formatByName(name);
  if (!f.text && !output && ctx.io.stdoutIsTTY)
    throw usageError(
      `${name} is a binary format: not written to a terminal`,
      `Pass -o file.${f.extensions[0]?.replace(/^\./, '') ?? name}, or redirect stdout.`,
    );
  return f;
}

/** A `;`-separated input gives a `;`-separated enriched CSV (a European Excel opens both). */
export function inputDelimiter(src: RowSource): string | undefined {
  return src.format.name === 'csv' ? src.info.delimiter : undefined;
}

/** Open a table writer of `format` on `target`. */
export function openTable(format: Format, target: NodeJS.WritableStream, columns: TableColumn[], opts: WriteOptions): Promise<TableWriter> {
  return format.open!(target, columns, { ...opts, delimiter: format.name === 'csv' ? opts.delimiter : undefined }); // TSV is tab-separated, whatever the input
}
