// Specs without JSON Schema: `--field 'NAME[:TYPE]: DESCRIPTION'` options become a TaskSpec's
// output_schema, and the input's columns (CSV header, or the first JSON row's keys) its
// input_schema. Pure: every error says which flag and which rule.
import { usageError } from '../errors';
import type { TaskSpec } from './wire';

export const FIELD_TYPES = ['text', 'int', 'number', 'bool', 'date', 'url', 'list'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface Field {
  name: string;
  type: FieldType;
  description: string;
}

/** Property names the API's basis already gives for every field: an output field of that name is refused. */
export const BASIS_NAMES = new Set(['basis', 'citations', 'reasoning', 'confidence', 'sources']);
const NAME = /^[a-z][a-z0-9_]{0,63}$/;
const FORM = "--field 'NAME[:TYPE]: DESCRIPTION', e.g. --field 'founded_year:int: year the company was founded'";

function fieldError(raw: string, rule: string) {
  return usageError(`--field ${JSON.stringify(raw)}: ${rule}`, `Write ${FORM}; TYPE is one of ${FIELD_TYPES.join(', ')} (default text).`);
}

/** One --field value. NAME: lowercase letters, digits, _ (a column name no SQL needs to quote). */
export function parseField(raw: string): Field {
  const colon = raw.indexOf(':');
  if (colon < 0) throw fieldError(raw, 'no ":" between the name and the description');
  const name = raw.slice(0, colon).trim();
  let rest = raw.slice(colon + 1);
  let type: FieldType = 'text';
  const typed = /^([A-Za-z][A-Za-z0-9]*)\s*:(.*)$/s.exec(rest);
  if (typed) {
    const t = typed[1].toLowerCase();
    if (!(FIELD_TYPES as readonly string[]).includes(t)) throw fieldError(raw, `unknown type "${typed[1]}" (types: ${FIELD_TYPES.join(', ')})`);
    type = t as FieldType;
    rest = typed[2];
  }
  const description = rest.trim();
  if (!name) throw fieldError(raw, 'the name is empty');
  if (!NAME.test(name)) throw fieldError(raw, `the name "${name}" must start with a lowercase letter and hold only a-z, 0-9 and _ (at most 64 characters)`);
  if (BASIS_NAMES.has(name)) throw fieldError(raw, `"${name}" is given for every field by the output's basis; pick another name`);
  if (!description) throw fieldError(raw, 'the description is empty: say what the field should hold');
  return { name, type, description };
}

/** Every --field option, in order; a name given twice is an error. */
export function parseFields(raws: string[]): Field[] {
  const fields = raws.map(parseField);
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) throw usageError(`--field ${f.name} is given twice`, 'Give each output field once.');
    seen.add(f.name);
  }
  return fields;
}

/**
 * A field's JSON Schema. `date` and `url` are strings whose form is said in the description: the
 * API does not support JSON Schema's "format" keyword.
 */
export function fieldSchema(f: Field): Record<string, unknown> {
  switch (f.type) {
    case 'int':
      return { type: 'integer', description: f.description };
    case 'number':
      return { type: 'number', description: f.description };
    case 'bool':
      return { type: 'boolean', description: f.description };
    case 'date':
      return { type: 'string', description: `${f.description} (a date, YYYY-MM-DD)` };
    case 'url':
      return { type: 'string', description: `${f.description} (a URL)` };
    case 'list':
      return { type: 'array', items: { type: 'string' }, description: f.description };
    default:
      return { type: 'string', description: f.description };
  }
}

/** The field type a property's JSON Schema says (the reverse of fieldSchema; anything else is text). */
export function fieldTypeOf(schema: unknown): FieldType {
  const s = (schema ?? {}) as { type?: unknown; description?: unknown };
  const desc = typeof s.description === 'string' ? s.description : '';
  if (s.type === 'integer') return 'int';
  if (s.type === 'number') return 'number';
  if (s.type === 'boolean') return 'bool';
  if (s.type === 'array') return 'list';
  if (s.type === 'string' && /\(a date, YYYY-MM-DD\)$/.test(desc)) return 'date';
  if (s.type === 'string' && /\(a URL\)$/.test(desc)) return 'url';
  return 'text';
}

/**
 * The input_schema of an input whose rows have these columns: CSV cells are text; JSON values are
 * left unconstrained (rows may differ in type), only named. Columns outside it are not sent.
 */
export function inputSchemaOf(columns: string[], csv: boolean): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const c of columns) properties[c] = csv ? { type: 'string' } : {};
  return { type: 'json', json_schema: { type: 'object', properties, additionalProperties: false } };
}

/** The TaskSpec the --field options (and the input's columns, when known) imply. */
export function specFromFields(fields: Field[], input?: { columns: string[]; csv: boolean }): TaskSpec {
  const properties: Record<string, unknown> = {};
  for (const f of fields) properties[f.name] = fieldSchema(f);
  const output_schema = {
    type: 'json',
    json_schema: { type: 'object', properties, required: fields.map((f) => f.name), additionalProperties: false },
  };
  const spec: Record<string, unknown> = {};
  if (input && input.columns.length) spec.input_schema = inputSchemaOf(input.columns, input.csv);
  spec.output_schema = output_schema;
  return spec as unknown as TaskSpec;
}
