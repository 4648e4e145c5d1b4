// Typed errors: each has a stable `code`, and the code alone decides the exit status (the table
// EXIT_OF below, the one place that does). Every error class of tg lives here. The single exit
// point (src/cli.ts `run`) maps them to messages, hints and exit codes.

/** The exit statuses of the contract (README "Exit codes", `tg --help`). */
export const EXIT = {
  OK: 0,
  RUNS_FAILED: 1,
  USAGE: 2,
  AUTH: 3,
  API: 4,
  PENDING: 5,
  BUSY: 75,
  INTERRUPTED: 130,
  CLOSED_PIPE: 141,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/** What each exit status means, as README's and `--help`'s tables say it (a test keeps them equal). */
export const EXIT_MEANING: Readonly<Record<ExitStatus, string>> = {
  0: 'done: everything asked for is there',
  1: 'done, but some rows ended failed or cancelled',
  2: 'usage error or invalid input: nothing was sent',
  3: "the API refused the key (401/403) or the account's credit (402)",
  4: 'API, network or local file error that retries did not overcome: the same command resumes',
  5: 'not finished yet (--timeout, or runs still running): the same command resumes',
  75: 'busy: another tg holds the lock (the same input, group or -o file): try again later',
  130: 'interrupted (SIGINT/SIGTERM): state flushed, the same command resumes',
  141: 'stdout closed by its reader (`tg fetch G | head`): quiet exit, state flushed',
};

/** Every `code` a TgError carries (the `error.code` of `--json` errors), with its exit status. */
export const EXIT_OF = {
  // tg itself: nothing was sent
  usage: EXIT.USAGE,
  invalid_input: EXIT.USAGE,
  no_api_key: EXIT.USAGE,
  conflict: EXIT.USAGE,
  over_budget: EXIT.USAGE,
  not_confirmed: EXIT.USAGE,
  input_changed: EXIT.USAGE,
  join_mismatch: EXIT.USAGE,
  join_no_match: EXIT.USAGE,
  local_io_unsent: EXIT.USAGE,
  // tg itself: after work began
  input_changed_midway: EXIT.API,
  local_io: EXIT.API,
  internal: EXIT.API,
  refused_midway: EXIT.API,
  // waiting
  timeout: EXIT.PENDING,
  pending: EXIT.PENDING,
  locked: EXIT.BUSY,
  interrupted: EXIT.INTERRUPTED,
  closed_pipe: EXIT.CLOSED_PIPE,
  // the API or the network
  unauthorized: EXIT.AUTH,
  forbidden: EXIT.AUTH,
  payment_required: EXIT.AUTH,
  invalid_processor: EXIT.USAGE,
  not_found: EXIT.USAGE,
  validation: EXIT.USAGE,
  retry_later: EXIT.API,
  network: EXIT.API,
  proxy_refused: EXIT.API,
  unknown_outcome: EXIT.API,
  bad_response: EXIT.API,
  missing_result: EXIT.API,
  rate_limited: EXIT.API,
  server_error: EXIT.API,
  http_error: EXIT.API,
} as const satisfies Record<string, ExitStatus>;

/** A stable, closed set: the `error.code` of `--json` errors. */
export type ErrorCode = keyof typeof EXIT_OF;

export interface ErrorOptions {
  /** What to do next: one instruction. Add to it with withHint()/withResumeHint(). */
  hint?: string;
  detail?: unknown;
  cause?: unknown;
}

export class TgError extends Error {
  readonly code: ErrorCode;
  hint?: string;
  readonly detail?: unknown;
  constructor(code: ErrorCode, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TgError';
    this.code = code;
    this.hint = opts.hint;
    this.detail = opts.detail;
  }
  /** The exit status: the code's, from EXIT_OF. */
  get exitCode(): ExitStatus {
    return EXIT_OF[this.code];
  }
}

/**
 * Add `text` to the error's hint and return the same error: its class, code, detail and cause are
 * kept (re-wrapping in a new TgError would lose them). A hint is one instruction: `append` makes
 * the two one ("Check the network, then rerun."); `replace` drops the old hint.
 */
export function withHint<E extends TgError>(e: E, text: string, mode: 'append' | 'replace' = 'append'): E {
  e.hint = mode === 'append' && e.hint ? `${e.hint.replace(/[.;:,]\s*$/, '')}, then ${text.charAt(0).toLowerCase()}${text.slice(1)}` : text;
  return e;
}

/**
 * withHint() for "how to resume": a hint says one thing, so an error whose hint already says to
 * rerun (or how to resume) keeps it; any other hint is replaced only when it is empty.
 */
export function withResumeHint<E extends TgError>(e: E, text: string): E {
  if (e.hint && /resume|rerun|run the same command/i.test(e.hint)) return e;
  return withHint(e, text, e.hint ? 'append' : 'replace');
}

export const usageError = (message: string, hint?: string) => new TgError('usage', message, { hint });

export const inputError = (message: string, hint?: string, detail?: unknown) => new TgError('invalid_input', message, { hint, detail });

export interface ApiErrorOptions extends ErrorOptions {
  status: number;
  refId?: string;
  retryAfterMs?: number;
  /** The server's `x-should-retry` header: true or false when it said, else undefined. */
  shouldRetry?: boolean;
}

/** An HTTP answer from the API that retries did not overcome (or that must not be retried). */
export class ApiError extends TgError {
  readonly status: number;
  readonly refId?: string;
  readonly retryAfterMs?: number;
  readonly shouldRetry?: boolean;
  constructor(code: ErrorCode, message: string, opts: ApiErrorOptions) {
    super(code, message, opts);
    this.name = 'ApiError';
    this.status = opts.status;
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
  constructor(message: string, sent: boolean, opts: ErrorOptions = {}) {
    super('network', message, { hint: 'Check your network and --base-url, then rerun the same command: it resumes.', ...opts });
    this.name = 'NetworkError';
    this.sent = sent;
  }
}

/** A POST that creates runs whose outcome is unknown: it may or may not have been carried out. */
export class UnknownOutcomeError extends TgError {
  constructor(message: string, cause?: unknown) {
    super('unknown_outcome', message, { hint: 'Rerun the same command: tg reconciles the batch against the group before re-sending.', cause });
    this.name = 'UnknownOutcomeError';
  }
}

export class InterruptedError extends TgError {
  constructor(hint?: string) {
    super('interrupted', 'interrupted', { hint: hint ?? 'Rerun the same command to resume.' });
    this.name = 'InterruptedError';
  }
}

/** stdout was closed by its reader (`tg fetch G | head -1`): end quietly with status 141. */
export class ClosedPipeError extends TgError {
  constructor() {
    super('closed_pipe', 'stdout was closed by the reader');
    this.name = 'ClosedPipeError';
  }
}

export const isTgError = (e: unknown): e is TgError => e instanceof TgError;

/**
 * An error as tg reports it on stderr: the lines for people ("tg: …", "tg: hint: …") and the
 * object that --json prints instead ({"error": {code, message, hint}}). The exit point (cli.ts)
 * and the process's own last words (main.ts: a second signal, a command that never finished) both
 * report through it.
 */
export function errorReport(e: { code: string; message: string; hint?: string }): { lines: string[]; json: { error: Record<string, string> } } {
  return {
    lines: [`tg: ${e.message}`, ...(e.hint ? [`tg: hint: ${e.hint}`] : [])],
    json: { error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } },
  };
}

/** The causes of local file failures, in words (the errno code follows in parentheses). */
const FS_CAUSES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file size limit (ulimit -f)',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EXDEV: 'not on the same file system',
};

