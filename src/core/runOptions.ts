// Run options from the command line (TaskRunInput fields beyond input, processor, metadata and
// task_spec) and the parallel-beta values, checked as the API checks them before anything is
// sent. Pure: the caller reads the files (--run-options, --mcp-servers) and passes their text.
import { usageError } from '../errors';

export interface McpServer {
  type?: 'url';
  url: string;
  name: string;
  headers?: Record<string, string> | null;
  allowed_tools?: string[] | null;
}

export interface RunOptions {
  source_policy?: { include_domains?: string[]; exclude_domains?: string[]; after_date?: string | null };
  mcp_servers?: McpServer[];
  enable_events?: boolean;
  webhook?: { url: string; event_types?: string[] };
  previous_interaction_id?: string;
  memory_scope_key?: string;
  advanced_settings?: { location?: string | null };
}

/** What the flags give: raw strings, as commander passes them. */
export interface RunOptionFlags {
  includeDomains?: string;
  excludeDomains?: string;
  afterDate?: string;
  enableEvents?: boolean;
  webhookUrl?: string;
  webhookEvents?: string;
  previousInteractionId?: string;
  memoryScopeKey?: string;
  beta?: string[];
}

export const BETAS = { mcp: 'mcp-server-2025-07-17', webhook: 'webhook-2025-08-12' } as const;
const FILE_KEYS = ['source_policy', 'mcp_servers', 'enable_events', 'webhook', 'previous_interaction_id', 'memory_scope_key', 'advanced_settings', 'betas'];
const DOMAIN = /^(\.[a-z0-9-]+(\.[a-z0-9-]+)*|([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]{2,})$/i;
const BETA = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function httpUrl(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
  } catch {
    return false;
  }
}

function domains(what: string, xs: unknown): string[] {
  if (!Array.isArray(xs)) throw usageError(`${what}: a list of domains is expected`);
  for (const d of xs)
    if (typeof d !== 'string' || !DOMAIN.test(d))
      throw usageError(`${what}: "${String(d)}" is not a domain: use a plain domain (example.com) or an extension starting with a period (.gov)`);
  return xs as string[];
}

function isDate(s: unknown): boolean {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === s;
}

function sourcePolicy(what: string, sp: unknown): NonNullable<RunOptions['source_policy']> {
  if (!isObj(sp)) throw usageError(`${what}: source_policy must be an object`);
  const out: NonNullable<RunOptions['source_policy']> = {};
  for (const k of Object.keys(sp))
    if (!['include_domains', 'exclude_domains', 'after_date'].includes(k)) throw usageError(`${what}: source_policy has no field "${k}"`);
  if (sp.include_domains !== undefined) out.include_domains = domains(`${what} include_domains`, sp.include_domains);
  if (sp.exclude_domains !== undefined) out.exclude_domains = domains(`${what} exclude_domains`, sp.exclude_domains);
  if (sp.after_date !== undefined && sp.after_date !== null) {
    if (!isDate(sp.after_date)) throw usageError(`${what} after_date: "${String(sp.after_date)}" is not a date in the form YYYY-MM-DD`);
    out.after_date = sp.after_date as string;
  }
  return out;
}

/** Check an MCP server list (from --mcp-servers or the run options file). */
export function mcpServers(what: string, x: unknown): McpServer[] {
  const arr = isObj(x) && Array.isArray(x.mcp_servers) ? x.mcp_servers : x;
  if (!Array.isArray(arr) || arr.length === 0) throw usageError(`${what}: a JSON list of MCP servers ({"url", "name"}) is expected`);
  if (arr.length > 10) throw usageError(`${what}: at most 10 MCP servers per run (the API's limit), not ${arr.length}`);
  arr.forEach((m, i) => {
    const at = `${what}[${i}]`;
    if (!isObj(m)) throw usageError(`${at}: an object {"url", "name"} is expected`);
    if (!httpUrl(m.url)) throw usageError(`${at}.url: an http(s) URL is required`);
    if (typeof m.name !== 'string' || m.name === '') throw usageError(`${at}.name: a name is required`);
    if (m.type !== undefined && m.type !== 'url') throw usageError(`${at}.type: must be "url"`);
    if (m.headers !== undefined && m.headers !== null && (!isObj(m.headers) || Object.values(m.headers).some((v) => typeof v !== 'string')))
      throw usageError(`${at}.headers: an object of string values is expected`);
    if (m.allowed_tools !== undefined && m.allowed_tools !== null && (!Array.isArray(m.allowed_tools) || m.allowed_tools.some((t) => typeof t !== 'string')))
      throw usageError(`${at}.allowed_tools: a list of tool names is expected`);
    for (const k of Object.keys(m))
      if (!['type', 'url', 'name', 'headers', 'allowed_tools'].includes(k)) throw usageError(`${at}: an MCP server has no field "${k}"`);
  });
  return arr as McpServer[];
}

