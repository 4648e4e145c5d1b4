// `--intent`: the Ingest API's suggestions (POST /v1beta/tasks/suggest, /v1beta/tasks/suggest-processor)
// as tg's own fields, so a suggested spec is built, printed and digested exactly as `--field`
// options are. Pure: names tg refuses are renamed (and said), types mapped to tg's field types.
import { BASIS_NAMES, parseField, type Field, type FieldType } from './fields';

/** The answer of POST /v1beta/tasks/suggest (plain JSON schemas, not TaskSpec's {type, json_schema}). */
export interface SuggestedTask {
  input_schema?: unknown;
  output_schema?: unknown;
  inputs?: unknown[];
  title?: string;
  warnings?: unknown[];
}

/** The suggested fields as tg's fields, and a line for each change tg made to them. */
export interface MappedFields {
  fields: Field[];
  notes: string[];
}

/** A basis name (given for every field by the output's basis) as a field name tg accepts. */
const BASIS_RENAME: Readonly<Record<string, string>> = {
  basis: 'basis_text',
  citations: 'citation_list',
  reasoning: 'reasoning_text',
  confidence: 'confidence_level',
  sources: 'source_list',
};

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** "CEO Name", "ceoName", "2024 revenue" → ceo_name, ceo_name, f_2024_revenue: lowercase a-z0-9_, ≤ 64, a letter first. */
export function fieldNameOf(raw: string): string {
  let n = raw
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!n) n = 'field';
  if (!/^[a-z]/.test(n)) n = `f_${n}`;
  n = n.slice(0, 64).replace(/_+$/, '');
  return BASIS_RENAME[n] ?? n;
}

/** The JSON type of a property schema (`["string", "null"]` is a string). */
function jsonType(p: Record<string, unknown>): string | undefined {
  const t = p.type;
  if (Array.isArray(t)) return t.find((x) => x !== 'null') as string | undefined;
  return typeof t === 'string' ? t : undefined;
}

/** A property schema as one of tg's field types; `note` when something of it is not kept. */
function typeOf(p: Record<string, unknown>): { type: FieldType; note?: string } {
  const t = jsonType(p);
  if (t === 'integer') return { type: 'int' };
  if (t === 'number') return { type: 'number' };
  if (t === 'boolean') return { type: 'bool' };
  if (t === 'string') return p.format === 'date' ? { type: 'date' } : p.format === 'uri' || p.format === 'url' ? { type: 'url' } : { type: 'text' };
  if (t === 'array') {
    const it = isObj(p.items) ? jsonType(p.items) : undefined;
    return it === undefined || it === 'string' ? { type: 'list' } : { type: 'list', note: `a list of ${it}, asked for as a list of text` };
  }
  return { type: 'text', note: `${t ?? 'no type'} in the suggestion, asked for as text` };
}

/** The description a field is sent with: the suggestion's, its allowed values, else its name in words. */
function descriptionOf(p: Record<string, unknown>, name: string): string {
  const d =
    typeof p.description === 'string' && p.description.trim() ? p.description.trim() : typeof p.title === 'string' && p.title.trim() ? p.title.trim() : '';
  const values = Array.isArray(p.enum) && p.enum.length ? ` (one of: ${p.enum.map(String).join(', ')})` : '';
  return (d || name.replace(/_/g, ' ')) + values;
}

function renameReason(raw: string, normal: string, name: string): string {
  if (name !== normal) return `another field is named ${normal}`;
  if (BASIS_NAMES.has(raw.toLowerCase())) return `the output's basis gives every field its own ${raw.toLowerCase()}`;
  return 'field names are lowercase a-z, 0-9 and _, starting with a letter';
}

/**
 * The output fields of a suggested output schema, in its order: names tg refuses (not lowercase
 * a-z0-9_, a basis name, twice the same) renamed, each rename and each type not kept said in `notes`.
 */
export function fieldsFromSuggestion(outputSchema: unknown): MappedFields {
  const props = isObj(outputSchema) && isObj(outputSchema.properties) ? outputSchema.properties : {};
  const fields: Field[] = [];
  const notes: string[] = [];
  const taken = new Set<string>();
  for (const [raw, p] of Object.entries(props)) {
    const prop = isObj(p) ? p : {};
    const normal = fieldNameOf(raw);
    let name = normal;
    for (let i = 2; taken.has(name); i++) name = `${normal.slice(0, 60)}_${i}`;
    taken.add(name);
    const { type, note } = typeOf(prop);
    if (name !== raw) notes.push(`"${raw}" renamed ${name}: ${renameReason(raw, normal, name)}`);
    if (note) notes.push(`${name}: ${note}`);
    fields.push(parseField(`${name}:${type}: ${descriptionOf(prop, name)}`)); // the --field rules, checked once more
  }
  return { fields, notes };
}

/** A field as the `--field` option that gives it: `founded_year:int: year founded`. */
export function fieldOption(f: Field): string {
  return `${f.name}${f.type === 'text' ? '' : `:${f.type}`}: ${f.description}`;
}

/** A word for a shell, single-quoted when it needs quoting. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The plain JSON schema of an input's columns, as the vendor's planner sends it in previous_task. */
export function plainInputSchema(columns: string[], csv: boolean): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const c of columns) properties[c] = csv ? { type: 'string' } : {};
  return { type: 'object', properties, required: columns };
}

/** The first recommended processor tg knows (it can price it), and those it skipped. */
export function pickProcessor(recommended: unknown, known: ReadonlySet<string>): { processor: string | null; skipped: string[] } {
  const list = Array.isArray(recommended) ? recommended.filter((p): p is string => typeof p === 'string') : [];
  const processor = list.find((p) => known.has(p)) ?? null;
  return { processor, skipped: list.slice(0, processor === null ? list.length : list.indexOf(processor)) };
}

/** The warnings of a suggestion as lines: `{type, message}` objects or plain strings. */
export function warningLines(warnings: unknown): string[] {
  if (!Array.isArray(warnings)) return [];
  return warnings.map((w) => (isObj(w) ? `${typeof w.type === 'string' ? `${w.type}: ` : ''}${String(w.message ?? JSON.stringify(w))}` : String(w)));
}
