// Task spec loading and validation, and turning input rows into run inputs (pure given the
// compiled validator). Errors name file:line, field and rule.
import type { ValidateFunction, ErrorObject } from 'ajv';
import { inputError } from '../errors';
import type { TaskSpec } from './wire';
import { MAX_META_VALUE } from './kv';

export const MAX_SPEC_CHARS = 15_000;
export const MAX_SPEC_AND_INPUT_CHARS = 25_000;

const PARALLEL_UNSUPPORTED = [
  'contains',
  'format',
  'maxContains',
  'maxItems',
  'maxLength',
  'maxProperties',
  'maximum',
  'minContains',
  'minItems',
  'minLength',
  'minimum',
  'minProperties',
  'multipleOf',
  'pattern',
  'patternProperties',
  'propertyNames',
  'uniqueItems',
  'unevaluatedItems',
  'unevaluatedProperties',
];

export interface LoadedSpec {
  spec: TaskSpec;
  chars: number;
  /** JSON schema of the input, when the spec gives one. */
  inputJsonSchema: Record<string, any> | null;
  validateInput: ValidateFunction | null;
  /** Declared input properties (only these columns are sent), or null for "whole row". */
  inputProps: string[] | null;
  warnings: string[];
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${line}:${col}`;
}

function usedKeywords(schema: unknown, path: string, out: { kw: string; at: string }[]) {
  if (!schema || typeof schema !== 'object') return;
  if (Array.isArray(schema)) {
    schema.forEach((s, i) => usedKeywords(s, `${path}/${i}`, out));
    return;
  }
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (PARALLEL_UNSUPPORTED.includes(k) && !path.endsWith('/properties')) out.push({ kw: k, at: path || '/' });
    usedKeywords(v, `${path}/${k}`, out);
  }
}

export async function makeAjv(coerce: boolean) {
  const { Ajv } = await import('ajv');
  const addFormats = (await import('ajv-formats')).default;
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, coerceTypes: coerce, logger: false });
  addFormats(ajv);
  return ajv;
}

function schemaOf(v: unknown): Record<string, any> | null {
  if (v && typeof v === 'object' && !Array.isArray(v) && ((v as any).type === 'json' || (v as any).json_schema !== undefined)) return (v as any).json_schema;
  return null;
}

/** Parse and check a spec file's text. `coerce` turns on CSV string coercion for input checks. */
export async function loadSpec(file: string, text: string, coerce: boolean): Promise<LoadedSpec> {
  let spec: any;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec(String((e as Error).message));
    throw inputError(`${file}${m ? ':' + lineCol(text, Number(m[1])) : ''}: the spec is not valid JSON (${(e as Error).message})`);
  }
  if (!spec || typeof spec !== 'object' || Array.isArray(spec))
    throw inputError(`${file}: the spec must be a JSON object with "output_schema" (and optionally "input_schema")`);
  if (spec.output_schema === undefined)
    throw inputError(`${file}: field "output_schema" is missing`, 'Use {"output_schema": {"type": "auto"}} for an automatic output, or a json_schema.');
  const known = new Set(['input_schema', 'output_schema']);
  for (const k of Object.keys(spec))
    if (!known.has(k)) throw inputError(`${file}: unknown field "${k}" in the spec`, 'A TaskSpec has only "input_schema" and "output_schema".');
  const checkForm = (name: string, v: any, allowAuto: boolean) => {
    if (v === null && name === 'input_schema') return;
    if (typeof v === 'string') return;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw inputError(`${file}: ${name} must be a string or an object`);
    const t = v.type ?? (v.json_schema !== undefined ? 'json' : undefined);
    if (t === 'json') {
      const js = v.json_schema;
      if (!js || typeof js !== 'object' || Array.isArray(js)) throw inputError(`${file}: ${name}.json_schema must be a JSON Schema object`);
      if (js.type !== 'object')
        throw inputError(`${file}: ${name}.json_schema: the schema root must have "type": "object" (found ${JSON.stringify(js.type ?? null)})`);
      if (name === 'output_schema' && (typeof js.properties !== 'object' || js.properties === null))
        throw inputError(`${file}: output_schema.json_schema: the root object needs "properties"`);
      if (js.anyOf) throw inputError(`${file}: ${name}.json_schema: a root "anyOf" is not supported by the API`);
    } else if (t === 'text') {
      if (v.description !== undefined && v.description !== null && typeof v.description !== 'string')
        throw inputError(`${file}: ${name}.description must be a string`);
    } else if (t === 'auto') {
      if (!allowAuto) throw inputError(`${file}: ${name} cannot be "auto"`);
    } else throw inputError(`${file}: ${name}.type must be "json", "text"${allowAuto ? ' or "auto"' : ''} (found ${JSON.stringify(t)})`);
  };
  checkForm('output_schema', spec.output_schema, true);
  if (spec.input_schema !== undefined) checkForm('input_schema', spec.input_schema, false);

  const chars = JSON.stringify(spec).length;
  if (chars > MAX_SPEC_CHARS) throw inputError(`${file}: the spec is ${chars} characters; the API allows ${MAX_SPEC_CHARS}`);

  const ajv = await makeAjv(coerce);
  const compile = (name: string, schema: Record<string, any>) => {
    try {
      return ajv.compile(schema);
    } catch (e) {
      throw inputError(`${file}: ${name}.json_schema is not a valid JSON Schema: ${(e as Error).message.replace(/^strict mode: /, '')}`);
    }
  };
  const outSchema = schemaOf(spec.output_schema);
  if (outSchema) compile('output_schema', outSchema);
  const inSchema = schemaOf(spec.input_schema);
  const validateInput = inSchema ? compile('input_schema', inSchema) : null;
  const warnings: string[] = [];
  if (outSchema) {
    const used: { kw: string; at: string }[] = [];
    usedKeywords(outSchema, '', used);
    for (const u of used.slice(0, 5))
      warnings.push(`${file}: output_schema uses "${u.kw}" at ${u.at}, which the API does not support (it is ignored or refused)`);
  }
  const inputProps = inSchema && inSchema.properties && inSchema.additionalProperties !== true ? Object.keys(inSchema.properties) : null;
  return { spec: spec as TaskSpec, chars, inputJsonSchema: inSchema, validateInput, inputProps, warnings };
}

export interface RowIssue {
  field?: string;
  rule: string;
  message: string;
}

export interface PrepareConfig {
  /** The input's cells are text (CSV, TSV, xlsx): an empty cell is an absent value. */
  textCells: boolean;
  inputColumn?: string;
  keyColumn?: string;
  spec: LoadedSpec | null;
}

/** A row ready to send (`json`: its input as JSON text, `chars`: its length as the API counts it), or its issues. */
export type Prepared =
  { ok: true; key: string; input: string | Record<string, unknown>; json: string; chars: number } | { ok: false; issues: RowIssue[]; key?: string };

function describe(e: ErrorObject): RowIssue {
  const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : undefined;
  if (e.keyword === 'required') {
    const p = (e.params as { missingProperty: string }).missingProperty;
    return { field: field ? `${field}.${p}` : p, rule: 'required', message: 'missing required field' };
  }
  if (e.keyword === 'additionalProperties') {
    const p = (e.params as { additionalProperty: string }).additionalProperty;
    return { field: field ? `${field}.${p}` : p, rule: 'additionalProperties', message: 'field not allowed by input_schema' };
  }
  return { field, rule: e.keyword, message: e.message ?? e.keyword };
}

/** Turn one row into a run input: pick, coerce, validate, key, and check sizes. Mutates nothing it does not own. */
/** Without a spec, a row with a value and no empty CSV cell is sent as it is (no copy); else null. */
function asIs(src: Record<string, unknown>, textCells: boolean): Record<string, unknown> | null {
  let any = false;
  for (const k in src) {
    if (textCells && src[k] === '') return null;
    any = true;
  }
  return any ? src : null;
}

/** Why a row sends nothing: no values at all, or none that input_schema has. */
function emptyWhy(src: Record<string, unknown>): string {
  const others = Object.keys(src).filter((k) => src[k] !== '' && src[k] !== null && src[k] !== undefined);
  if (!others.length) return 'the row has no values';
  const names = others.slice(0, 5).map((k) => `"${k}"`);
  return `none of the row's values is a property of input_schema (it has ${names.join(', ')}${others.length > 5 ? ', …' : ''})`;
}

