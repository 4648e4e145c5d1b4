// `tg emulator`: a local Task Group + Task Run API on node:http, serving /v1 and /v1beta group
// paths identically. Follows the vendor OpenAPI spec and ../shared/api-reference.md §8.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Store, type Group, type Run, STATUS_NAMES, Q, R, C, F, iso, runEventId, groupEventId, parseCursor } from './store';
import { generateOutput } from './outputs';
import { hash32, mulberry32 } from './rng';

export interface EmulatorOptions {
  host?: string;
  port?: number;
  apiKey?: string;
  rateLimit?: { limit: number; windowMs: number } | null;
  latencyMs?: [number, number];
  failRate?: number;
  errorRate?: number;
  dropStreamsAfter?: number;
  loseResponses?: number;
  seed?: number;
  /** Called once per request with method, path and status (emulator --verbose). */
  log?: (line: string) => void;
  now?: () => number;
}

export interface EmulatorHandle {
  url: string;
  port: number;
  store: Store;
  stats: EmulatorStats;
  /** Change request-level faults while running (e.g. switch them off to read a reference copy). */
  setFaults(f: Pick<EmulatorOptions, 'errorRate' | 'loseResponses' | 'dropStreamsAfter'>): void;
  close(): Promise<void>;
}

export interface EmulatorStats {
  requests: number;
  /** POSTs to .../runs (group add-runs or a single run), counted before auth and validation. */
  runCreateRequests: number;
  runsCreated: number;
  addRunsPosts: number;
  rateLimited: number;
  errorsInjected: number;
  responsesLost: number;
  streamsDropped: number;
}

export const PROCESSORS = new Set(
  ['lite', 'base', 'core', 'core2x', 'pro', 'ultra', 'ultra2x', 'ultra4x', 'ultra8x'].flatMap((p) => [p, `${p}-fast`]),
);

const MAX_BODY = 64 * 1024 * 1024;

class HttpFail {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly detail?: { loc: (string | number)[]; msg: string; type: string }[],
    readonly headers?: Record<string, string>,
  ) {}
}

const v = (loc: (string | number)[], msg: string, type = 'value_error') => ({ loc, msg, type });

function errorBody(message: string, detail?: { loc: (string | number)[]; msg: string; type: string }[]): string {
  const body: Record<string, unknown> = { type: 'error', error: { ref_id: randomUUID(), message, ...(detail ? { detail: { errors: detail } } : {}) } };
  // Validation errors also carry FastAPI's top-level `detail` list (the spec's HTTPValidationError).
  if (detail) body.detail = detail;
  return JSON.stringify(body);
}

function runJson(store: Store, run: Run): string {
  const st = store.runStatus(run);
  const status = STATUS_NAMES[st];
  const err = st === F ? JSON.stringify({ ref_id: `ref_${run.id.slice(5)}`, message: 'Run failed (emulated by --fail-rate)', detail: null }) : 'null';
  return (
    `{"run_id":"${run.id}","interaction_id":"${run.id}","status":"${status}","is_active":${st === Q || st === R},` +
    `"warnings":null,"error":${err},"processor":${JSON.stringify(run.processor)},"metadata":${run.metadata ? JSON.stringify(run.metadata) : 'null'},` +
    `"created_at":"${iso(run.createdAt)}","modified_at":"${iso(run.modifiedAt)}","taskgroup_id":${run.group ? `"${run.group.id}"` : 'null'}}`
  );
}

function inputJson(run: Run): string {
  const { task_spec: _own, ...rest } = run.input;
  const base = JSON.stringify(rest);
  if (!run.specJson) return base;
  return base === '{}' ? `{"task_spec":${run.specJson}}` : `{"task_spec":${run.specJson},${base.slice(1)}`;
}

function outputJson(store: Store, run: Run): string {
  return JSON.stringify(generateOutput(run.spec, run.input.input, (hash32(run.id) ^ store.opts.seed) >>> 0));
}

