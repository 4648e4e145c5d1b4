// The spec of --field options: output fields from the options, input_schema from the input's
// columns (its CSV header, or its first JSON row's keys), read from the file itself.
import { readRows, type Format } from '../../io/rows';
import { parseFields, specFromFields } from '../../core/fields';
import type { TaskSpec } from '../../core/wire';

/** The columns of an input: the first row's keys (a CSV's header); null for rows that are not objects. */
export async function inputColumns(file: string, format: Format, shown: string): Promise<string[] | null> {
  const rows = readRows(file, format, shown, { ragged: true }); // only the header (the first row's keys) matters
  for await (const row of rows) {
    const v = row.value;
    await rows.return(undefined);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : null;
  }
  return null;
}

/**
 * The TaskSpec of --field options. With an input, its columns make the input_schema (not with
 * --input-column, whose runs are sent one column's text).
 */
export async function fieldSpec(raw: string[], input?: { file: string; format: Format; shown: string; inputColumn?: string }): Promise<TaskSpec> {
  const fields = parseFields(raw);
  if (!input || input.inputColumn !== undefined) return specFromFields(fields);
  const columns = await inputColumns(input.file, input.format, input.shown);
  return specFromFields(fields, columns ? { columns, csv: input.format === 'csv' } : undefined);
}
