// The Ingest API's answers, made up deterministically from the request's words: a suggested task
// (input and output JSON schemas, a title) from a user intent, and processors for a task spec by
// its size. Shapes from the vendor's docs (task-api/ingest-api) and CLI (parallel-web-tools,
// cli/commands.py suggest_from_intent): plain JSON schemas, not TaskSpec's {type, json_schema}.
// Pure: no I/O.

type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'array';
interface Prop {
  type: JsonType;
  description: string;
  items?: { type: 'string' };
}
export interface ObjectSchema {
  type: 'object';
  properties: Record<string, unknown>;
  required?: string[];
}
export interface SuggestedTask {
  input_schema: ObjectSchema;
  output_schema: ObjectSchema;
  inputs: unknown[];
  title: string;
  warnings: { type: string; message: string }[];
}

/** Things people ask for, and the field each becomes. First match wins within a clause. */
const CONCEPTS: [RegExp, string, JsonType, string][] = [
  [/\b(ceo|chief executive)/, 'ceo_name', 'string', 'Full name of the current CEO'],
  [/\b(cfo|chief financial)/, 'cfo_name', 'string', 'Full name of the current CFO'],
  [/\b(cto|chief technology)/, 'cto_name', 'string', 'Full name of the current CTO'],
  [/\b(found(ing|ed) (year|date)|year (it was |they were )?founded|when .*founded|founded|incorporat)/, 'founding_year', 'integer', 'Year it was founded'],
  [/\bfounders?\b/, 'founders', 'array', 'Full names of the founders'],
  [/\b(revenue|sales|turnover)\b/, 'annual_revenue_usd', 'number', 'Most recent annual revenue in US dollars'],
  [/\b(employees?|headcount|staff|team size|workforce)\b/, 'employee_count', 'integer', 'Number of employees'],
  [/\b(headquarters|hq|head office|based)\b/, 'headquarters', 'string', 'City and country of the headquarters'],
  [/\b(websites?|homepage|domain|urls?)\b/, 'website_url', 'string', 'URL of the official website'],
  [/\blinkedin\b/, 'linkedin_url', 'string', 'URL of the LinkedIn page'],
  [/\b(industry|sector|vertical)\b/, 'industry', 'string', 'Primary industry'],
  [/\bmarket cap/, 'market_cap_usd', 'number', 'Market capitalisation in US dollars'],
  [/\bvaluation\b/, 'valuation_usd', 'number', 'Most recent valuation in US dollars'],
  [/\b(funding|raised|capital)\b/, 'total_funding_usd', 'number', 'Total funding raised in US dollars'],
  [/\binvestors?\b/, 'investors', 'array', 'Names of the main investors'],
  [/\b(competitors?|rivals?|competition)\b/, 'competitors', 'array', 'Names of the main competitors'],
  [/\b(products?|offerings?|services)\b/, 'products', 'array', 'Names of the main products or services'],
  [/\b(customers?|clients?)\b/, 'notable_customers', 'array', 'Names of notable customers'],
  [/\b(acquisitions?|acquired)\b/, 'acquisitions', 'array', 'Companies it has acquired'],
  [/\b(news|announcements?|press)\b/, 'recent_news', 'array', 'Headlines of recent news'],
  [/\b(ticker|stock symbol)\b/, 'stock_ticker', 'string', 'Stock ticker symbol'],
  [/\b(public(ly)?( traded| listed)?|listed)\b/, 'is_public', 'boolean', 'Whether it is publicly traded'],
  [/\b(e-?mail)\b/, 'contact_email', 'string', 'Contact email address'],
  [/\bphone\b/, 'phone_number', 'string', 'Main phone number'],
  [/\baddress\b/, 'address', 'string', 'Street address'],
  [/\bpric(e|es|ing)\b/, 'pricing', 'string', 'Pricing, as published'],
  [/\b(description|summary|overview|what (it|they) do(es)?)\b/, 'description', 'string', 'A one-paragraph description'],
];

/** What the rows are about, by the words of the intent: the input column it implies. */
const ENTITIES: [RegExp, string, string, string][] = [
  [/\b(compan(y|ies)|business(es)?|startups?|firms?|organi[sz]ations?|vendors?|brands?|employers?)\b/, 'company_name', 'Name of the company', 'Company'],
  [/\b(people|persons?|executives?|candidates?|individuals?|contacts?)\b/, 'full_name', 'Full name of the person', 'Person'],
  [/\b(products?|apps?|tools?)\b/, 'product_name', 'Name of the product', 'Product'],
  [/\b(universit(y|ies)|schools?|colleges?)\b/, 'institution_name', 'Name of the institution', 'Institution'],
  [/\b(countr(y|ies))\b/, 'country_name', 'Name of the country', 'Country'],
  [/\b(cit(y|ies))\b/, 'city_name', 'Name of the city', 'City'],
];

