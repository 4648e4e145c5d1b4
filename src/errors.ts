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
} as const;

export class TgError extends Error {
  readonly code: string;
  readonly exitCode: number;
  hint?: string;
  readonly detail?: unknown;
  constructor(code: string, message: string, exitCode: number, hint?: string, detail?: unknown) {
    super(message);
    this.name = 'TgError';
    this.code = code;
    this.exitCode = exitCode;
    this.hint = hint;
    this.detail = detail;
  }
}

export const usageError = (message: string, hint?: string) =>
  new TgError('usage', message, EXIT.USAGE, hint);

export const inputError = (message: string, hint?: string, detail?: unknown) =>
  new TgError('invalid_input', message, EXIT.USAGE, hint, detail);

/** An HTTP answer from the API that retries did not overcome (or that must not be retried). */
export class ApiError extends TgError {
  readonly status: number;
  readonly refId?: string;
  readonly retryAfterMs?: number;
  constructor(
    code: string,
    message: string,
    status: number,
    exitCode: number,
    opts: { hint?: string; refId?: string; retryAfterMs?: number; detail?: unknown } = {},
  ) {
    super(code, message, exitCode, opts.hint, opts.detail);
    this.name = 'ApiError';
    this.status = status;
    this.refId = opts.refId;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** A connection-level failure (refused, reset, timed out). `sent` tells whether the request may have reached the server. */
export class NetworkError extends TgError {
  readonly sent: boolean;
  constructor(message: string, sent: boolean, hint?: string) {
    super('network', message, EXIT.API, hint ?? 'Check your network and --base-url, then rerun the same command: it resumes.');
    this.name = 'NetworkError';
    this.sent = sent;
  }
}

/** A POST that creates runs whose outcome is unknown: it may or may not have been carried out. */
export class UnknownOutcomeError extends TgError {
  readonly cause?: unknown;
  constructor(message: string, cause?: unknown) {
    super('unknown_outcome', message, EXIT.API, 'Rerun the same command: tg reconciles the batch against the group before re-sending.');
    this.name = 'UnknownOutcomeError';
    this.cause = cause;
  }
}

export class InterruptedError extends TgError {
  constructor(hint?: string) {
    super('interrupted', 'interrupted', EXIT.INTERRUPTED, hint ?? 'Rerun the same command to resume.');
    this.name = 'InterruptedError';
  }
}

export const isTgError = (e: unknown): e is TgError => e instanceof TgError;
