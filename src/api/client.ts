// The API client of tg: the endpoints of the Task Group and Task Run API over one transport
// (transport.ts), with retries for what is safe to repeat (retry.ts), typed errors
// (httpErrors.ts) and resumable event streams (sse.ts). Option checks that are the user's
// (a base URL, a key) are made before a client exists (src/config.ts).
import { ApiError, NetworkError, UnknownOutcomeError } from '../errors';
import { flat } from '../core/util';
import { systemClock, systemRandom, type Clock, type Random } from '../core/clock';
import type { GroupEvent, Metadata, TaskGroup, TaskGroupRunResponse, TaskRun, TaskRunEvent, TaskRunInput, TaskRunResult, TaskSpec } from '../core/wire';
import type { SuggestedTask } from '../core/suggest';
import { Transport, type RawResponse } from './transport';
import { errorFor } from './httpErrors';
import { withRetries } from './retry';
import { buildQuery, resumable, resumeWith, sseDataOnce, type ResumableOptions, type StreamEnv } from './sse';
import { badEvent, inlineParser, parsedLines, workerParser } from './lineParser';
import { lastEventId, type LineBatch } from './runLines';

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  apiVersion?: 'v1' | 'v1beta';
  /** Request log sink (--verbose). Lines never contain the key. */
  log?: (line: string) => void;
  /** Retries for safe requests (GET, group create). */
  maxRetries?: number;
  connections?: number;
  /** The proxy's URL (config.ts proxyFor: HTTPS_PROXY …), or null/absent: straight to the API. */
  proxy?: string | null;
  userAgent?: string;
  /** How long a sustained outage may last before a request gives up (TG_OUTAGE_GIVE_UP_S); also caps each request's timeouts. */
  giveUpMs?: number;
  /** Told before each wait between attempts (ms, why): the progress display counts it down. */
  onWait?: (ms: number, reason: string) => void;
  clock?: Clock;
  random?: Random;
}

/** Longest a request waits for response headers, or between body chunks (capped by the give-up). */
const REQUEST_TIMEOUT_MS = 60_000;

/** The body of POST /v1beta/tasks/suggest (plain JSON schemas in previous_task). */
export interface SuggestRequest {
  user_intent: string;
  previous_task?: { input_schema?: unknown; output_schema?: unknown; inputs?: unknown[] };
}

export interface SuggestProcessorRequest {
  task_spec: { input_schema?: unknown; output_schema: unknown };
  choose_processors_from?: string[];
}

export interface RunStreamOptions extends ResumableOptions {
  includeInput?: boolean;
  includeOutput?: boolean;
  status?: string;
}

const runQuery = (o: RunStreamOptions) => ({ include_input: o.includeInput || undefined, include_output: o.includeOutput || undefined, status: o.status });

export class ApiClient {
  readonly baseUrl: URL;
  readonly apiVersion: 'v1' | 'v1beta';
  readonly giveUpMs: number;
  /** The options without functions: what a client in a worker thread needs to make the same requests. */
  readonly wireOptions: ClientOptions;
  private readonly t: Transport;
  private readonly maxRetries: number;
  private readonly env: StreamEnv;

  constructor(opts: ClientOptions) {
    const { log: _l, onWait: _w, clock: _c, random: _r, ...wire } = opts;
    this.wireOptions = wire;
    this.baseUrl = new URL(opts.baseUrl);
    this.apiVersion = opts.apiVersion ?? 'v1';
    this.maxRetries = opts.maxRetries ?? 6;
    this.giveUpMs = opts.giveUpMs ?? 600_000;
    const clock = opts.clock ?? systemClock;
    this.env = { clock, random: opts.random ?? systemRandom, giveUpMs: this.giveUpMs, onWait: opts.onWait ?? (() => undefined) };
    this.t = new Transport({
      baseUrl: this.baseUrl,
      apiKey: opts.apiKey,
      userAgent: opts.userAgent ?? 'tg',
      timeoutMs: Math.min(REQUEST_TIMEOUT_MS, this.giveUpMs),
      connections: opts.connections ?? 32,
      proxy: opts.proxy,
      clock,
      log: opts.log,
    });
  }

  /** Count of 429 answers received (for benchmarks, progress and the summary). */
  get rateLimited(): number {
    return this.t.rateLimited;
  }

  /** A request-log line of a client in a worker thread (already redacted there). */
  relayLog(line: string): void {
    this.t.opts.log?.(line);
  }

  destroy(): void {
    this.t.destroy();
  }