function webhook(what: string, w: unknown): NonNullable<RunOptions['webhook']> {
  if (!isObj(w) || !httpUrl(w.url)) throw usageError(`${what}: the webhook needs an http(s) URL`);
  const out: NonNullable<RunOptions['webhook']> = { url: w.url as string };
  if (w.event_types !== undefined) {
    const ts = w.event_types;
    if (!Array.isArray(ts) || ts.some((t) => t !== 'task_run.status'))
      throw usageError(`${what}: webhook event types must be task_run.status (the only one the API sends)`);
    out.event_types = ts as string[];
  }
  return out;
}

function text(what: string, x: unknown): string {
  if (typeof x !== 'string' || x.trim() === '') throw usageError(`${what}: a non-empty string is required`);
  return x;
}

/** The API's rule for memory scope keys (the vendor CLI's parallel_web_tools/core/memory.py). */
export const MEMORY_SCOPE_KEY = /^[a-zA-Z0-9_-]{1,128}$/;

function memoryScopeKey(what: string, x: unknown): string {
  if (typeof x === 'string' && MEMORY_SCOPE_KEY.test(x)) return x;
  const shown = typeof x === 'string' ? `"${x.length > 40 ? `${x.slice(0, 40)}…" (${x.length} characters)` : `${x}"`}` : JSON.stringify(x);
  throw usageError(`${what}: ${shown} is not a memory scope key: 1 to 128 letters, digits, "_" or "-" (the API's pattern ${MEMORY_SCOPE_KEY.source})`);
}

/** The run options file: an object with the TaskRunInput fields (and "betas"). */
function fromFile(name: string, raw: string): { options: RunOptions; betas: string[] } {
  let j: unknown;
  try {
    j = JSON.parse(raw);
  } catch (e) {
    throw usageError(`--run-options ${name}: not JSON (${(e as Error).message})`);
  }
  if (!isObj(j)) throw usageError(`--run-options ${name}: a JSON object is expected`, `Fields: ${FILE_KEYS.join(', ')}.`);
  const what = `--run-options ${name}:`;
  const o: RunOptions = {};
  for (const k of Object.keys(j)) if (!FILE_KEYS.includes(k)) throw usageError(`${what} unknown field "${k}"`, `Fields: ${FILE_KEYS.join(', ')}.`);
  if (j.source_policy != null) o.source_policy = sourcePolicy(what, j.source_policy);
  if (j.mcp_servers != null) o.mcp_servers = mcpServers(`${what} mcp_servers`, j.mcp_servers);
  if (j.enable_events != null) {
    if (typeof j.enable_events !== 'boolean') throw usageError(`${what} enable_events must be true or false`);
    o.enable_events = j.enable_events;
  }
  if (j.webhook != null) o.webhook = webhook(what, j.webhook);
  if (j.previous_interaction_id != null) o.previous_interaction_id = text(`${what} previous_interaction_id`, j.previous_interaction_id);
  if (j.memory_scope_key != null) o.memory_scope_key = memoryScopeKey(`${what} memory_scope_key`, j.memory_scope_key);
  if (j.advanced_settings != null) {
    if (!isObj(j.advanced_settings) || (j.advanced_settings.location != null && typeof j.advanced_settings.location !== 'string'))
      throw usageError(`${what} advanced_settings must be an object like {"location": "us"}`);
    o.advanced_settings = j.advanced_settings as RunOptions['advanced_settings'];
  }
  const betas = j.betas ?? [];
  if (!Array.isArray(betas) || betas.some((b) => typeof b !== 'string')) throw usageError(`${what} betas must be a list of strings`);
  return { options: o, betas: betas as string[] };
}