const STOP = new Set(
  (
    'a about all also an and any are as at be by can could do does each every find for from get give have how i in include including ' +
    'info information is it its list look me my of on or our out output please research schema show should tell that the their them ' +
    'they this to up want we what which who whom whose will with would you your since been being were was has had there these those currently'
  ).split(' '),
);
const ACRONYMS = new Set(['ceo', 'cfo', 'cto', 'url', 'usd', 'hq', 'id']);
const MAX_FIELDS = 12;

/** "find the CEO and founding year" → the clauses a field each: ["find the ceo", "founding year"]. */
function clauses(intent: string): string[] {
  return intent
    .toLowerCase()
    .split(/[,;\n]|\band\b|\bas well as\b|&|\bplus\b/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function entityWords(): RegExp {
  return new RegExp(ENTITIES.map(([re]) => re.source).join('|'), 'g');
}

/** A clause no concept covers, as a field: its first content words, typed by what it asks. */
function genericField(clause: string, entity: string): [string, Prop] | null {
  const asked = clause.replace(/^(please\s+)?(find|get|give me|tell me|check|see|look up|research|list)\s+(the\s+)?/, '');
  const kind: JsonType = /^(whether|if|is|are|does|do|has|have)\b/.test(asked)
    ? 'boolean'
    : /^(number of|how many|count of|total number of)\b/.test(asked)
      ? 'integer'
      : /^(a |the )?(list of|names of|examples of)\b/.test(asked)
        ? 'array'
        : /\byear\b/.test(asked)
          ? 'integer'
          : 'string';
  const text = asked.replace(/^(whether|if|number of|how many|count of|total number of|a list of|the list of|list of|names of|examples of)\s+/, '');
  const words = text
    .replace(entityWords(), ' ')
    .replace(/'s\b/g, '')
    .split(/[^a-z0-9]+/)
    .filter((w) => w && !STOP.has(w) && !/^\d+$/.test(w));
  if (!words.length) return null;
  const base = words.slice(0, 3).join('_');
  switch (kind) {
    case 'boolean':
      return [`is_${base}`, { type: kind, description: `Whether ${text}` }];
    case 'integer':
      return [/year/.test(base) ? base : `${base}_count`, { type: kind, description: /year/.test(base) ? `The ${text}` : `Number of ${text}` }];
    case 'array':
      return [base, { type: kind, description: `List of ${text}` }];
    default:
      return [base, { type: kind, description: `The ${text} of the ${entity.toLowerCase()}` }];
  }
}

function propOf(type: JsonType, description: string): Prop {
  return type === 'array' ? { type, description, items: { type: 'string' } } : { type, description };
}

/** The output fields an intent asks for; `generalized` counts the clauses no concept covered. */
function outputFields(text: string, entity: string): { props: Record<string, Prop>; generalized: number } {
  const props: Record<string, Prop> = {};
  let generalized = 0;
  for (const clause of clauses(text)) {
    const hit = CONCEPTS.find(([re]) => re.test(clause));
    if (hit) props[hit[1]] ??= propOf(hit[2], hit[3]);
    else {
      const g = genericField(clause, entity);
      if (g && !(g[0] in props)) {
        props[g[0]] = propOf(g[1].type, g[1].description);
        generalized++;
      }
    }
  }
  return { props, generalized };
}

/** "Input columns available:\n- name: description" (how the vendor's CLI adds a file's columns). */
function columnsIn(intent: string): { text: string; columns: [string, string][] } {
  const at = intent.search(/\n\s*input columns available:/i);
  if (at < 0) return { text: intent, columns: [] };
  const columns = [...intent.slice(at).matchAll(/^\s*-\s*([^:\n]+):\s*(.*)$/gm)].map((m): [string, string] => [m[1].trim(), m[2].trim()]);
  return { text: intent.slice(0, at), columns };
}

const label = (name: string) =>
  name
    .split('_')
    .filter((w) => w !== 'usd')
    .map((w) => (ACRONYMS.has(w) ? w.toUpperCase() : w[0].toUpperCase() + w.slice(1)))
    .join(' ');

function titleOf(entity: string, names: string[]): string {
  const labels = names.slice(0, 4).map(label);
  const list = labels.length > 1 ? `${labels.slice(0, -1).join(', ')} and ${labels.at(-1)}` : labels[0];
  return `${entity} ${list}${names.length > 4 ? ' and More' : ''}`;
}

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/**
 * POST /v1beta/tasks/suggest: a task for the intent. A previous task's input schema is kept as it
 * is (it restricts the inputs), its output fields come first and the intent's are added to them.
 */
export function suggestTask(userIntent: string, previous?: Record<string, unknown> | null): SuggestedTask {
  const { text, columns } = columnsIn(userIntent);
  const lower = text.toLowerCase();
  // Rows about nothing named: companies, whose attributes most of the concepts are.
  const ent = ENTITIES.find(([re]) => re.test(lower)) ?? ENTITIES[0];
  let input: ObjectSchema;
  if (isObj(previous?.input_schema)) input = previous.input_schema as unknown as ObjectSchema;
  else if (columns.length)
    input = {
      type: 'object',
      properties: Object.fromEntries(columns.map(([n, d]) => [n, { type: 'string', description: d }])),
      required: columns.map(([n]) => n),
    };
  else input = { type: 'object', properties: { [ent[1]]: { type: 'string', description: ent[2] } }, required: [ent[1]] };
  const prevOut = isObj(previous?.output_schema) && isObj(previous.output_schema.properties) ? previous.output_schema.properties : {};
  const { props, generalized } = outputFields(text, ent[3]);
  for (const k of Object.keys(input.properties ?? {})) delete props[k]; // an input is not asked for again
  const warnings: SuggestedTask['warnings'] = [];
  let fields: Record<string, unknown> = { ...prevOut, ...props };
  if (Object.keys(fields).length === 0) {
    fields = { answer: { type: 'string', description: `Answer to: ${text.trim().slice(0, 200)}` } };
    warnings.push({ type: 'unattainable_task', message: 'No output fields could be derived from the intent; a single answer field is suggested' });
  }
  const names = Object.keys(fields).slice(0, MAX_FIELDS);
  if (Object.keys(fields).length > MAX_FIELDS) warnings.push({ type: 'schema_generalization', message: `Only the first ${MAX_FIELDS} output fields are kept` });
  if (generalized)
    warnings.push({
      type: 'schema_generalization',
      message: `${generalized} requested field(s) were named from the intent's words; check their names and types`,
    });
  return {
    input_schema: input,
    output_schema: { type: 'object', properties: Object.fromEntries(names.map((n) => [n, fields[n]])) },
    inputs: Array.isArray(previous?.inputs) ? previous.inputs : [],
    title: titleOf(ent[3], names),
    warnings,
  };
}

/** The processors /suggest-processor chooses from, cheapest first (lite is never recommended). */
export const LADDER = ['base', 'core', 'core2x', 'pro', 'ultra', 'ultra2x', 'ultra4x', 'ultra8x'];
export const SUGGESTABLE = LADDER.flatMap((p) => [p, `${p}-fast`]);

/** The output schema of a task spec, plain or TaskSpec-wrapped: a JSON schema, 'text' or 'auto'. */
function outputOf(spec: Record<string, unknown>): Record<string, unknown> | 'text' | 'auto' {
  const os = spec.output_schema;
  if (typeof os === 'string') return 'text';
  if (!isObj(os) || os.type === 'auto') return 'auto';
  if (os.type === 'text') return 'text';
  if (os.type === 'json') return isObj(os.json_schema) ? os.json_schema : 'auto';
  return os;
}

/** Output fields, counting nested properties and one more for each list: the spec's "size". */
function sizeOf(schema: unknown, depth = 0): number {
  if (!isObj(schema) || depth > 6) return 0;
  let n = 0;
  const props = isObj(schema.properties) ? schema.properties : {};
  for (const p of Object.values(props)) {
    n += 1;
    if (isObj(p) && p.type === 'array') n += 1 + sizeOf(p.items, depth + 1);
    else if (isObj(p) && isObj(p.properties)) n += sizeOf(p, depth + 1);
  }
  return n;
}

/** POST /v1beta/tasks/suggest-processor: the cheapest allowed processor for the spec's size, then the next one up. */
export function suggestProcessors(spec: Record<string, unknown>, allowed?: string[]): string[] {
  const out = outputOf(spec);
  const n = out === 'text' ? 8 : out === 'auto' ? 4 : sizeOf(out);
  const need = n <= 2 ? 0 : n <= 5 ? 1 : n <= 9 ? 3 : n <= 15 ? 4 : 5; // index into LADDER
  const rank = (p: string) => LADDER.indexOf(p.replace(/-fast$/, ''));
  const pool = (allowed?.length ? allowed : LADDER).filter((p) => rank(p) >= 0);
  const sorted = [...pool].sort((a, b) => rank(a) - rank(b) || Number(a.endsWith('-fast')) - Number(b.endsWith('-fast')));
  const first = sorted.find((p) => rank(p) >= need) ?? sorted.at(-1);
  if (first === undefined) return [];
  const next = sorted.find((p) => rank(p) > rank(first));
  return next ? [first, next] : [first];
}
