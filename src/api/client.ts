// The one HTTP client of tg: an undici keep-alive Pool, x-api-key auth, both group path versions,
// retries for what is safe to retry, typed errors, and SSE streams.
import { StringDecoder } from 'node:string_decoder';
import { Pool, type Dispatcher } from 'undici';
import { createParser } from 'eventsource-parser';
import { ApiError, NetworkError, TgError, UnknownOutcomeError, EXIT, usageError } from '../errors';
import { retryDelay, serverRetryAfterMs } from '../core/backoff';
import { flat, isLoopbackHost, redact, sleep } from '../core/util';
import {
  type GroupEvent,
  type Metadata,
  type TaskGroup,
  type TaskGroupRunResponse,
  type TaskRun,
  type TaskRunEvent,
  type TaskRunInput,
  type TaskRunResult,
  type TaskSpec,
} from './types';

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  apiVersion?: 'v1' | 'v1beta';
  /** Request log sink (--verbose). Lines never contain the key. */
  log?: (line: string) => void;
  /** Retries for safe requests (GET, group create, SSE connects). */
  maxRetries?: number;
  connections?: number;
  insecureHttp?: boolean;
  random?: () => number;
  userAgent?: string;
  /**
   * How long a sustained outage (no answer, errors, or a server-requested wait) may last before a
   * request gives up (TG_OUTAGE_GIVE_UP_S); also caps each request's header and body timeouts.
   */
  giveUpMs?: number;
  /** Told before each wait between attempts (ms, why): the progress display counts it down. */
  onWait?: (ms: number, reason: string) => void;
}

/** Longest a request waits for response headers, or between body chunks (capped by the give-up). */
const REQUEST_TIMEOUT_MS = 60_000;

