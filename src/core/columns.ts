// The enriched CSV's columns: the input's own, then per output field X: X, X_confidence,
// X_citations (and X_reasoning on request), then tg_status, tg_error, tg_run_id (and tg_processor
// when the rows' runs may differ in processor: --escalate, or a group of several). The names tg adds
// need no quoting in SQL (DuckDB, SQLite): lowercase [a-z0-9_], not a keyword, not starting with
// a digit, and never equal to an input column (then prefixed out_). Pure.

/** Keywords DuckDB and SQLite both reserve (a column named so must be quoted). */
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create default deferrable desc ' +
    'distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral leading limit ' +
    'not null offset on only or order placing primary references returning select symmetric table then to trailing true union unique ' +
    'using variadic when where window with'
  ).split(' '),
);

/** A name no SQL needs to quote: lowercase, [a-z0-9_], not starting with a digit, not a keyword. */
export function sqlName(raw: string): string {
  let s = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!s) s = 'field';
  if (/^[0-9]/.test(s)) s = `c_${s}`;
  if (RESERVED.has(s)) s = `${s}_`;
  return s;
}

export interface OutputColumn {
  /** The column's header. */
  name: string;
  /** The output field it comes from (content key), or null for tg's own columns. */
  field: string | null;
  part: 'value' | 'confidence' | 'citations' | 'reasoning' | 'status' | 'error' | 'run_id' | 'processor';
}

/**
 * The columns appended to the input's: per output field its value and basis, then tg's (with
 * `processor`, tg_processor last). A name that equals an input column (compared
 * case-insensitively) or an earlier name gets out_ in front (then _2, _3… if still taken).
 */
export function outputColumns(inputColumns: string[], fields: string[], reasoning: boolean, processor = false): OutputColumn[] {
  const taken = new Set(inputColumns.map((c) => c.toLowerCase()));
  const cols: OutputColumn[] = [];
  const add = (base: string, field: string | null, part: OutputColumn['part']) => {
    let name = base;
    if (taken.has(name)) name = `out_${base}`;
    for (let i = 2; taken.has(name); i++) name = `out_${base}_${i}`;
    taken.add(name);
    cols.push({ name, field, part });
  };
  for (const f of fields) {
    const n = sqlName(f);
    add(n, f, 'value');
    add(`${n}_confidence`, f, 'confidence');
    add(`${n}_citations`, f, 'citations');
    if (reasoning) add(`${n}_reasoning`, f, 'reasoning');
  }
  add('tg_status', null, 'status');
  add('tg_error', null, 'error');
  add('tg_run_id', null, 'run_id');
  if (processor) add('tg_processor', null, 'processor');
  return cols;
}

interface BasisEntry {
  field?: string;
  reasoning?: string;
  confidence?: string | null;
  citations?: { url?: string }[] | null;
}

export interface RunResult {
  run_id?: string;
  status?: string;
  error?: string | null;
  /** The processor that answered (tg_processor). */
  processor?: string;
  output?: { type?: string; content?: unknown; basis?: unknown[] | null } | null;
}

/** The cells of one row's output columns (undefined: blank). Citations: the URLs, space-separated. */
export function outputCells(cols: OutputColumn[], r: RunResult | null): unknown[] {
  if (!r) return cols.map(() => undefined);
  const content = r.output?.content;
  const obj = content !== null && typeof content === 'object' && !Array.isArray(content) ? (content as Record<string, unknown>) : null;
  const basis = new Map<string, BasisEntry>();
  for (const x of r.output?.basis ?? []) {
    const b = x as BasisEntry | null;
    if (b && typeof b.field === 'string' && !basis.has(b.field)) basis.set(b.field, b);
  }
  return cols.map((c) => {
    if (c.part === 'status') return r.status;
    if (c.part === 'error') return r.error ?? undefined;
    if (c.part === 'run_id') return r.run_id;
    if (c.part === 'processor') return r.processor;
    const f = c.field!;
    if (c.part === 'value') return obj ? obj[f] : f === 'output' ? content : undefined;
    const b = basis.get(f);
    if (!b) return undefined;
    if (c.part === 'confidence') return b.confidence ?? undefined;
    if (c.part === 'reasoning') return b.reasoning;
    return (b.citations ?? [])
      .map((x) => x?.url)
      .filter((u): u is string => typeof u === 'string' && u !== '')
      .join(' ');
  });
}