/** What to do about each cause: one instruction. `temp`: the file is one of tg's temporary files (in TMPDIR). */
function fsHint(code: string, resumes: boolean, temp: boolean): string {
  const again = resumes ? 'then run the same command again: it resumes.' : 'then run the same command again.';
  // Once work began, the journal and -o file are where the rerun resumes from: they stay put.
  const elsewhere = temp ? ' (or set TMPDIR to another directory)' : resumes ? '' : ' (or point TG_STATE_DIR or -o elsewhere)';
  if (code === 'ENOSPC' || code === 'EDQUOT') return `Free space on that disk${elsewhere}, ${again}`;
  if (code === 'EFBIG') return `Raise the file size limit (ulimit -f), ${again}`;
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return `Make that place writable${elsewhere}, ${again}`;
  if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'ENOENT' || code === 'ENAMETOOLONG' || code === 'ELOOP') return `Fix the path${elsewhere}, ${again}`;
  return `Fix the cause, ${again}`;
}

/** A failure of the file system (a Node errno error), as opposed to one of tg's own. */
export function isFsError(e: unknown): e is NodeJS.ErrnoException {
  const x = e as NodeJS.ErrnoException | null;
  return !isTgError(e) && typeof x?.code === 'string' && x.code in FS_CAUSES && (typeof x.syscall === 'string' || typeof x.path === 'string');
}

