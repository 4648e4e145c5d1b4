// Typed errors: each has a stable `code`, the exit status of the contract, and a hint that says
// what to do next. The single exit point (src/cli.ts `run`) maps them to messages and codes.

export const EXIT = {
  OK: 0,
  RUNS_FAILED: 1,
  USAGE: 2,
  AUTH: 3,
  API: 4,
  PENDING: 5,
  INTERRUPTED: 130,
  CLOSED_PIPE: 141,
} as const;

/** Every `code` a TgError carries (the `error.code` of `--json` errors): a stable, closed set. */
export type ErrorCode =
  // tg itself
  | 'usage'
  | 'invalid_input'
  | 'no_api_key'
  | 'timeout'
  | 'interrupted'
  | 'internal'
  | 'locked'
  | 'input_changed'
  | 'conflict'
  | 'pending'
  | 'join_mismatch'
  | 'join_no_match'
  | 'local_io'
  | 'closed_pipe'
  | 'retry_later'
  // the API or the network
  | 'network'
  | 'unknown_outcome'
  | 'bad_response'
  | 'missing_result'
  | 'unauthorized'
  | 'forbidden'
  | 'invalid_processor'
  | 'payment_required'
  | 'not_found'
  | 'validation'
  | 'rate_limited'
  | 'server_error'
  | 'http_error';

export class TgError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** What to do next. Add to it with withHint()/withResumeHint(), which keep the error as it is. */
  hint?: string;
  readonly detail?: unknown;
  constructor(code: ErrorCode, message: string, exitCode: number, hint?: string, detail?: unknown, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TgError';
    this.code = code;
    this.exitCode = exitCode;
    this.hint = hint;
    this.detail = detail;
  }
}

/**
 * Add `text` to the error's hint and return the same error: its class, code, exit code, detail
 * and cause are kept (re-wrapping in a new TgError would lose them). `replace` drops the old hint.
 */
export function withHint<E extends TgError>(e: E, text: string, mode: 'append' | 'replace' = 'append'): E {
  e.hint = mode === 'append' && e.hint ? `${e.hint} ${text}` : text;
  return e;
}

/** withHint() for "how to resume": added only when the hint does not already say how to resume. */
export function withResumeHint<E extends TgError>(e: E, text: string): E {
  return e.hint && /resume/i.test(e.hint) ? e : withHint(e, text);
}

export const usageError = (message: string, hint?: string) => new TgError('usage', message, EXIT.USAGE, hint);

export const inputError = (message: string, hint?: string, detail?: unknown) => new TgError('invalid_input', message, EXIT.USAGE, hint, detail);

/** An HTTP answer from the API that retries did not overcome (or that must not be retried). */
export class ApiError extends TgError {
  readonly status: number;
  readonly refId?: string;
  readonly retryAfterMs?: number;
  /** The server's `x-should-retry` header: true or false when it said, else undefined. */
  readonly shouldRetry?: boolean;
  constructor(
    code: ErrorCode,
    message: string,
    status: number,
    exitCode: number,
    opts: { hint?: string; refId?: string; retryAfterMs?: number; detail?: unknown; shouldRetry?: boolean } = {},
  ) {
    super(code, message, exitCode, opts.hint, opts.detail);
    this.name = 'ApiError';
    this.status = status;
    this.refId = opts.refId;
    this.retryAfterMs = opts.retryAfterMs;
    this.shouldRetry = opts.shouldRetry;
  }
}

/** A connection-level failure (refused, reset, timed out). `sent` tells whether the request may have reached the server. */
export class NetworkError extends TgError {
  readonly sent: boolean;
  /** For a stream that went silent: how long it had been silent when tg gave up on it (the outage began then). */
  silentMs = 0;
  constructor(message: string, sent: boolean, hint?: string) {
    super('network', message, EXIT.API, hint ?? 'Check your network and --base-url, then rerun the same command: it resumes.');
    this.name = 'NetworkError';
    this.sent = sent;
  }
}

/** A POST that creates runs whose outcome is unknown: it may or may not have been carried out. */
export class UnknownOutcomeError extends TgError {
  constructor(message: string, cause?: unknown) {
    super('unknown_outcome', message, EXIT.API, 'Rerun the same command: tg reconciles the batch against the group before re-sending.', undefined, cause);
    this.name = 'UnknownOutcomeError';
  }
}

export class InterruptedError extends TgError {
  constructor(hint?: string) {
    super('interrupted', 'interrupted', EXIT.INTERRUPTED, hint ?? 'Rerun the same command to resume.');
    this.name = 'InterruptedError';
  }
}

export const isTgError = (e: unknown): e is TgError => e instanceof TgError;
