// The enriched output, one layout for `submit --watch -o <file>` and `fetch G --join <input>`
// whatever the format (CSV, TSV, xlsx, Parquet, JSON, JSONL): the input rows in their order, each
// with the input's own columns as they were read, then per output field X: X, X_confidence,
// X_citations (and X_reasoning), then tg_status, tg_error, tg_run_id, and tg_processor when the
// runs used more than one processor or the job escalates (core/columns.ts). Each row is
// joined to its run by core/join.ts (key and stored input; the latest attempt). Answers are typed
// where the format has types (the spec's field types); only the cells tg writes are guarded
// against spreadsheet formulas, never the user's own.
import { outputCells, outputColumns, type OutputColumn, type RunResult } from '../core/columns';
import { fieldTypeOf } from '../core/fields';
import { JoinTally, runOf, type RunLookup } from '../core/join';
import { TERMINAL_STATUSES } from '../core/util';
import type { TaskSpec } from '../core/wire';
import type { Row, RowSource, TableColumn, TableWriter } from '../io/formats';

/** How one input row joins: its key (null: never sent), whether it was meant to have a run, why it was rejected. */
export interface RowJoin {
  key: string | null;
  expected: boolean;
  /** --skip-invalid left it out: its status is "rejected", this its error. */
  rejected?: string | null;
}

export interface EnrichedOptions {
  /** The output fields, in order (see outputFields). */
  fields: string[];
  /** The spec, when known: its output types type the answer columns. */
  spec: TaskSpec | null;
  reasoning: boolean;
  /** --raw-csv: no formula guard at all. */
  raw: boolean;
  /** Add tg_processor (--escalate); it is added anyway when the runs used more than one processor. */
  processor?: boolean;
  join(row: Row): RowJoin;
  /** Opens the writer once the columns are known (after the first row: a header may be detected). */
  open(columns: TableColumn[], src: RowSource): Promise<TableWriter>;
}

/** The output fields, in order: the spec's output properties, else those the runs hold (`output.*` of their flattened lines). */
export function outputFields(spec: TaskSpec | null, outNames: readonly string[]): string[] {
  const os = spec?.output_schema as { type?: string; json_schema?: { properties?: object } } | string | undefined;
  if (os && typeof os === 'object' && os.json_schema?.properties) return Object.keys(os.json_schema.properties);
  if (typeof os === 'string' || (os && os.type === 'text')) return ['output'];
  return outNames.filter((n) => n === 'output' || n.startsWith('output.')).map((n) => (n === 'output' ? n : n.slice('output.'.length)));
}

function tableColumns(input: string[], cols: OutputColumn[], o: EnrichedOptions): TableColumn[] {
  const props = (o.spec?.output_schema as { json_schema?: { properties?: Record<string, unknown> } } | undefined)?.json_schema?.properties ?? {};
  return [
    ...input.map((name) => ({ name })),
    ...cols.map((c) => ({ name: c.name, type: c.part === 'value' && c.field ? fieldTypeOf(props[c.field]) : 'text', guard: !o.raw }) as TableColumn),
  ];
}

const BATCH = 512;

/** Write every row of `src`, joined to its run in `index`; returns the tally (check it before keeping the output). */
export async function writeEnriched(src: RowSource, index: RunLookup, o: EnrichedOptions): Promise<JoinTally> {
  const tally = new JoinTally();
  let header: string[] | null = null;
  let cols: OutputColumn[] = [];
  let writer: TableWriter | null = null;
  let out: unknown[][] = [];
  const processor = Boolean(o.processor) || (index.processors?.size ?? 0) > 1;
  try {
    for await (const batch of src.batches) {
      for (const row of batch) {
        const v = (row.value && typeof row.value === 'object' && !Array.isArray(row.value) ? row.value : { input: row.value }) as Record<string, unknown>;
        if (!header) {
          header = src.info.columns ?? Object.keys(v);
          cols = outputColumns(header, o.fields, o.reasoning, processor);
          writer = await o.open(tableColumns(header, cols, o), src);
        }
        const j = o.join(row);
        const { run, keyed } = j.key === null ? { run: null, keyed: false } : runOf(row.value, j.key, index);
        tally.add(row.line, j.expected, run, keyed);
        const status = String(run?.flat.status ?? '');
        const res: RunResult | null = run
          ? {
              run_id: String(run.flat.run_id),
              status,
              error: (run.flat.error as string | null) ?? null,
              processor: run.processor,
              output: TERMINAL_STATUSES.has(status) ? run.output : null,
            }
          : j.rejected !== undefined
            ? { run_id: '', status: 'rejected', error: j.rejected, output: null }
            : null;
        out.push([...header.map((c) => v[c]), ...outputCells(cols, res)]);
        if (out.length >= BATCH) {
          await writer!.write(out);
          out = [];
        }
      }
    }
    if (!writer) writer = await o.open(tableColumns(src.info.columns ?? [], outputColumns(src.info.columns ?? [], o.fields, o.reasoning, processor), o), src);
    if (out.length) await writer.write(out);
    await writer.close();
    return tally;
  } catch (e) {
    await writer?.abort().catch(() => undefined);
    throw e;
  }
}
