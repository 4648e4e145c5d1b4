// Small shared helpers without I/O.
import path from 'node:path';
import { usageError } from '../errors';

/** The longest delay a Node timer takes (about 24.8 days); a longer one fires at once, with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    if (ms <= 0) return resolve();
    const t = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h.endsWith('.localhost');
}

/** Replace every occurrence of secret in text (used on anything that may be printed). */
export function redact(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('***');
}

/** A URL as it may be printed: without the user and password it may carry (a proxy's). */
export function redactUrl(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

export const TERMINAL_STATUSES = new Set(['completed', 'failed', 'cancelled']);

/** Runs that ended without a result (exit code 1 when any). */
export function failedCount(counts: Partial<Record<string, number>>): number {
  return (counts.failed ?? 0) + (counts.cancelled ?? 0);
}

/** Runs of a group that have finished (completed, failed or cancelled), from its status counts. */
export function countTerminal(s: { task_run_status_counts: Partial<Record<string, number>> }): number {
  return (s.task_run_status_counts.completed ?? 0) + failedCount(s.task_run_status_counts);
}

/** A file error's code in words, for "cannot read" messages. */
export const errnoText = (code: string | undefined): string => (code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(code));

/**
 * A path as messages show it: relative to the cwd when inside it, else `~/…` under the home
 * directory, else absolute (never a `../../` climb out of the cwd).
 */
export function shownPath(p: string, cwd: string, home: string | undefined): string {
  const rel = path.relative(cwd, p);
  if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel;
  if (home && p.startsWith(home.endsWith(path.sep) ? home : home + path.sep)) return '~' + path.sep + p.slice(home.replace(/[/\\]$/, '').length + 1);
  return p;
}

/** `--timeout` in ms, or undefined when not given. Over 24.8 days it is 24.8 days (a timer's limit). */
export function parseTimeout(v: string | undefined): number | undefined {
  return v === undefined ? undefined : Math.min(parseSeconds(v, '--timeout'), MAX_TIMER_MS);
}

/** Milliseconds as a --timeout reads: "600s", "1.5s". */
export const seconds = (ms: number | undefined): string => `${(ms ?? 0) / 1000}s`;

/** A positive number of seconds (from a flag or variable named `what`) in milliseconds. */
export function parseSeconds(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`${what} must be a positive number of seconds, not "${v}"`);
  return n * 1000;
}

/** "1 row", "2 rows": a count and its noun (plural with an s). */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The items of a stream of batches, one at a time (for consumers that take them singly). */
export async function* flat<T>(batches: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const b of batches) yield* b;
}
