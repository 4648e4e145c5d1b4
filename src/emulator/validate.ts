// Request validation as the service does it: FastAPI-style issue lists (loc, msg, type) for
// TaskRunInput and TaskSpec, the documented size limits, and the processor check (403).
import { v, type Issue } from './http';

export const PROCESSORS = new Set(['lite', 'base', 'core', 'core2x', 'pro', 'ultra', 'ultra2x', 'ultra4x', 'ultra8x'].flatMap((p) => [p, `${p}-fast`]));

export type Loc = (string | number)[];

export function checkMetadata(md: unknown, loc: Loc): Issue[] {
  if (md === undefined || md === null) return [];
  if (typeof md !== 'object' || Array.isArray(md)) return [v(loc, 'Input should be a valid dictionary', 'dict_type')];
  let errs: Issue[] | null = null; // built on the first error only: this runs for every run added
  for (const k in md) {
    const val = (md as Record<string, unknown>)[k];
    const t = typeof val;
    if (k.length > 16) (errs ??= []).push(v([...loc, k], 'Metadata keys must be at most 16 characters'));
    if (t === 'string' && (val as string).length > 512) (errs ??= []).push(v([...loc, k], 'Metadata values must be at most 512 characters'));
    else if (t !== 'string' && t !== 'number' && t !== 'boolean') (errs ??= []).push(v([...loc, k], 'Metadata values must be strings, numbers or booleans'));
  }
  return errs ?? NONE;
}

const NONE: Issue[] = [];

/** Validate a TaskRunInput; returns an error list (empty if valid). betas: the parallel-beta values. */
export function checkRunInput(inp: any, loc: Loc, defaultSpecLen: number, betas: Set<string> = new Set()): Issue[] | 'bad-processor' {
  const errs: Issue[] = [];
  if (!inp || typeof inp !== 'object' || Array.isArray(inp)) return [v(loc, 'Input should be a valid dictionary', 'dict_type')];
  if (inp.processor === undefined) errs.push(v([...loc, 'processor'], 'Field required', 'missing'));
  else if (typeof inp.processor !== 'string') errs.push(v([...loc, 'processor'], 'Input should be a valid string', 'string_type'));
  if (inp.input === undefined) errs.push(v([...loc, 'input'], 'Field required', 'missing'));
  else if (typeof inp.input !== 'string' && (typeof inp.input !== 'object' || inp.input === null || Array.isArray(inp.input)))
    errs.push(v([...loc, 'input'], 'Input should be a valid string or dictionary', 'union_type'));
  if (inp.metadata !== undefined && inp.metadata !== null) errs.push(...checkMetadata(inp.metadata, [...loc, 'metadata']));
  if (inp.task_spec !== undefined && inp.task_spec !== null) errs.push(...checkSpec(inp.task_spec, [...loc, 'task_spec']));
  errs.push(...checkRunOptions(inp, loc, betas));
  if (!errs.length) {
    const specLen = inp.task_spec ? JSON.stringify(inp.task_spec).length : defaultSpecLen;
    const inputLen = typeof inp.input === 'string' ? inp.input.length : jsonLength(inp.input, 25_000 - specLen);
    if (specLen + inputLen > 25_000) errs.push(v([...loc, 'input'], `Task spec and input together exceed 25,000 characters (${specLen + inputLen})`));
  }
  if (!errs.length && !PROCESSORS.has(inp.processor)) return 'bad-processor';
  return errs;
}

/**
 * JSON.stringify(obj).length, skipped when a bound shows it is at most `within`: a flat object of
 * strings, numbers and booleans is at most {} plus, per entry, "key":"value", (each character
 * escaped to 6 at worst). This runs for every run added.
 */
function jsonLength(obj: Record<string, unknown>, within: number): number {
  let bound = 2;
  for (const k in obj) {
    const val = obj[k];
    const t = typeof val;
    if (t === 'string') bound += 6 * (k.length + (val as string).length) + 6;
    else if (t === 'number' || t === 'boolean') bound += 6 * k.length + 30;
    else return JSON.stringify(obj).length;
    if (bound > within) return JSON.stringify(obj).length;
  }
  return bound;
}

export function checkSpec(spec: any, loc: Loc): Issue[] {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return [v(loc, 'Input should be a valid dictionary', 'dict_type')];
  const errs = [];
  if (spec.output_schema === undefined) errs.push(v([...loc, 'output_schema'], 'Field required', 'missing'));
  const os = spec.output_schema;
  if (os && typeof os === 'object' && (os.type === 'json' || os.json_schema !== undefined)) {
    const js = os.json_schema;
    if (!js || typeof js !== 'object' || Array.isArray(js))
      errs.push(v([...loc, 'output_schema', 'json_schema'], 'Input should be a valid dictionary', 'dict_type'));
    else if (js.type !== 'object' || typeof js.properties !== 'object')
      errs.push(v([...loc, 'output_schema', 'json_schema'], 'The output schema root must be of type "object" with "properties"'));
  }
  if (JSON.stringify(spec).length > 15_000) errs.push(v(loc, 'Task spec exceeds 15,000 characters'));
  return errs;
}