/** The row's fields that are sent: the spec's input properties (or all), less empty CSV cells. */
function inputFields(src: Record<string, unknown>, cfg: PrepareConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of cfg.spec?.inputProps ?? Object.keys(src)) {
    if (!(n in src)) continue;
    const v = src[n];
    if (cfg.textCells && v === '') continue; // an empty cell is an absent value
    out[n] = v;
  }
  return out;
}

export function prepareRow(value: unknown, index: number, cfg: PrepareConfig): Prepared {
  const issues: RowIssue[] = [];
  const isObj = value !== null && typeof value === 'object' && !Array.isArray(value);
  let key = String(index + 1);
  if (cfg.keyColumn !== undefined) {
    const k = isObj ? (value as Record<string, unknown>)[cfg.keyColumn] : undefined;
    if (k === undefined || k === null || k === '')
      return { ok: false, issues: [{ field: cfg.keyColumn, rule: 'key', message: 'the --key column is empty or missing' }] };
    if (typeof k === 'object') return { ok: false, issues: [{ field: cfg.keyColumn, rule: 'key', message: 'the --key value must be a string or number' }] };
    key = String(k);
    if (key.length > MAX_META_VALUE)
      return {
        ok: false,
        key,
        issues: [
          { field: cfg.keyColumn, rule: 'key', message: `the --key value is ${key.length} characters; metadata values are limited to ${MAX_META_VALUE}` },
        ],
      };
  }
  let input: string | Record<string, unknown>;
  if (cfg.inputColumn !== undefined) {
    const v = isObj ? (value as Record<string, unknown>)[cfg.inputColumn] : undefined;
    if (v === undefined || v === null || v === '')
      return { ok: false, key, issues: [{ field: cfg.inputColumn, rule: 'required', message: 'the --input-column is empty or missing' }] };
    input = typeof v === 'string' ? v : JSON.stringify(v);
  } else if (typeof value === 'string') {
    if (!value) return { ok: false, key, issues: [{ rule: 'type', message: 'the row is an empty string' }] };
    input = value;
  } else if (isObj) {
    const src = value as Record<string, unknown>;
    const out = cfg.spec ? null : asIs(src, cfg.textCells);
    input = out ?? inputFields(src, cfg);
    // Nothing to send is a paid run with an empty input: refused, spec or not.
    if (out === null && Object.keys(input).length === 0) return { ok: false, key, issues: [{ rule: 'empty', message: emptyWhy(src) }] };
  } else {
    return {
      ok: false,
      key,
      issues: [
        { rule: 'type', message: `a row must be a JSON object or a string, not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}` },
      ],
    };
  }
  const v = cfg.spec?.validateInput;
  if (v) {
    if (typeof input === 'string')
      issues.push({ rule: 'type', message: 'the row is text but input_schema expects an object (use --input-column, or a text input_schema)' });
    else if (!v(input)) for (const e of v.errors ?? []) issues.push(describe(e));
  }
  if (issues.length) return { ok: false, key, issues };
  let json: string;
  try {
    json = JSON.stringify(input);
  } catch (e) {
    if (e instanceof RangeError) return { ok: false, key, issues: [{ rule: 'depth', message: 'the row is nested too deeply to send as JSON' }] };
    throw e;
  }
  const chars = typeof input === 'string' ? input.length : json.length;
  const specChars = cfg.spec?.chars ?? 0;
  if (chars + specChars > MAX_SPEC_AND_INPUT_CHARS)
    return {
      ok: false,
      key,
      issues: [
        {
          rule: 'size',
          message: `the input is ${chars} characters${specChars ? ` and the spec ${specChars}` : ''}; the API allows ${MAX_SPEC_AND_INPUT_CHARS} together`,
        },
      ],
    };
  return { ok: true, key, input, json, chars };
}

/**
 * An issue as messages say it: `at` is where the row (or its cell) is — `f.csv:5`,
 * `f.xlsx:Sheet1!C5` — and a text-celled input names columns, others fields.
 */
export function formatIssue(at: string, issue: RowIssue, textCells: boolean): string {
  const what = issue.field !== undefined ? `${textCells ? 'column' : 'field'} "${issue.field}": ` : '';
  return `${at}: ${what}${issue.message} (${issue.rule})`;
}