/** The server asked for a wait longer than the outage give-up: end now (exit 4), saying when to come back. */
export function waitTooLong(what: string, waitMs: number, giveUpMs: number, now = Date.now()): ApiError {
  const back = new Date(now + waitMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return new ApiError(
    'retry_later',
    `${what}: the API asked to wait ${Math.ceil(waitMs / 1000)} s (retry-after), longer than the outage give-up of ${Math.round(giveUpMs / 1000)} s`,
    429,
    EXIT.API,
    {
      retryAfterMs: waitMs,
      hint: `Come back after ${back} and rerun the same command: it resumes. (TG_OUTAGE_GIVE_UP_S sets how long tg may wait.)`,
    },
  );
}

type Query = Record<string, string | number | boolean | null | undefined>;

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function silent(e: NetworkError, ms: number): NetworkError {
  e.silentMs = ms;
  return e;
}

/** A network failure in words: the server's silence is said as such, with how long tg waited. */
function netText(e: unknown, code: string, waitedMs: number, apiKey: string): string {
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return `the server accepted the connection but sent no answer in ${Math.round(waitedMs / 1000)} s (${code})`;
  if (code === 'UND_ERR_BODY_TIMEOUT') return `the server stopped sending its answer for ${Math.round(waitedMs / 1000)} s (${code})`;
  return `${redact(String((e as Error)?.message ?? e), apiKey)}${code ? ` (${code})` : ''}`;
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

function errCode(e: unknown): string {
  const any = e as { code?: string; cause?: { code?: string } };
  return any?.code ?? any?.cause?.code ?? '';
}

export function buildQuery(q: Query | undefined): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** The `x-should-retry` header: true, false, or undefined when absent or unreadable. */
export function shouldRetryHeader(headers: Record<string, string | string[] | undefined>): boolean | undefined {
  const raw = headers['x-should-retry'];
  const v = (Array.isArray(raw) ? raw[0] : raw)?.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

/** Whether to retry an answer: the server's x-should-retry decides first, then the status. */
export function retryable(e: ApiError): boolean {
  return e.shouldRetry ?? ApiClient.retryableStatus(e.status);
}

/** The most bytes of an event stream decoded into one string. */
const SSE_PIECE = 32 * 1024;

/**
 * The text of a byte stream, chunk by chunk: a character split between chunks is kept whole, a
 * leading byte order mark dropped, bad bytes replaced by U+FFFD (all as TextDecoder does). A
 * StringDecoder, not TextDecoder's stream mode: 0.08 s against 0.39 s for the 53 MB of events of
 * a 100k-run group (64 KB chunks).
 */
export function utf8Chunks(): (chunk: Buffer) => string {
  const dec = new StringDecoder('utf8');
  let first = true;
  return (chunk) => {
    const s = dec.write(chunk);
    if (!first || !s) return s;
    first = false;
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  };
}

/** Parse the vendor error body; tolerate anything. */
function parseErrorBody(text: string): { message: string; refId?: string; detail?: unknown } {
  try {
    const j = JSON.parse(text);
    if (j && typeof j === 'object') {
      if (j.error && typeof j.error === 'object') {
        return { message: String(j.error.message ?? 'error'), refId: j.error.ref_id, detail: j.error.detail };
      }
      if (Array.isArray(j.detail)) {
        const msg = j.detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).join('.')}: ${d.msg}`).join('; ');
        return { message: msg, detail: j.detail };
      }
      if (typeof j.message === 'string') return { message: j.message };
    }
  } catch {
    /* not JSON */
  }
  return { message: text.slice(0, 300) || 'no body' };
}

export class ApiClient {
  readonly baseUrl: URL;
  readonly apiVersion: 'v1' | 'v1beta';
  private readonly apiKey: string;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly log?: (line: string) => void;
  private readonly maxRetries: number;
  private readonly random: () => number;
  private readonly userAgent: string;
  private readonly giveUpMs: number;
  private readonly timeoutMs: number;
  private readonly onWait: (ms: number, reason: string) => void;
  /** Count of 429 answers received (for benchmarks and progress). */
  rateLimited = 0;
  /** The options without functions: what a client in a worker thread needs to make the same requests. */
  readonly wireOptions: ClientOptions;

  constructor(opts: ClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw usageError(`--base-url is not a URL: "${opts.baseUrl}"`, 'Example: --base-url https://api.parallel.ai');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw usageError(`--base-url must be http(s): "${opts.baseUrl}"`);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !opts.insecureHttp) {
      throw usageError(`refusing to send the API key over plain http to ${url.host}`, 'Use https, or pass --insecure-http if you really mean it.');
    }
    if (!opts.apiKey)
      throw new TgError(
        'no_api_key',
        'no API key: PARALLEL_API_KEY is not set and --api-key was not given',
        EXIT.USAGE,
        'Set PARALLEL_API_KEY (export PARALLEL_API_KEY=...) or pass --api-key; for a demo without a key use --emulator.',
      );
    this.wireOptions = Object.fromEntries(Object.entries(opts).filter(([, v]) => typeof v !== 'function')) as ClientOptions;
    this.baseUrl = url;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.apiVersion = opts.apiVersion ?? 'v1';
    this.log = opts.log;
    this.maxRetries = opts.maxRetries ?? 6;
    this.random = opts.random ?? Math.random;
    this.userAgent = opts.userAgent ?? 'tg';
    this.giveUpMs = opts.giveUpMs ?? 600_000;
    this.timeoutMs = Math.min(REQUEST_TIMEOUT_MS, this.giveUpMs);
    this.onWait = opts.onWait ?? (() => undefined);
    this.pool = new Pool(url.origin, {
      connections: opts.connections ?? 32,
      keepAliveTimeout: 30_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  /** A request-log line of a client in a worker thread (already redacted there). */
  relayLog(line: string): void {
    this.log?.(line);
  }

  destroy(): void {
    this.pool.destroy().catch(() => undefined);
  }

  groupsPath(suffix = ''): string {
    return `/${this.apiVersion}/tasks/groups${suffix}`;
  }

  private headers(extra?: Record<string, string>): Record<string, string> {
    return { 'x-api-key': this.apiKey, accept: 'application/json', 'user-agent': this.userAgent, ...extra };
  }

  private logLine(method: string, path: string, status: number | string, t0: number) {
    if (this.log) this.log(redact(`${method} ${path} ${status} ${Date.now() - t0}ms`, this.apiKey));
  }

  /** One HTTP exchange, body read in full. Throws NetworkError on connection failures. */
  private async once(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
    headersTimeout?: number,
    extra?: Record<string, string>,
  ): Promise<RawResponse> {
    const t0 = Date.now();
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    try {
      const r = await exchange(
        this.pool,
        {
          method: method as 'GET',
          path: this.basePath + path,
          headers: this.headers(payload !== undefined ? { 'content-type': 'application/json', ...extra } : extra),
          body: payload,
          headersTimeout: headersTimeout ?? this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        },
        signal,
      );
      this.logLine(method, path, r.status, t0);
      return r;
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      this.logLine(method, path, errCode(e) || 'error', t0);
      const code = errCode(e);
      const waited = code === 'UND_ERR_BODY_TIMEOUT' ? this.timeoutMs : (headersTimeout ?? this.timeoutMs);
      throw new NetworkError(`${method} ${path}: ${netText(e, code, waited, this.apiKey)}`, !NOT_SENT_CODES.has(code));
    }
  }

  /** Turn a non-2xx answer into the typed error of the contract. */
  errorFor(method: string, path: string, r: RawResponse): ApiError {
    const { message, refId, detail } = parseErrorBody(r.text);
    const ref = refId ? ` (ref ${refId})` : '';
    const what = `${method} ${path} → ${r.status}: ${redact(message, this.apiKey)}${ref}`;
    const retryAfterMs = serverRetryAfterMs(r.headers, Date.now());
    const shouldRetry = shouldRetryHeader(r.headers);
    const e = this.errorOf(r.status, what, message, { refId, detail, retryAfterMs });
    return shouldRetry === undefined ? e : new ApiError(e.code, e.message, e.status, e.exitCode, { refId, detail, retryAfterMs, hint: e.hint, shouldRetry });
  }

  private errorOf(status: number, what: string, message: string, o: { refId?: string; detail?: unknown; retryAfterMs?: number }): ApiError {
    const { refId, detail, retryAfterMs } = o;
    switch (status) {
      case 401:
        return new ApiError('unauthorized', what, 401, EXIT.AUTH, {
          refId,
          detail,
          hint: 'The API key was refused: check PARALLEL_API_KEY (or --api-key) and that the key is active.',
        });
      case 403:
        if (/processor/i.test(message))
          return new ApiError('invalid_processor', what, 403, EXIT.USAGE, {
            refId,
            detail,
            hint: 'Check --processor: lite, base, core, core2x, pro, ultra, ultra2x, ultra4x, ultra8x (and their -fast variants).',
          });
        return new ApiError('forbidden', what, 403, EXIT.AUTH, {
          refId,
          detail,
          hint: 'The key lacks permission for this request: check PARALLEL_API_KEY and the account.',
        });
      case 402:
        return new ApiError('payment_required', `${what} (the account's credit does not cover these runs)`, 402, EXIT.AUTH, {
          refId,
          detail,
          hint: 'Add credit to the account (task groups reserve credit for every run up front), then rerun the same command: it resumes.',
        });
      case 404:
        return new ApiError('not_found', what, 404, EXIT.USAGE, {
          refId,
          detail,
          hint: 'Check the id. `tg create` makes a group; `tg submit` prints the group id it used.',
        });
      case 422:
        return new ApiError('validation', what, 422, EXIT.USAGE, { refId, detail, hint: 'The API rejected the request as invalid; see the message.' });
      case 429:
        return new ApiError('rate_limited', what, 429, EXIT.API, {
          refId,
          detail,
          retryAfterMs,
          hint: 'Too many requests: lower --rate, or rerun later; the same command resumes.',
        });
      default:
        return new ApiError(status >= 500 ? 'server_error' : 'http_error', what, status, EXIT.API, {
          refId,
          detail,
          retryAfterMs,
          hint: 'Rerun the same command later: it resumes.',
        });
    }
  }

  static retryableStatus(status: number): boolean {
    return status === 408 || status === 409 || status === 429 || status >= 500;
  }

  /** A request that is safe to repeat: retried on connection errors, 408, 409, 429 and 5xx. */
  async requestJson<T>(
    method: string,
    path: string,
    opts: { body?: unknown; signal?: AbortSignal; retries?: number; headersTimeout?: number } = {},
  ): Promise<T> {
    const retries = opts.retries ?? this.maxRetries;
    const t0 = Date.now(); // retries stop when the outage give-up has passed
    for (let attempt = 0; ; attempt++) {
      let r: RawResponse;
      try {
        r = await this.once(method, path, opts.body, opts.signal, opts.headersTimeout);
      } catch (e) {
        if (e instanceof NetworkError && attempt < retries && Date.now() - t0 < this.giveUpMs) {
          const wait = retryDelay(attempt, undefined, this.random);
          this.onWait(wait, 'network error, retrying');
          await sleep(wait, opts.signal);
          continue;
        }
        throw e;
      }
      if (r.status >= 200 && r.status < 300) {
        try {
          return JSON.parse(r.text) as T;
        } catch {
          throw new ApiError('bad_response', `${method} ${path}: the server's answer is not JSON`, r.status, EXIT.API);
        }
      }
      if (r.status === 429) this.rateLimited++;
      const err = this.errorFor(method, path, r);
      if (retryable(err) && attempt < retries && Date.now() - t0 < this.giveUpMs) {
        const wait = retryDelay(attempt, err.retryAfterMs, this.random);
        if (err.retryAfterMs !== undefined && Date.now() - t0 + wait > this.giveUpMs) throw waitTooLong(`${method} ${path}`, wait, this.giveUpMs);
        this.onWait(wait, r.status === 429 ? 'rate limit (429)' : `API answered ${r.status}, retrying`);
        await sleep(wait, opts.signal);
        continue;
      }
      throw err;
    }
  }

  // ----- groups -----
  createGroup(metadata?: Metadata, signal?: AbortSignal): Promise<TaskGroup> {
    return this.requestJson<TaskGroup>('POST', this.groupsPath(), { body: metadata ? { metadata } : {}, signal });
  }

  getGroup(id: string, signal?: AbortSignal): Promise<TaskGroup> {
    return this.requestJson<TaskGroup>('GET', this.groupsPath(`/${encodeURIComponent(id)}`), { signal });
  }

  /**
   * Add runs. Never retried here: a definite refusal throws ApiError (429 carries retryAfterMs,
   * nothing was created); a request that may have been carried out throws UnknownOutcomeError;
   * a connection that never reached the server throws NetworkError with sent=false. `betas`: the
   * parallel-beta header's values.
   */
  async addRuns(
    id: string,
    inputs: TaskRunInput[] | string,
    defaultTaskSpec?: TaskSpec | null,
    signal?: AbortSignal,
    betas: string[] = [],
  ): Promise<TaskGroupRunResponse> {
    const path = this.groupsPath(`/${encodeURIComponent(id)}/runs`) + '?refresh_status=false';
    const body = typeof inputs === 'string' ? inputs : JSON.stringify(defaultTaskSpec ? { inputs, default_task_spec: defaultTaskSpec } : { inputs });
    let r: RawResponse;
    try {
      r = await this.once('POST', path, body, signal, undefined, betas.length ? { 'parallel-beta': betas.join(',') } : undefined);
    } catch (e) {
      if (e instanceof NetworkError && e.sent) throw new UnknownOutcomeError(`add-runs POST to ${id}: ${e.message}`, e);
      throw e;
    }
    if (r.status >= 200 && r.status < 300) {
      try {
        return JSON.parse(r.text) as TaskGroupRunResponse;
      } catch {
        throw new UnknownOutcomeError(`add-runs POST to ${id}: unreadable answer`);
      }
    }
    if (r.status === 429) this.rateLimited++;
    const err = this.errorFor('POST', path, r);
    // 5xx and 408: the server may have acted before failing (unless it says not to retry: then
    // the error stands, and the rerun reconciles the batch).
    if ((r.status >= 500 || r.status === 408) && err.shouldRetry !== false) throw new UnknownOutcomeError(err.message, err);
    throw err;
  }

  // ----- runs -----
  getRun(runId: string, signal?: AbortSignal): Promise<TaskRun> {
    return this.requestJson<TaskRun>('GET', `/v1/tasks/runs/${encodeURIComponent(runId)}`, { signal });
  }

  /**
   * The run's result. Waits server-side up to timeoutS. Resolves null when the run failed or was
   * cancelled (404 for a run known to exist), throws on other errors.
   */
  async getResult(runId: string, timeoutS = 30, signal?: AbortSignal): Promise<TaskRunResult | null> {
    const path = `/v1/tasks/runs/${encodeURIComponent(runId)}/result${buildQuery({ timeout: timeoutS })}`;
    try {
      return await this.requestJson<TaskRunResult>('GET', path, { signal, headersTimeout: (timeoutS + 30) * 1000 });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }

  // ----- SSE -----
  /**
   * One SSE connection. Yields parsed JSON payloads in order, in batches (those of one chunk
   * received: no promise per event). Returns normally when the server ends the stream cleanly;
   * throws NetworkError if the connection breaks (an event received only in part is dropped),
   * ApiError for a non-2xx answer.
   */
  async *sseOnce(path: string, query: Query, signal?: AbortSignal, idleMs?: number): AsyncGenerator<GroupEvent[]> {
    const full = path + buildQuery(query);
    const t0 = Date.now();
    // idleMs: a stream that sends no event (keep-alives only) for this long counts as broken.
    const idle = idleMs ? new IdleTimer(idleMs, signal) : null;
    let res;
    try {
      res = await this.pool.request({
        method: 'GET',
        path: this.basePath + full,
        headers: this.headers({ accept: 'text/event-stream' }),
        signal: idle?.signal ?? signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: 300_000,
      });
    } catch (e) {
      idle?.clear();
      if (signal?.aborted) throw signal.reason ?? e;
      this.logLine('GET', full, errCode(e) || 'error', t0);
      if (idle?.fired) throw silent(new NetworkError(`GET ${full}: no answer for ${Math.round(idleMs! / 1000)} s`, true), idleMs!);
      throw new NetworkError(`GET ${full}: ${redact(String((e as Error).message), this.apiKey)}`, true);
    }
    this.logLine('GET', full, res.statusCode, t0);
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = await res.body.text().catch(() => '');
      idle?.clear(); // else its timer keeps the process alive after the command is done
      if (res.statusCode === 429) this.rateLimited++;
      throw this.errorFor('GET', full, { status: res.statusCode, headers: res.headers as RawResponse['headers'], text });
    }
    let queue: GroupEvent[] = [];
    let bad: Error | undefined;
    const parser = createParser({
      onEvent: (ev) => {
        if (!ev.data) return; // keep-alive or empty event
        try {
          queue.push(JSON.parse(ev.data) as GroupEvent);
          idle?.reset();
        } catch {
          bad = new Error(`unparsable SSE data: ${ev.data.slice(0, 120)}`);
        }
      },
    });
    const text = utf8Chunks();
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        // In pieces: the stream hands over all it has buffered at once (often over 100 KB), and
        // a string that large is made in V8's large-object space at a high price (measured, the
        // events of a 100k-run group: 0.49 s to decode whole chunks, 0.02 s in pieces).
        for (let i = 0; i < chunk.length; i += SSE_PIECE) parser.feed(text(chunk.subarray(i, i + SSE_PIECE)));
        if (bad) throw new NetworkError(`GET ${full}: ${bad.message}`, true);
        if (queue.length) {
          const batch = queue;
          queue = [];
          yield batch;
        }
      }
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      if (e instanceof TgError) throw e;
      if (idle?.fired) throw silent(new NetworkError(`stream ${path}: no event for ${Math.round(idleMs! / 1000)} s (keep-alives only)`, true), idleMs!);
      throw new NetworkError(`stream ${path} broke: ${redact(String((e as Error).message), this.apiKey)}`, true);
    } finally {
      idle?.clear();
      if (!res.body.destroyed) res.body.destroy();
    }
    // Whatever is left in the parser is a half-received event: dropped.
  }

  /**
   * A resumable stream: reconnects with last_event_id after any break, with backoff, until the
   * server ends a connection cleanly. `giveUpMs` bounds a sustained outage (then it throws).
   */
  async *resumable(
    path: string,
    query: Query,
    opts: { lastEventId?: string | null; signal?: AbortSignal; giveUpMs?: number; idleMs?: number; onReconnect?: (err: unknown) => void } = {},
  ): AsyncGenerator<GroupEvent[]> {
    let last = opts.lastEventId ?? undefined;
    let failures = 0;
    let outageStart = 0;
    for (;;) {
      try {
        for await (const batch of this.sseOnce(path, { ...query, last_event_id: last }, opts.signal, opts.idleMs)) {
          failures = 0;
          outageStart = 0;
          for (const ev of batch) {
            const id = (ev as { event_id?: string | null }).event_id;
            if (typeof id === 'string' && id !== '') last = id;
          }
          yield batch; // consumed whole before the next is asked for: a reconnect resumes after it
        }
        return;
      } catch (e) {
        if (opts.signal?.aborted) throw e;
        if (!(e instanceof NetworkError || (e instanceof ApiError && retryable(e)))) throw e;
        // A stream that went silent has been out since its last event, not since tg noticed.
        if (!outageStart) outageStart = Date.now() - (e instanceof NetworkError ? e.silentMs : 0);
        const giveUp = opts.giveUpMs ?? this.giveUpMs;
        if (Date.now() - outageStart >= giveUp) throw e;
        const asked = e instanceof ApiError ? e.retryAfterMs : undefined;
        const wait = retryDelay(failures++, asked, this.random, { baseMs: 250, capMs: 15_000 });
        if (asked !== undefined && Date.now() - outageStart + wait > giveUp) throw waitTooLong(`GET ${path}`, wait, giveUp);
        opts.onReconnect?.(e);
        this.onWait(wait, 'stream interrupted, reconnecting');
        await sleep(wait, opts.signal);
      }
    }
  }

  /** Snapshot of the group's runs (in creation order), resumed after breaks. */
  streamRuns(groupId: string, opts: Parameters<ApiClient['streamRunBatches']>[1] = {}): AsyncGenerator<TaskRunEvent> {
    return flat(this.streamRunBatches(groupId, opts));
  }

  /** streamRuns in batches (those of one chunk received). */
  streamRunBatches(
    groupId: string,
    opts: {
      lastEventId?: string | null;
      includeInput?: boolean;
      includeOutput?: boolean;
      status?: string;
      signal?: AbortSignal;
      giveUpMs?: number;
      idleMs?: number;
    } = {},
  ): AsyncGenerator<TaskRunEvent[]> {
    return this.resumable(
      this.groupsPath(`/${encodeURIComponent(groupId)}/runs`),
      { include_input: opts.includeInput || undefined, include_output: opts.includeOutput || undefined, status: opts.status },
      opts,
    ) as AsyncGenerator<TaskRunEvent[]>;
  }

  /** The group's events; one pass until the server closes cleanly (reconnecting through breaks). */
  streamEvents(
    groupId: string,
    opts: { lastEventId?: string | null; timeoutS?: number; signal?: AbortSignal; giveUpMs?: number; onReconnect?: (e: unknown) => void } = {},
  ): AsyncGenerator<GroupEvent> {
    return flat(this.resumable(this.groupsPath(`/${encodeURIComponent(groupId)}/events`), { timeout: opts.timeoutS }, opts));
  }
}

