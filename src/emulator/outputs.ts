// Outputs the emulator returns: JSON content generated from the run's output schema (so it
// validates against it), deterministic for a seed and input; text for text specs; basis with
// citations for every top-level field and each element of a list field (`field.0`); MCP tool calls
// for runs given MCP servers.
import { mulberry32 } from './rng';

type Schema = Record<string, any>;

const WORDS = ['growth', 'market', 'platform', 'leader', 'enterprise', 'cloud', 'retail', 'global', 'pricing', 'research', 'partners', 'expansion'];

function summarize(input: unknown): string {
  if (typeof input === 'string') return input.slice(0, 60);
  if (input && typeof input === 'object') {
    for (const v of Object.values(input as Record<string, unknown>)) if (typeof v === 'string' && v) return v.slice(0, 60);
  }
  return 'the input';
}

function pickType(schema: Schema): string | undefined {
  const t = schema.type;
  if (Array.isArray(t)) return t.find((x: string) => x !== 'null') ?? t[0];
  return t;
}

function genValue(schema: Schema | boolean | undefined, rnd: () => number, name: string, subject: string, depth: number): unknown {
  if (schema === true || schema === undefined || schema === null) return `${name} of ${subject}`;
  if (schema === false) return null;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[Math.floor(rnd() * schema.enum.length)];
  const alt = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alt) && alt.length) {
    const opt = alt.find((s: Schema) => s && s.type !== 'null') ?? alt[0];
    return genValue(opt, rnd, name, subject, depth);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length) return genValue(Object.assign({}, ...schema.allOf), rnd, name, subject, depth);
  const type = pickType(schema) ?? (schema.properties ? 'object' : schema.items ? 'array' : 'string');
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props: Record<string, Schema> = schema.properties ?? {};
      for (const [k, s] of Object.entries(props)) out[k] = depth > 8 ? null : genValue(s, rnd, k, subject, depth + 1);
      for (const k of schema.required ?? []) if (!(k in out)) out[k] = `${k} of ${subject}`;
      return out;
    }
    case 'array': {
      const min = Number.isInteger(schema.minItems) ? schema.minItems : 1;
      const max = Number.isInteger(schema.maxItems) ? schema.maxItems : Math.max(min, 3);
      const n = Math.min(max, min + Math.floor(rnd() * (Math.max(min, Math.min(max, 3)) - min + 1)));
      const item = Array.isArray(schema.items) ? schema.items[0] : schema.items;
      return Array.from({ length: n }, (_, i) => genValue(item, rnd, `${name} ${i + 1}`, subject, depth + 1));
    }
    case 'integer': {
      const lo = Number.isFinite(schema.minimum) ? Math.ceil(schema.minimum) : 0;
      const hi = Number.isFinite(schema.maximum) ? Math.floor(schema.maximum) : lo + 10_000;
      return lo + Math.floor(rnd() * (hi - lo + 1));
    }
    case 'number': {
      const lo = Number.isFinite(schema.minimum) ? schema.minimum : 0;
      const hi = Number.isFinite(schema.maximum) ? schema.maximum : lo + 1000;
      return Math.round((lo + rnd() * (hi - lo)) * 100) / 100;
    }
    case 'boolean':
      return rnd() < 0.5;
    case 'null':
      return null;
    default: {
      let s: string;
      if (schema.format === 'date') s = `20${10 + Math.floor(rnd() * 15)}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)}`;
      else if (schema.format === 'date-time') s = new Date(1.6e12 + Math.floor(rnd() * 1e11)).toISOString();
      else if (schema.format === 'uri' || schema.format === 'url' || /url|website|link/i.test(name))
        s = `https://example.com/${WORDS[Math.floor(rnd() * WORDS.length)]}/${Math.floor(rnd() * 1e6)}`;
      else if (schema.format === 'email') s = `contact${Math.floor(rnd() * 1000)}@example.com`;
      else s = `${name.replace(/_/g, ' ')} of ${subject}: ${WORDS[Math.floor(rnd() * WORDS.length)]} ${WORDS[Math.floor(rnd() * WORDS.length)]}`;
      if (Number.isInteger(schema.maxLength)) s = s.slice(0, schema.maxLength);
      if (Number.isInteger(schema.minLength)) while (s.length < schema.minLength) s += 'x';
      return s;
    }
  }
}

function citation(rnd: () => number, field: string) {
  const n = Math.floor(rnd() * 1e6);
  return { url: `https://example.com/source/${n}`, title: `Source ${n} on ${field}`, excerpts: [`Excerpt about ${field}.`] };
}