// ----- the run options (TaskRunInput fields beyond input/processor/metadata/task_spec) -----

/** The betas some run options need. Others (field-basis-2025-11-25, whose per-element basis is now
 * given to every run) are accepted and change nothing. */
export const BETA = { mcp: 'mcp-server-2025-07-17', webhook: 'webhook-2025-08-12' } as const;

/** The parallel-beta header as a set of values (comma-separated, as the SDK sends `betas`). */
export function parseBetas(header: string | string[] | undefined): Set<string> {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return new Set(
    text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
const nullish = (x: unknown) => x === undefined || x === null;
const DOMAIN = /^(\.[a-z0-9-]+(\.[a-z0-9-]+)*|([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]{2,})$/i;

function strList(x: unknown, loc: Loc, errs: Issue[]): string[] {
  if (!Array.isArray(x)) {
    errs.push(v(loc, 'Input should be a valid list', 'list_type'));
    return [];
  }
  x.forEach((s, i) => typeof s !== 'string' && errs.push(v([...loc, i], 'Input should be a valid string', 'string_type')));
  return x.filter((s) => typeof s === 'string');
}

export function checkSourcePolicy(sp: unknown, loc: Loc): Issue[] {
  if (nullish(sp)) return [];
  if (!isObj(sp)) return [v(loc, 'Input should be a valid dictionary', 'dict_type')];
  const errs: Issue[] = [];
  let n = 0;
  for (const k of ['include_domains', 'exclude_domains']) {
    if (sp[k] === undefined) continue;
    const list = strList(sp[k], [...loc, k], errs);
    n += list.length;
    list.forEach(
      (d, i) =>
        !DOMAIN.test(d) &&
        errs.push(v([...loc, k, i], `Invalid domain "${d}": use a plain domain (example.com) or an extension starting with a period (.gov)`)),
    );
  }
  if (n > 200) errs.push(v(loc, `The combined number of domains in include_domains and exclude_domains cannot exceed 200 (${n})`));
  const ad = sp.after_date;
  if (
    !nullish(ad) &&
    (typeof ad !== 'string' ||
      !/^\d{4}-\d{2}-\d{2}$/.test(ad) ||
      Number.isNaN(Date.parse(`${ad}T00:00:00Z`)) ||
      new Date(`${ad}T00:00:00Z`).toISOString().slice(0, 10) !== ad)
  )
    errs.push(v([...loc, 'after_date'], 'Input should be a valid date in the format YYYY-MM-DD', 'date_from_datetime_parsing'));
  return errs;
}

function checkMcpServer(m: unknown, loc: Loc): Issue[] {
  if (!isObj(m)) return [v(loc, 'Input should be a valid dictionary', 'dict_type')];
  const errs: Issue[] = [];
  for (const k of ['url', 'name']) {
    if (m[k] === undefined) errs.push(v([...loc, k], 'Field required', 'missing'));
    else if (typeof m[k] !== 'string') errs.push(v([...loc, k], 'Input should be a valid string', 'string_type'));
  }
  if (m.type !== undefined && m.type !== 'url') errs.push(v([...loc, 'type'], "Input should be 'url'", 'literal_error'));
  if (!nullish(m.headers)) {
    if (!isObj(m.headers)) errs.push(v([...loc, 'headers'], 'Input should be a valid dictionary', 'dict_type'));
    else
      for (const [k, hv] of Object.entries(m.headers))
        if (typeof hv !== 'string') errs.push(v([...loc, 'headers', k], 'Input should be a valid string', 'string_type'));
  }
  if (!nullish(m.allowed_tools)) strList(m.allowed_tools, [...loc, 'allowed_tools'], errs);
  return errs;
}

export function checkMcpServers(list: unknown, loc: Loc, betas: Set<string>): Issue[] {
  if (nullish(list)) return [];
  if (!Array.isArray(list)) return [v(loc, 'Input should be a valid list', 'list_type')];
  const errs = list.flatMap((m, i) => checkMcpServer(m, [...loc, i]));
  if (list.length > 10) errs.push(v(loc, `List should have at most 10 items after validation, not ${list.length}`, 'too_long'));
  if (!betas.has(BETA.mcp)) errs.push(v(loc, `mcp_servers requires the header parallel-beta: ${BETA.mcp}`, 'beta_required'));
  return errs;
}

export function checkWebhook(wh: unknown, loc: Loc, betas: Set<string>): Issue[] {
  if (nullish(wh)) return [];
  if (!isObj(wh)) return [v(loc, 'Input should be a valid dictionary', 'dict_type')];
  const errs: Issue[] = [];
  if (wh.url === undefined) errs.push(v([...loc, 'url'], 'Field required', 'missing'));
  else if (typeof wh.url !== 'string') errs.push(v([...loc, 'url'], 'Input should be a valid string', 'string_type'));
  else if (!/^https?:\/\/[^\s/]+/.test(wh.url)) errs.push(v([...loc, 'url'], 'Input should be a valid URL', 'url_parsing'));
  if (wh.event_types !== undefined)
    strList(wh.event_types, [...loc, 'event_types'], errs).forEach(
      (t, i) => t !== 'task_run.status' && errs.push(v([...loc, 'event_types', i], "Input should be 'task_run.status'", 'enum')),
    );
  if (!betas.has(BETA.webhook)) errs.push(v(loc, `webhook requires the header parallel-beta: ${BETA.webhook}`, 'beta_required'));
  return errs;
}

function checkOptionalType(x: unknown, loc: Loc, type: 'string' | 'boolean'): Issue[] {
  if (nullish(x) || typeof x === type) return [];
  return [v(loc, `Input should be a valid ${type}`, type === 'string' ? 'string_type' : 'bool_type')];
}

/** The vendor's rule for memory scope keys (parallel-web-tools core/memory.py). */
export const MEMORY_SCOPE_KEY = /^[a-zA-Z0-9_-]{1,128}$/;

function checkMemoryScopeKey(x: unknown, loc: Loc): Issue[] {
  if (typeof x !== 'string' || MEMORY_SCOPE_KEY.test(x)) return checkOptionalType(x, loc, 'string');
  return [v(loc, `String should match pattern '${MEMORY_SCOPE_KEY.source}'`, 'string_pattern_mismatch')];
}

/** The run options a TaskRunInput may carry besides input, processor, metadata and task_spec. */
const RUN_OPTIONS = ['source_policy', 'mcp_servers', 'webhook', 'enable_events', 'previous_interaction_id', 'memory_scope_key', 'advanced_settings'];

function checkRunOptions(inp: Record<string, unknown>, loc: Loc, betas: Set<string>): Issue[] {
  if (RUN_OPTIONS.every((k) => nullish(inp[k]))) return NONE;
  const at = (k: string) => [...loc, k];
  const errs = [
    ...checkSourcePolicy(inp.source_policy, at('source_policy')),
    ...checkMcpServers(inp.mcp_servers, at('mcp_servers'), betas),
    ...checkWebhook(inp.webhook, at('webhook'), betas),
    ...checkOptionalType(inp.enable_events, at('enable_events'), 'boolean'),
    ...checkOptionalType(inp.previous_interaction_id, at('previous_interaction_id'), 'string'),
    ...checkMemoryScopeKey(inp.memory_scope_key, at('memory_scope_key')),
  ];
  const as = inp.advanced_settings;
  if (!nullish(as)) {
    if (!isObj(as)) errs.push(v(at('advanced_settings'), 'Input should be a valid dictionary', 'dict_type'));
    else errs.push(...checkOptionalType(as.location, [...at('advanced_settings'), 'location'], 'string'));
  }
  return errs;
}

// ----- warnings (TaskRun.warnings): the run goes ahead, the service says what it noticed -----

/** Output fields the basis already gives (the vendor's "Basis Properties" warning). */
const BASIS_PROPS = ['citations', 'confidence', 'evidence', 'reasoning', 'source', 'sources', 'source_urls'];

export function specWarnings(spec: any): object[] {
  const props = spec?.output_schema?.json_schema?.properties;
  if (!isObj(props)) return [];
  return Object.keys(props)
    .filter((k) => BASIS_PROPS.includes(k))
    .map((k) => ({
      type: 'spec_validation_warning',
      message: `Output schema property "${k}" is already provided by the run's basis; remove it from the output schema`,
      detail: { property: k },
    }));
}

export function inputWarnings(spec: any, input: unknown): object[] {
  const is = spec?.input_schema;
  const schema = isObj(is) && isObj(is.json_schema) ? is.json_schema : null;
  if (!schema || !Array.isArray(schema.required) || !isObj(input)) return [];
  return schema.required
    .filter((k: unknown) => typeof k === 'string' && !(k in input))
    .map((k: string) => ({
      type: 'input_validation_warning',
      message: `Input does not match the input schema: required property "${k}" is missing`,
      detail: { property: k },
    }));
}