  groupsPath(suffix = ''): string {
    return `/${this.apiVersion}/tasks/groups${suffix}`;
  }

  private errorFor(method: string, path: string, r: RawResponse): ApiError {
    return errorFor(method, path, r, this.env.clock.now(), (s) => this.t.redact(s));
  }

  /** One attempt at a JSON request: the parsed body of a 2xx, else the typed error. */
  private async json<T>(method: string, path: string, body: unknown, signal?: AbortSignal, headersTimeout?: number): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const r = await this.t.exchange(method, path, { body: payload, signal, headersTimeout });
    if (r.status < 200 || r.status >= 300) throw this.errorFor(method, path, r);
    try {
      return JSON.parse(r.text) as T;
    } catch {
      throw new ApiError('bad_response', `${method} ${path}: the server's answer is not JSON`, { status: r.status });
    }
  }

  /** A request that is safe to repeat: retried on connection errors, 408, 409, 429 and 5xx, by the give-up rule. */
  requestJson<T>(method: string, path: string, opts: { body?: unknown; signal?: AbortSignal; retries?: number; headersTimeout?: number } = {}): Promise<T> {
    return withRetries(() => this.json<T>(method, path, opts.body, opts.signal, opts.headersTimeout), {
      ...this.env,
      retries: opts.retries ?? this.maxRetries,
      signal: opts.signal,
      what: `${method} ${path}`,
    });
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
      r = await this.t.exchange('POST', path, { body, signal, headers: betas.length ? { 'parallel-beta': betas.join(',') } : undefined });
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

  // ----- the Ingest API: suggestions for --intent (they create nothing: retried like a GET) -----
  /** POST /v1beta/tasks/suggest: output fields (and an input schema, a title, warnings) for an intent. */
  suggestTask(body: SuggestRequest, signal?: AbortSignal): Promise<SuggestedTask> {
    return this.requestJson<SuggestedTask>('POST', '/v1beta/tasks/suggest', { body, signal });
  }

  /** POST /v1beta/tasks/suggest-processor: processors for a task spec, the recommended one first. */
  suggestProcessors(body: SuggestProcessorRequest, signal?: AbortSignal): Promise<{ recommended_processors: string[] }> {
    return this.requestJson<{ recommended_processors: string[] }>('POST', '/v1beta/tasks/suggest-processor', { body, signal });
  }

  // ----- streams -----
  /** Snapshot of the group's runs (in creation order), resumed after breaks. */
  streamRuns(groupId: string, opts: RunStreamOptions = {}): AsyncGenerator<TaskRunEvent> {
    return flat(this.streamRunBatches(groupId, opts));
  }

  /** streamRuns in batches (those of one chunk received). */
  streamRunBatches(groupId: string, opts: RunStreamOptions = {}): AsyncGenerator<TaskRunEvent[]> {
    return resumable(this.t, this.env, this.groupsPath(`/${encodeURIComponent(groupId)}/runs`), runQuery(opts), opts) as AsyncGenerator<TaskRunEvent[]>;
  }

  /**
   * The group's runs as the event texts the server sent, each with its type, event_id, run_id,
   * status (runLines.ts), in batches, resumed after breaks: what a results file copies. `worker`:
   * parse them in a worker thread (a large listing; parsed here when the worker is not at hand).
   */
  async *streamRunLines(groupId: string, opts: RunStreamOptions & { worker?: boolean } = {}): AsyncGenerator<LineBatch> {
    const path = this.groupsPath(`/${encodeURIComponent(groupId)}/runs`);
    const query = runQuery(opts);
    const parser = (opts.worker && workerParser()) || inlineParser();
    const connect = (last: string | undefined) =>
      parsedLines(sseDataOnce(this.t, path, { ...query, last_event_id: last }, opts.signal, opts.idleMs), parser, badEvent(`GET ${path}`));
    try {
      yield* resumeWith(this.env, path, opts, connect, lastEventId);
      if (!parser.here) this.t.opts.log?.(`GET ${path}: its events parsed in a worker thread`);
    } finally {
      parser.close();
    }
  }

  /** The group's events; one pass until the server closes cleanly (reconnecting through breaks). */
  streamEvents(groupId: string, opts: ResumableOptions & { timeoutS?: number } = {}): AsyncGenerator<GroupEvent> {
    return flat(resumable(this.t, this.env, this.groupsPath(`/${encodeURIComponent(groupId)}/events`), { timeout: opts.timeoutS }, opts));
  }
}