/**
 * The run options and betas of a submit: the file's (if any), then the flags over them. Betas a
 * chosen option needs (mcp_servers, webhook) are added. Throws a usage error (exit 2) naming the
 * flag and the rule.
 */
export function resolveRunOptions(
  flags: RunOptionFlags,
  files: { runOptions?: { name: string; text: string }; mcpServers?: { name: string; text: string } },
): { options: RunOptions; betas: string[] } {
  const base = files.runOptions ? fromFile(files.runOptions.name, files.runOptions.text) : { options: {}, betas: [] };
  const o: RunOptions = { ...base.options };
  const sp = { ...o.source_policy };
  if (flags.includeDomains !== undefined) sp.include_domains = domains('--include-domains', list(flags.includeDomains));
  if (flags.excludeDomains !== undefined) sp.exclude_domains = domains('--exclude-domains', list(flags.excludeDomains));
  if (flags.afterDate !== undefined) {
    if (!isDate(flags.afterDate)) throw usageError(`--after-date: "${flags.afterDate}" is not a date in the form YYYY-MM-DD`);
    sp.after_date = flags.afterDate;
  }
  const n = (sp.include_domains?.length ?? 0) + (sp.exclude_domains?.length ?? 0);
  if (n > 200) throw usageError(`--include-domains and --exclude-domains: at most 200 domains together (the API's limit), not ${n}`);
  if (Object.keys(sp).length) o.source_policy = sp;
  if (files.mcpServers) {
    let j: unknown;
    try {
      j = JSON.parse(files.mcpServers.text);
    } catch (e) {
      throw usageError(`--mcp-servers ${files.mcpServers.name}: not JSON (${(e as Error).message})`);
    }
    o.mcp_servers = mcpServers(`--mcp-servers ${files.mcpServers.name}`, j);
  }
  if (flags.enableEvents) o.enable_events = true;
  if (flags.webhookEvents !== undefined && flags.webhookUrl === undefined && !o.webhook) throw usageError('--webhook-events goes with --webhook-url');
  if (flags.webhookUrl !== undefined || flags.webhookEvents !== undefined) {
    const url = flags.webhookUrl ?? o.webhook?.url;
    if (!httpUrl(url)) throw usageError(`--webhook-url: "${String(url)}" is not an http(s) URL`);
    const events = flags.webhookEvents !== undefined ? list(flags.webhookEvents) : o.webhook?.event_types;
    o.webhook = webhook('--webhook-events', { url, ...(events ? { event_types: events } : {}) });
  }
  if (flags.previousInteractionId !== undefined) o.previous_interaction_id = text('--previous-interaction-id', flags.previousInteractionId);
  if (flags.memoryScopeKey !== undefined) o.memory_scope_key = memoryScopeKey('--memory-scope-key', flags.memoryScopeKey);
  return { options: o, betas: betasFor(o, [...base.betas, ...(flags.beta ?? []).flatMap(list)]) };
}

function betasFor(o: RunOptions, given: string[]): string[] {
  for (const b of given) if (!BETA.test(b)) throw usageError(`--beta: "${b}" is not a beta name (letters, digits, ".", "_", "-"; example: ${BETAS.mcp})`);
  const set = new Set(given);
  if (o.mcp_servers) set.add(BETAS.mcp);
  if (o.webhook) set.add(BETAS.webhook);
  return [...set].sort();
}

const ORDER: (keyof RunOptions)[] = [
  'source_policy',
  'mcp_servers',
  'enable_events',
  'webhook',
  'previous_interaction_id',
  'memory_scope_key',
  'advanced_settings',
];

/** The options as the JSON members appended to each run input: `,"k":v…` in a fixed order ('' for none). */
export function runOptionsJson(o: RunOptions): string {
  let s = '';
  for (const k of ORDER) if (o[k] !== undefined) s += `,${JSON.stringify(k)}:${JSON.stringify(o[k])}`;
  return s;
}

/** What the row digest covers of the options and betas: '' when there are none (digests stay as before). */
export function runOptionsKey(o: RunOptions, betas: string[]): string {
  const j = runOptionsJson(o);
  return j === '' && betas.length === 0 ? '' : `${j}\0${betas.join(',')}`;
}