/** Validate a TaskRunInput; returns an error list (empty if valid). */
function checkRunInput(inp: any, loc: (string | number)[], defaultSpecLen: number): { loc: (string | number)[]; msg: string; type: string }[] | 'bad-processor' {
  const errs: { loc: (string | number)[]; msg: string; type: string }[] = [];
  if (!inp || typeof inp !== 'object' || Array.isArray(inp)) return [v(loc, 'Input should be a valid dictionary', 'dict_type')];
  if (inp.processor === undefined) errs.push(v([...loc, 'processor'], 'Field required', 'missing'));
  else if (typeof inp.processor !== 'string') errs.push(v([...loc, 'processor'], 'Input should be a valid string', 'string_type'));
  if (inp.input === undefined) errs.push(v([...loc, 'input'], 'Field required', 'missing'));
  else if (typeof inp.input !== 'string' && (typeof inp.input !== 'object' || inp.input === null || Array.isArray(inp.input)))
    errs.push(v([...loc, 'input'], 'Input should be a valid string or dictionary', 'union_type'));
  if (inp.metadata !== undefined && inp.metadata !== null) {
    if (typeof inp.metadata !== 'object' || Array.isArray(inp.metadata)) errs.push(v([...loc, 'metadata'], 'Input should be a valid dictionary', 'dict_type'));
    else
      for (const [k, val] of Object.entries(inp.metadata)) {
        if (k.length > 16) errs.push(v([...loc, 'metadata', k], 'Metadata keys must be at most 16 characters'));
        if (typeof val === 'string' && val.length > 512) errs.push(v([...loc, 'metadata', k], 'Metadata values must be at most 512 characters'));
        else if (!['string', 'number', 'boolean'].includes(typeof val)) errs.push(v([...loc, 'metadata', k], 'Metadata values must be strings, numbers or booleans'));
      }
  }
  if (inp.task_spec !== undefined && inp.task_spec !== null) errs.push(...checkSpec(inp.task_spec, [...loc, 'task_spec']));
  if (!errs.length) {
    const specLen = inp.task_spec ? JSON.stringify(inp.task_spec).length : defaultSpecLen;
    const inputLen = typeof inp.input === 'string' ? inp.input.length : JSON.stringify(inp.input).length;
    if (specLen + inputLen > 25_000) errs.push(v([...loc, 'input'], `Task spec and input together exceed 25,000 characters (${specLen + inputLen})`));
  }
  if (!errs.length && !PROCESSORS.has(inp.processor)) return 'bad-processor';
  return errs;
}

function checkSpec(spec: any, loc: (string | number)[]): { loc: (string | number)[]; msg: string; type: string }[] {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return [v(loc, 'Input should be a valid dictionary', 'dict_type')];
  const errs = [];
  if (spec.output_schema === undefined) errs.push(v([...loc, 'output_schema'], 'Field required', 'missing'));
  const os = spec.output_schema;
  if (os && typeof os === 'object' && (os.type === 'json' || os.json_schema !== undefined)) {
    const js = os.json_schema;
    if (!js || typeof js !== 'object' || Array.isArray(js)) errs.push(v([...loc, 'output_schema', 'json_schema'], 'Input should be a valid dictionary', 'dict_type'));
    else if (js.type !== 'object' || typeof js.properties !== 'object') errs.push(v([...loc, 'output_schema', 'json_schema'], 'The output schema root must be of type "object" with "properties"'));
  }
  if (JSON.stringify(spec).length > 15_000) errs.push(v(loc, 'Task spec exceeds 15,000 characters'));
  return errs;
}

/** An SSE response with batching, backpressure and the --drop-streams-after fault. */
class SseWriter {
  private buf: string[] = [];
  private size = 0;
  sent = 0;
  dead = false;
  constructor(
    private readonly res: http.ServerResponse,
    private readonly dropAfter: number,
    private readonly onDrop: () => void,
  ) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.on('close', () => {
      this.dead = true;
    });
  }

  /** Queue one event; returns a promise only when the socket needs draining. */
  event(type: string, json: string): Promise<void> | void {
    if (this.dead) return;
    const frame = `event: ${type}\ndata: ${json}\n\n`;
    if (this.dropAfter > 0 && this.sent >= this.dropAfter) {
      // Cut the connection in the middle of the next event.
      this.buf.push(frame.slice(0, Math.max(1, frame.length >> 1)));
      this.flushNow();
      this.dead = true;
      this.onDrop();
      setImmediate(() => this.res.socket?.destroy());
      return;
    }
    this.sent++;
    this.buf.push(frame);
    this.size += frame.length;
    if (this.size >= 65536) return this.flush();
  }

  comment(text: string) {
    if (this.dead) return;
    this.buf.push(`: ${text}\n\n`);
    this.flushNow();
  }

  private flushNow(): boolean {
    if (!this.buf.length) return true;
    const chunk = this.buf.join('');
    this.buf = [];
    this.size = 0;
    return this.res.write(chunk);
  }

  flush(): Promise<void> | void {
    if (this.dead) return;
    if (!this.flushNow()) {
      return new Promise((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.on('drain', done);
        this.res.on('close', done);
      });
    }
  }

  end() {
    if (this.dead) return;
    this.flushNow();
    this.res.end();
  }
}

