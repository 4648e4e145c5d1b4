// The spec of --field options: output fields from the options, input_schema from the input's
// columns (its header, or its first JSON row's keys), read from the file itself.
import type { RowSource } from '../../io/formats';
import { parseFields, specFromFields } from '../../core/fields';
import type { TaskSpec } from '../../core/wire';

/** The columns of an input: its header (the first row's keys); null for rows that are not objects. */
export async function inputColumns(src: RowSource): Promise<string[] | null> {
  for await (const batch of src.batches) {
    await src.batches.return(undefined); // only the header (the first row's keys) matters
    const v = batch[0]?.value;
    if (src.info.columns) return src.info.columns;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : null;
  }
  return src.info.columns ?? null;
}

/**
 * The TaskSpec of --field options. With an input, its columns make the input_schema (not with
 * --input-column, whose runs are sent one column's text).
 */
export async function fieldSpec(raw: string[], input?: { columns: () => RowSource; textCells: boolean; inputColumn?: string }): Promise<TaskSpec> {
  const fields = parseFields(raw);
  if (!input || input.inputColumn !== undefined) return specFromFields(fields);
  const columns = await inputColumns(input.columns());
  return specFromFields(fields, columns ? { columns, csv: input.textCells } : undefined);
}
