// The transport: one undici keep-alive Pool (through a proxy, when config.ts found one), x-api-key
// auth, the request log, and one exchange (a request, its body read in full) turned into a
// RawResponse or a NetworkError. No retries here (retry.ts), no status-to-error mapping
// (httpErrors.ts).
import { Pool, ProxyAgent, type Dispatcher } from 'undici';
import { NetworkError, TgError } from '../errors';
import { redact, redactUrl } from '../core/util';
import type { Clock } from '../core/clock';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface TransportOptions {
  baseUrl: URL;
  apiKey: string;
  userAgent: string;
  /** Longest wait for response headers, or between body chunks. */
  timeoutMs: number;
  connections: number;
  /** The proxy's URL (HTTPS_PROXY …, as config.ts chose it), or null/absent: straight to the API. */
  proxy?: string | null;
  clock: Clock;
  /** Request log sink (--verbose). Lines never contain the key. */
  log?: (line: string) => void;
}

export interface ExchangeOptions {
  body?: string;
  signal?: AbortSignal;
  headersTimeout?: number;
  headers?: Record<string, string>;
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The code of a connection error (undici's, or the system's under it). */
export function errCode(e: unknown): string {
  const any = e as { code?: string; cause?: { code?: string } };
  return any?.code ?? any?.cause?.code ?? '';
}

export class Transport {
  /** Where every request goes: the keep-alive Pool, or a ProxyAgent holding one Pool of connections through the proxy. */
  readonly dispatcher: Dispatcher;
  /** The API's origin (every request names it: a ProxyAgent serves any origin). */
  readonly origin: string;
  /** 429 answers received (for the summary, the progress line and benchmarks). */
  rateLimited = 0;
  readonly basePath: string;
  constructor(readonly opts: TransportOptions) {
    this.basePath = opts.baseUrl.pathname.replace(/\/+$/, '');
    this.origin = opts.baseUrl.origin;
    this.dispatcher = opts.proxy ? proxied(opts, opts.proxy) : new Pool(this.origin, poolOptions(opts));
  }

  /** The options of a request to `path` (below the base URL) on the dispatcher. */
  request<O extends Omit<Dispatcher.DispatchOptions, 'origin' | 'path'>>(path: string, o: O): O & { origin: string; path: string } {
    return { ...o, origin: this.origin, path: this.basePath + path };
  }

  headers(extra?: Record<string, string>): Record<string, string> {
    return { 'x-api-key': this.opts.apiKey, accept: 'application/json', 'user-agent': this.opts.userAgent, ...extra };
  }

  /** Text that may be printed: the key never is. */
  redact(text: string): string {
    return redact(text, this.opts.apiKey);
  }

  logLine(method: string, path: string, status: number | string, t0: number): void {
    this.opts.log?.(this.redact(`${method} ${path} ${status} ${this.opts.clock.now() - t0}ms`));
  }

  /** One HTTP exchange, body read in full. Throws NetworkError on connection failures. */
  async exchange(method: string, path: string, o: ExchangeOptions = {}): Promise<RawResponse> {
    const t0 = this.opts.clock.now();
    const headers = this.headers(o.body !== undefined ? { 'content-type': 'application/json', ...o.headers } : o.headers);
    const headersTimeout = o.headersTimeout ?? this.opts.timeoutMs;
    try {
      const r = await exchange(
        this.dispatcher,
        this.request(path, { method: method as 'GET', headers, body: o.body, headersTimeout, bodyTimeout: this.opts.timeoutMs }),
        o.signal,
      );
      this.logLine(method, path, r.status, t0);
      if (r.status === 429) this.rateLimited++;
      return r;
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason ?? e;
      const code = errCode(e);
      this.logLine(method, path, code || 'error', t0);
      const refused = this.proxyRefusal(`${method} ${path}`, e);
      if (refused) throw refused;
      const waited = code === 'UND_ERR_BODY_TIMEOUT' ? this.opts.timeoutMs : headersTimeout;
      throw new NetworkError(`${method} ${path}: ${this.netText(e, code, waited)}`, !NOT_SENT_CODES.has(code), { cause: e });
    }
  }

  /**
   * The proxy's refusal to carry a request (407: it wants a user and password; 403: not to that
   * host), or null for any other failure. Not retried: the request never left the proxy, and
   * asking again gets the same answer.
   */
  proxyRefusal(what: string, e: unknown): TgError | null {
    if (!this.opts.proxy) return null;
    const m = /Proxy response \((\d+)\) !== 200|Proxy Authentication Required \((407)\)/.exec(String((e as Error)?.message));
    if (!m) return null;
    const status = Number(m[1] ?? m[2]);
    const proxy = redactUrl(this.opts.proxy);
    const auth = status === 407;
    return new TgError(
      'proxy_refused',
      `${what}: the proxy ${proxy} refused to carry it to ${this.opts.baseUrl.host} (${status}${auth ? ' Proxy Authentication Required' : ''})`,
      {
        hint: auth
          ? "Put the proxy's user and password in its URL (HTTPS_PROXY=http://user:password@host:port), then rerun the same command."
          : `Check the proxy (HTTPS_PROXY or HTTP_PROXY; NO_PROXY=${this.opts.baseUrl.hostname} goes around it), then rerun the same command.`,
        cause: e,
      },
    );
  }

  /** A network failure in words: the server's silence is said as such, with how long tg waited. */
  netText(e: unknown, code: string, waitedMs: number): string {
    const s = Math.round(waitedMs / 1000);
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return `the server accepted the connection but sent no answer in ${s} s (${code})`;
    if (code === 'UND_ERR_BODY_TIMEOUT') return `the server stopped sending its answer for ${s} s (${code})`;
    const via = this.opts.proxy ? ` (via the proxy ${redactUrl(this.opts.proxy)})` : '';
    return `${this.redact(String((e as Error)?.message ?? e))}${code ? ` (${code})` : ''}${via}`;
  }

  destroy(): void {
    this.dispatcher.destroy().catch(() => undefined);
  }
}

/** The keep-alive pool's options, direct or through a proxy. */
function poolOptions(opts: TransportOptions): Pool.Options {
  return { connections: opts.connections, keepAliveTimeout: 30_000, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs };
}

/**
 * Requests through a proxy, still one keep-alive Pool: to an https API each of its connections is
 * a CONNECT tunnel (TLS to the API inside it); to an http API the requests go to the proxy as
 * absolute URLs (as curl does), on a Pool of connections to the proxy. Credentials in the proxy's
 * URL become its Proxy-Authorization header.
 */
function proxied(opts: TransportOptions, proxy: string): Dispatcher {
  const pool = poolOptions(opts);
  return new ProxyAgent({
    uri: proxy,
    ...pool,
    proxyTunnel: opts.baseUrl.protocol === 'https:',
    factory: (origin: string | URL, o: object) => new Pool(origin, { ...pool, ...o }),
  });
}

/**
 * One exchange, its body read in full, through the pool's dispatch API: undici's request() makes
 * a Readable stream of every response, which cost about 40 % more CPU a request (measured: 20k
 * result GETs, 1.4 s against 2.0 s). Rejects with undici's error, or the signal's reason.
 */
function exchange(dispatcher: Dispatcher, opts: Dispatcher.DispatchOptions, signal?: AbortSignal): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    dispatcher.dispatch(opts, new BodyReader(resolve, reject, signal));
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