export function createEmulator(opts: EmulatorOptions = {}) {
  opts = { ...opts }; // ours to change (setFaults)
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const store = new Store({ seed, latencyMs: opts.latencyMs ?? [1000, 5000], failRate: opts.failRate ?? 0, now: opts.now });
  const faults = mulberry32(seed ^ 0x5eed);
  const rateLimit = opts.rateLimit === undefined ? { limit: 2000, windowMs: 60_000 } : opts.rateLimit;
  const windows = new Map<string, { t: number; n: number }[]>();
  const stats: EmulatorStats = { requests: 0, runCreateRequests: 0, runsCreated: 0, addRunsPosts: 0, rateLimited: 0, errorsInjected: 0, responsesLost: 0, streamsDropped: 0 };
  const openStreams = new Set<http.ServerResponse>();

  /** Count n run creates for key; throws 429 (nothing created) when over the limit. */
  function charge(key: string, n: number) {
    if (!rateLimit) return;
    const now = store.now();
    let w = windows.get(key);
    if (!w) windows.set(key, (w = []));
    while (w.length && w[0].t + rateLimit.windowMs <= now) w.shift();
    let used = 0;
    for (const e of w) used += e.n;
    if (used + n > rateLimit.limit) {
      let free = used;
      let waitMs = rateLimit.windowMs;
      for (const e of w) {
        free -= e.n;
        if (free + n <= rateLimit.limit) {
          waitMs = e.t + rateLimit.windowMs - now;
          break;
        }
      }
      stats.rateLimited++;
      waitMs = Math.max(1, Math.ceil(waitMs));
      throw new HttpFail(429, 'Too many requests: quota temporarily exceeded', undefined, {
        'retry-after': String(Math.ceil(waitMs / 1000)),
        'retry-after-ms': String(waitMs),
      });
    }
    w.push({ t: now, n });
  }

  function getGroup(id: string): Group {
    const g = store.groups.get(id);
    if (!g) throw new HttpFail(404, 'TaskGroup not found');
    return g;
  }

  function getRun(id: string): Run {
    const r = store.runs.get(id);
    if (!r) throw new HttpFail(404, 'Run id not found');
    return r;
  }

  async function readBody(req: http.IncomingMessage): Promise<any> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) throw new HttpFail(413, 'Request body too large');
      chunks.push(c as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpFail(422, 'Request body is not valid JSON', [v(['body'], 'JSON decode error', 'json_invalid')]);
    }
  }

  function groupJson(g: Group): string {
    store.advance(g);
    return `{"taskgroup_id":"${g.id}","status":${store.statusJson(g)},"created_at":"${iso(g.createdAt)}","metadata":${JSON.stringify(g.metadata ?? null)}}`;
  }

  async function addRuns(g: Group, body: any, key: string): Promise<string> {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpFail(422, 'Request validation error', [v(['body'], 'Input should be a valid dictionary', 'dict_type')]);
    const errs: { loc: (string | number)[]; msg: string; type: string }[] = [];
    const inputs = body.inputs;
    if (inputs === undefined) errs.push(v(['body', 'inputs'], 'Field required', 'missing'));
    else if (!Array.isArray(inputs)) errs.push(v(['body', 'inputs'], 'Input should be a valid list', 'list_type'));
    else if (inputs.length === 0) errs.push(v(['body', 'inputs'], 'List should have at least 1 item after validation, not 0', 'too_short'));
    else if (inputs.length > 1000) errs.push(v(['body', 'inputs'], `List should have at most 1000 items after validation, not ${inputs.length}`, 'too_long'));
    const spec = body.default_task_spec ?? null;
    if (spec !== null) errs.push(...checkSpec(spec, ['body', 'default_task_spec']));
    let badProcessor = false;
    if (!errs.length) {
      const specLen = spec ? JSON.stringify(spec).length : 0;
      for (let i = 0; i < inputs.length && errs.length < 50; i++) {
        const r = checkRunInput(inputs[i], ['body', 'inputs', i], specLen);
        if (r === 'bad-processor') badProcessor = true;
        else errs.push(...r);
      }
    }
    if (errs.length) throw new HttpFail(422, `Request validation error: ${errs[0].loc.join('.')}: ${errs[0].msg}`, errs);
    if (badProcessor) throw new HttpFail(403, 'Forbidden: invalid processor in request');
    charge(key, inputs.length);
    const { runs, runCursor, eventCursor } = store.addRuns(g, inputs, spec);
    stats.runsCreated += runs.length;
    stats.addRunsPosts++;
    const ids = runs.map((r) => `"${r.id}"`).join(',');
    return `{"status":${store.statusJson(g)},"run_ids":[${ids}],"run_cursor":${runCursor ? `"${runCursor}"` : 'null'},"event_cursor":${eventCursor ? `"${eventCursor}"` : 'null'}}`;
  }

  async function streamRuns(req: http.IncomingMessage, res: http.ServerResponse, g: Group, q: URLSearchParams) {
    const after = parseCursor(q.get('last_event_id'), 'r');
    if (after === null) throw new HttpFail(422, 'Invalid last_event_id for the run stream', [v(['query', 'last_event_id'], 'Invalid cursor')]);
    const status = q.get('status') || null;
    if (status !== null && !['queued', 'action_required', 'running', 'completed', 'failed', 'cancelling', 'cancelled'].includes(status))
      throw new HttpFail(422, 'Invalid status filter', [v(['query', 'status'], `Input should be 'queued', 'action_required', 'running', 'completed', 'failed', 'cancelling' or 'cancelled'`, 'enum')]);
    const withInput = q.get('include_input') === 'true';
    const withOutput = q.get('include_output') === 'true';
    store.advance(g);
    const end = g.runs.length;
    const w = new SseWriter(res, opts.dropStreamsAfter ?? 0, () => stats.streamsDropped++);
    openStreams.add(res);
    try {
      for (let i = after + 1; i < end && !w.dead; i++) {
        const run = g.runs[i];
        const st = run.status;
        if (status !== null && STATUS_NAMES[st] !== status) continue;
        const out = withOutput && st === C ? outputJson(store, run) : 'null';
        const inp = withInput ? inputJson(run) : 'null';
        const p = w.event('task_run.state', `{"type":"task_run.state","event_id":"${runEventId(i)}","input":${inp},"run":${runJson(store, run)},"output":${out}}`);
        if (p) await p;
      }
      w.end();
    } finally {
      openStreams.delete(res);
    }
  }

  async function streamEvents(req: http.IncomingMessage, res: http.ServerResponse, g: Group, q: URLSearchParams) {
    const after = parseCursor(q.get('last_event_id'), 'e');
    if (after === null) throw new HttpFail(422, 'Invalid last_event_id for the event stream', [v(['query', 'last_event_id'], 'Invalid cursor')]);
    const tq = q.get('timeout');
    let timeoutS = 3600;
    if (tq !== null && tq !== '') {
      const n = Number(tq);
      if (!Number.isFinite(n) || n < 0) throw new HttpFail(422, 'Invalid timeout', [v(['query', 'timeout'], 'Input should be a valid number', 'float_parsing')]);
      timeoutS = Math.min(n, 3600);
    }
    const deadline = Date.now() + timeoutS * 1000;
    const w = new SseWriter(res, opts.dropStreamsAfter ?? 0, () => stats.streamsDropped++);
    openStreams.add(res);
    let pos = after + 1;
    let wake: (() => void) | null = null;
    const unlisten = store.listen(g, () => wake?.());
    res.on('close', () => wake?.());
    try {
      for (;;) {
        store.advance(g);
        while (pos < g.events.length && !w.dead) {
          const e = g.events[pos];
          const id = groupEventId(pos);
          let p;
          if (e.kind === 0) p = w.event('task_group_status', `{"type":"task_group_status","event_id":"${id}","status":${e.snapshot}}`);
          else p = w.event('task_run.state', `{"type":"task_run.state","event_id":"${id}","input":null,"run":${runJson(store, g.runs[e.runIdx])},"output":null}`);
          pos++;
          if (p) await p;
        }
        if (w.dead) return;
        const fl = w.flush();
        if (fl) await fl;
        if (!store.isActive(g) && pos >= g.events.length) break;
        const left = deadline - Date.now();
        if (left <= 0) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            wake = null;
            w.comment('ping');
            resolve();
          }, Math.min(left, 15_000));
          wake = () => {
            clearTimeout(t);
            wake = null;
            resolve();
          };
        });
      }
      w.end();
    } finally {
      unlisten();
      openStreams.delete(res);
    }
  }

  async function streamRunEvents(res: http.ServerResponse, run: Run) {
    const w = new SseWriter(res, opts.dropStreamsAfter ?? 0, () => stats.streamsDropped++);
    openStreams.add(res);
    const state = (withOutput: boolean) => {
      const st = store.runStatus(run);
      const out = withOutput && st === C ? outputJson(store, run) : 'null';
      return `{"type":"task_run.state","event_id":null,"input":null,"run":${runJson(store, run)},"output":${out}}`;
    };
    try {
      w.event('task_run.state', state(false));
      let pct = 0;
      while (store.runStatus(run) <= R && !w.dead) {
        const left = run.finishAt - store.now();
        pct = Math.min(99, pct + 25);
        w.event('task_run.progress_stats', JSON.stringify({ type: 'task_run.progress_stats', source_stats: { num_sources_considered: pct, num_sources_read: pct >> 1, sources_read_sample: [] }, progress_meter: pct }));
        w.event('task_run.progress_msg.search', JSON.stringify({ type: 'task_run.progress_msg.search', message: `Searching (${pct}%)`, timestamp: iso(store.now()) }));
        const fl = w.flush();
        if (fl) await fl;
        await new Promise((r) => setTimeout(r, Math.max(10, Math.min(left, 500))));
      }
      w.event('task_run.state', state(true));
      w.end();
    } finally {
      openStreams.delete(res);
    }
  }

  async function waitResult(run: Run, timeoutS: number): Promise<string> {
    const deadline = Date.now() + timeoutS * 1000;
    while (store.runStatus(run) <= R) {
      const left = deadline - Date.now();
      if (left <= 0) throw new HttpFail(408, 'Request timed out; run still active');
      await new Promise((r) => setTimeout(r, Math.max(5, Math.min(left, run.finishAt - store.now() + 5))));
    }
    if (run.status !== C) throw new HttpFail(404, 'Run failed or run id not found');
    return `{"run":${runJson(store, run)},"output":${outputJson(store, run)}}`;
  }

  const GROUP_RE = /^\/(v1|v1beta)\/tasks\/groups(?:\/([^/]+)(?:\/(runs|events)(?:\/([^/]+))?)?)?$/;
  const RUN_RE = /^\/(v1|v1beta)\/tasks\/runs(?:\/([^/]+)(?:\/(result|input|events))?)?$/;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<{ status: number; body?: string; headers?: Record<string, string> } | null> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const key = req.headers['x-api-key'];
    const keyStr = Array.isArray(key) ? key[0] : key;
    if (path === '/' || path === '/healthz') return { status: 200, body: '{"ok":true}' };
    if (method === 'POST' && path.endsWith('/runs')) stats.runCreateRequests++; // any request that could create runs
    if (!keyStr || (opts.apiKey !== undefined && keyStr !== opts.apiKey)) throw new HttpFail(401, 'Unauthorized: invalid or missing credentials');
    if ((opts.errorRate ?? 0) > 0 && faults() < opts.errorRate!) {
      stats.errorsInjected++;
      if (method === 'POST') req.resume();
      return { status: faults() < 0.5 ? 500 : 503, body: errorBody('Internal server error (emulated by --error-rate)') };
    }
    let m = GROUP_RE.exec(path);
    if (m) {
      const [, , gid, sub, rid] = m;
      if (!gid) {
        if (method !== 'POST') throw new HttpFail(405, 'Method Not Allowed');
        const body = (await readBody(req)) ?? {};
        if (typeof body !== 'object' || Array.isArray(body)) throw new HttpFail(422, 'Request validation error', [v(['body'], 'Input should be a valid dictionary', 'dict_type')]);
        if (body.metadata !== undefined && body.metadata !== null && (typeof body.metadata !== 'object' || Array.isArray(body.metadata)))
          throw new HttpFail(422, 'Request validation error: body.metadata: Input should be a valid dictionary', [v(['body', 'metadata'], 'Input should be a valid dictionary', 'dict_type')]);
        const g = store.createGroup(body.metadata);
        return { status: 200, body: groupJson(g) };
      }
      const g = getGroup(decodeURIComponent(gid));
      if (!sub) {
        if (method !== 'GET') throw new HttpFail(405, 'Method Not Allowed');
        return { status: 200, body: groupJson(g) };
      }
      if (sub === 'runs' && rid) {
        if (method !== 'GET') throw new HttpFail(405, 'Method Not Allowed');
        const run = store.runs.get(decodeURIComponent(rid));
        if (!run || run.group !== g) throw new HttpFail(404, 'Run id not found');
        return { status: 200, body: runJson(store, run) };
      }
      if (sub === 'runs' && method === 'POST') {
        const body = await readBody(req);
        const out = await addRuns(g, body, keyStr);
        if ((opts.loseResponses ?? 0) > 0 && faults() < opts.loseResponses!) {
          stats.responsesLost++;
          req.socket.destroy();
          return null;
        }
        return { status: 200, body: out };
      }
      if (method !== 'GET') throw new HttpFail(405, 'Method Not Allowed');
      if (sub === 'runs') await streamRuns(req, res, g, url.searchParams);
      else await streamEvents(req, res, g, url.searchParams);
      return null;
    }
    m = RUN_RE.exec(path);
    if (m) {
      const [, ver, rid, sub] = m;
      if (!rid) {
        if (method !== 'POST' || ver !== 'v1') throw new HttpFail(method === 'POST' ? 404 : 405, method === 'POST' ? 'Not Found' : 'Method Not Allowed');
        const body = await readBody(req);
        const r = checkRunInput(body, ['body'], 0);
        if (r === 'bad-processor') throw new HttpFail(403, 'Forbidden: invalid processor in request');
        if (r.length) throw new HttpFail(422, `Unprocessable content: request validation error: ${r[0].loc.join('.')}: ${r[0].msg}`, r);
        charge(keyStr, 1);
        const run = store.createSingleRun(body);
        stats.runsCreated++;
        return { status: 202, body: runJson(store, run) };
      }
      if (method !== 'GET') throw new HttpFail(405, 'Method Not Allowed');
      const run = getRun(decodeURIComponent(rid));
      if (ver === 'v1beta' && sub !== 'events') throw new HttpFail(404, 'Not Found');
      if (!sub) return { status: 200, body: runJson(store, run) };
      if (sub === 'input') return { status: 200, body: inputJson(run) };
      if (sub === 'result') {
        const tq = url.searchParams.get('timeout');
        const t = tq === null || tq === '' ? 600 : Number(tq);
        if (!Number.isFinite(t) || t < 0) throw new HttpFail(422, 'Invalid timeout', [v(['query', 'timeout'], 'Input should be a valid integer', 'int_parsing')]);
        return { status: 200, body: await waitResult(run, t) };
      }
      await streamRunEvents(res, run);
      return null;
    }
    throw new HttpFail(404, 'Not Found');
  }

  const server = http.createServer((req, res) => {
    stats.requests++;
    const t0 = Date.now();
    const send = (status: number, body: string, headers?: Record<string, string>) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    handle(req, res)
      .then((r) => {
        if (r) send(r.status, r.body ?? '', r.headers);
        opts.log?.(`${req.method} ${req.url} ${r ? r.status : res.headersSent ? res.statusCode : 'dropped'} ${Date.now() - t0}ms`);
      })
      .catch((e) => {
        if (e instanceof HttpFail) {
          if (req.method === 'POST' && !req.readableEnded) req.resume();
          send(e.status, errorBody(e.message, e.detail), e.headers);
          opts.log?.(`${req.method} ${req.url} ${e.status} ${Date.now() - t0}ms`);
        } else {
          send(500, errorBody('Internal server error'));
          opts.log?.(`${req.method} ${req.url} 500 ${String(e?.stack ?? e)}`);
        }
      });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  return {
    server,
    store,
    stats,
    seed,
    async listen(): Promise<EmulatorHandle> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port ?? 8787, opts.host ?? '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      const addr = server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return {
        url: `http://${host}:${addr.port}`,
        port: addr.port,
        store,
        stats,
        setFaults: (f) => void Object.assign(opts, f),
        close: () =>
          new Promise<void>((resolve) => {
            store.stopTimers();
            for (const r of openStreams) r.socket?.destroy();
            server.closeAllConnections?.();
            server.close(() => resolve());
          }),
      };
    },
  };
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<EmulatorHandle> {
  return createEmulator(opts).listen();
}