function basisFor(fields: string[], rnd: () => number) {
  const conf = ['low', 'medium', 'high'];
  return fields.map((field) => ({
    field,
    reasoning: `Derived ${field} from the cited sources.`,
    citations: [citation(rnd, field)],
    confidence: conf[Math.floor(rnd() * 3)],
  }));
}

/** Basis names: every top-level field, each followed by an entry per element of its list value
 * (`field.0`, `field.1`, …: the vendor's dot notation; SDK 1.3.3 `TaskRunJsonOutput.basis`). */
function basisFields(content: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, val] of Object.entries(content)) {
    out.push(k);
    if (Array.isArray(val)) for (let i = 0; i < val.length; i++) out.push(`${k}.${i}`);
  }
  return out;
}

/** Kind of output a spec asks for. */
export function outputKind(spec: any): { kind: 'json'; schema: Schema } | { kind: 'text'; description: string } | { kind: 'auto' } {
  const os = spec?.output_schema;
  if (os === undefined || os === null) return { kind: 'auto' };
  if (typeof os === 'string') return { kind: 'text', description: os };
  if (typeof os === 'object') {
    if (os.type === 'auto') return { kind: 'auto' };
    if (os.type === 'text' || (os.json_schema === undefined && os.type !== 'json')) return { kind: 'text', description: os.description ?? '' };
    return { kind: 'json', schema: os.json_schema };
  }
  return { kind: 'auto' };
}

const AUTO_SCHEMA = {
  type: 'object',
  properties: { summary: { type: 'string', description: 'A summary of the findings.' }, sources_count: { type: 'integer' } },
  required: ['summary', 'sources_count'],
  additionalProperties: false,
};

/** The output of a completed run: content from the spec, its basis, and (for a run given MCP
 * servers) the tool calls it made. Deterministic for (spec, input, seed, servers). */
export function generateOutput(spec: any, input: unknown, seed: number, mcpServers?: unknown): Record<string, unknown> {
  const rnd = mulberry32(seed);
  const subject = summarize(input);
  const k = outputKind(spec);
  let out: Record<string, unknown>;
  if (k.kind === 'text') {
    out = {
      basis: basisFor(['output'], rnd),
      type: 'text',
      content: `Findings for ${subject}: ${WORDS[Math.floor(rnd() * WORDS.length)]} and ${WORDS[Math.floor(rnd() * WORDS.length)]}.`,
    };
  } else {
    const schema = k.kind === 'json' ? k.schema : AUTO_SCHEMA;
    const content = genValue(schema, rnd, 'output', subject, 0) as Record<string, unknown>;
    const obj = content && typeof content === 'object' && !Array.isArray(content) ? content : { output: content };
    out = { basis: basisFor(basisFields(obj), rnd), type: 'json', content: obj };
    if (k.kind === 'auto') out.output_schema = AUTO_SCHEMA;
  }
  const calls = mcpToolCalls(mcpServers, subject, seed);
  if (calls) out.mcp_tool_calls = calls;
  return out;
}

const TOOLS = ['search', 'lookup', 'fetch_record', 'query'];

/**
 * The spec's McpToolCall list for a run given MCP servers (null without): one to three calls per
 * server, to its allowed tools (else a generic one), with JSON arguments naming the run's subject;
 * about one call in eight fails with an error instead of content. From its own random stream, so
 * the content and basis are those of the same run without servers.
 */
export function mcpToolCalls(servers: unknown, subject: string, seed: number): object[] | null {
  if (!Array.isArray(servers) || servers.length === 0) return null;
  const rnd = mulberry32((seed ^ 0x6d637030) >>> 0);
  const calls: object[] = [];
  for (const s of servers) {
    const name = typeof s?.name === 'string' ? s.name : 'mcp';
    const allowed: string[] = Array.isArray(s?.allowed_tools) && s.allowed_tools.length ? s.allowed_tools : TOOLS;
    for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
      const tool = allowed[Math.floor(rnd() * allowed.length)];
      const id = `call_${Math.floor(rnd() * 2 ** 32)
        .toString(16)
        .padStart(8, '0')}${calls.length}`;
      const failed = rnd() < 0.125;
      calls.push({
        tool_call_id: id,
        server_name: name,
        tool_name: tool,
        arguments: JSON.stringify({ query: subject }),
        content: failed ? null : JSON.stringify({ result: `${tool} on ${subject}: ${WORDS[Math.floor(rnd() * WORDS.length)]}` }),
        error: failed ? `Tool ${tool} on server ${name} failed (emulated)` : null,
      });
    }
  }
  return calls;
}