/**
 * One exchange, its body read in full, through the pool's dispatch API: undici's request() makes
 * a Readable stream of every response, which cost about 40 % more CPU a request (measured: 20k
 * result GETs, 1.4 s against 2.0 s). Rejects with undici's error, or the signal's reason.
 */
function exchange(pool: Pool, opts: Dispatcher.DispatchOptions, signal?: AbortSignal): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    pool.dispatch(opts, new BodyReader(resolve, reject, signal));
  });
}

/** The handler of `exchange`: status, headers and body chunks, then the text; the signal aborts it. */
class BodyReader implements Dispatcher.DispatchHandler {
  private status = 0;
  private headers: RawResponse['headers'] = {};
  private chunks: Buffer[] = [];
  private controller: Dispatcher.DispatchController | null = null;
  private readonly onAbort = () => this.controller?.abort(this.signal!.reason);

  constructor(
    private readonly resolve: (r: RawResponse) => void,
    private readonly reject: (e: unknown) => void,
    private readonly signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController) {
    this.controller = controller;
    this.chunks = []; // (a retried request starts again)
    if (this.signal?.aborted) controller.abort(this.signal.reason);
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: RawResponse['headers']) {
    this.status = status; // a 1xx comes before the final answer, without a body
    this.headers = headers;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer) {
    this.chunks.push(chunk);
  }

  onResponseEnd() {
    this.signal?.removeEventListener('abort', this.onAbort);
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const text = body.toString('utf8');
    // as undici's text(): a byte order mark is not part of the text
    this.resolve({ status: this.status, headers: this.headers, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text });
  }

  onResponseError(_c: Dispatcher.DispatchController, e: Error) {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.reject(e);
  }
}

/** An abort signal that fires when `reset` is not called for `ms` (and with the outer signal). */
class IdleTimer {
  private readonly ac = new AbortController();
  private timer: NodeJS.Timeout;
  fired = false;
  readonly signal: AbortSignal;
  constructor(
    private readonly ms: number,
    outer?: AbortSignal,
  ) {
    this.signal = outer ? AbortSignal.any([outer, this.ac.signal]) : this.ac.signal;
    this.timer = this.arm();
  }
  private arm() {
    // unref: the pending request keeps the process alive; this timer alone never should.
    return setTimeout(() => {
      this.fired = true;
      this.ac.abort(new Error('idle'));
    }, this.ms).unref();
  }
  reset() {
    this.timer.refresh();
  }
  clear() {
    clearTimeout(this.timer);
  }
}
