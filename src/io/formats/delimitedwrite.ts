// The delimited-text table writer (CSV, TSV): a header, then one record per row; the formula
// guard only on the columns marked `guard` (the cells tg writes), never on the user's input.
import { csvRow } from '../../core/flatten';
import { openSink } from './sink';
import type { TableColumn, TableWriter, WriteOptions } from './types';

export async function openDelimited(
  target: string | NodeJS.WritableStream,
  columns: readonly TableColumn[],
  opts: WriteOptions & { delimiter: string },
): Promise<TableWriter> {
  const sink = await openSink(target);
  const guard = columns.map((c) => c.guard === true);
  const d = opts.delimiter;
  await sink.write(
    (opts.bom ? '\ufeff' : '') +
      csvRow(
        columns.map((c) => c.name),
        [],
        d,
      ) +
      '\n',
  );
  return {
    async write(rows) {
      let s = '';
      for (const r of rows) s += csvRow(r, guard, d) + '\n';
      await sink.write(s);
    },
    close: () => sink.close(),
    abort: () => sink.abort(),
  };
}