/**
 * Name the file a failure of `e` concerns (errors of writes on a descriptor carry no path) and
 * return it: the one mapping of file failures to messages is fsError, at the exit point.
 * `replace`: the error names a file tg made for its own use (an exclusive temporary file beside
 * `file`): the failure is `file`'s.
 */
export function atPath<E>(e: E, file: string, replace = false): E {
  const x = e as NodeJS.ErrnoException | null;
  if (x && typeof x === 'object' && typeof x.code === 'string' && (replace || !x.path)) x.path = file;
  return e;
}

const BEFORE_WORK = Symbol('tg.beforeWork');
const TEMP_FILE = Symbol('tg.tempFile');

/** Mark a failure of a private temporary file of tg's (in TMPDIR): the hint then names TMPDIR. */
export function inTempDir<E>(e: E): E {
  if (e && typeof e === 'object') (e as { [TEMP_FILE]?: boolean })[TEMP_FILE] = true;
  return e;
}

/**
 * Mark a file failure of a check made before the command does anything (the directory of -o):
 * whatever the command, it is then a usage error (exit 2), as a bad flag is.
 */
export function beforeWork<E>(e: E): E {
  if (e && typeof e === 'object') (e as { [BEFORE_WORK]?: boolean })[BEFORE_WORK] = true;
  return e;
}

const SYSCALL_VERB: Readonly<Record<string, string>> = {
  access: 'write there',
  stat: 'reach',
  lstat: 'reach',
  open: 'open',
  mkdir: 'create the directory',
  rename: 'rename into place',
  link: 'create',
  unlink: 'remove',
  rmdir: 'remove',
  read: 'read',
  scandir: 'read the directory',
  copyfile: 'copy',
};

/**
 * The one mapping of a local file failure to tg's error: one line naming the path and the cause
 * in words. `sending` (Context.sending): while submit has sent nothing yet, or in a check before
 * any work (beforeWork), the error is exit 2; else work had begun: exit 4. Either way the journal
 * and results files stay as they were made durable, so the rerun resumes exactly once.
 */
export function fsError(e: NodeJS.ErrnoException, sending: 'none' | 'not-yet' | 'started', shown: (p: string) => string = (p) => p): TgError {
  const code = e.code ?? 'EIO';
  const unsent = sending === 'not-yet' || (e as { [BEFORE_WORK]?: boolean })[BEFORE_WORK] === true;
  const verb = SYSCALL_VERB[e.syscall ?? ''] ?? 'write';
  const where = e.path ? shown(e.path) : 'a file';
  // mkdir -p where a file has the name of a directory on the way
  const cause = code === 'EEXIST' && e.syscall === 'mkdir' ? 'a file of that name is in the way' : (FS_CAUSES[code] ?? code);
  const message = `${where}: cannot ${verb}: ${cause} (${code})${sending === 'not-yet' ? '; nothing was sent' : ''}`;
  return new TgError(unsent ? 'local_io_unsent' : 'local_io', message, {
    hint: fsHint(code, !unsent, (e as { [TEMP_FILE]?: boolean })[TEMP_FILE] === true),
    cause: e,
  });
}
