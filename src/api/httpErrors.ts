// HTTP answers that are not 2xx, as the typed errors of the contract: the vendor's error bodies
// (the documented envelope, FastAPI's `detail` list, or a bare `{code, message}` as the real
// service sends on a bad key), the status-to-code table, retry-after and x-should-retry.
import { ApiError, type ErrorCode } from '../errors';
import { serverRetryAfterMs } from '../core/backoff';
import type { RawResponse } from './transport';

/** Parse the vendor error body; tolerate anything. */
export function parseErrorBody(text: string): { message: string; refId?: string; detail?: unknown } {
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

/** The `x-should-retry` header: true, false, or undefined when absent or unreadable. */
export function shouldRetryHeader(headers: RawResponse['headers']): boolean | undefined {
  const raw = headers['x-should-retry'];
  const v = (Array.isArray(raw) ? raw[0] : raw)?.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

/** Statuses worth another try when nothing else says: timeouts, conflicts, 429 and 5xx. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Whether to retry an answer: the server's x-should-retry decides first, then the status. */
export function retryable(e: ApiError): boolean {
  return e.shouldRetry ?? retryableStatus(e.status);
}

const PROCESSORS_HINT = 'Check --processor: lite, base, core, core2x, pro, ultra, ultra2x, ultra4x, ultra8x (and their -fast variants).';

/** Code and hint of each status (and the message, for a 403 that names the processor). */
function codeOf(status: number, message: string): { code: ErrorCode; hint: string } {
  switch (status) {
    case 401:
      return { code: 'unauthorized', hint: 'The API key was refused: check PARALLEL_API_KEY (or --api-key), that the key is active, and --base-url.' };
    case 403:
      if (/processor/i.test(message)) return { code: 'invalid_processor', hint: PROCESSORS_HINT };
      return { code: 'forbidden', hint: 'The key lacks permission for this request: check PARALLEL_API_KEY and the account.' };
    case 402:
      return {
        code: 'payment_required',
        hint: 'Add credit to the account (task groups reserve credit for every run up front), then rerun the same command: it resumes.',
      };
    case 404:
      return { code: 'not_found', hint: 'Check the id. `tg create` makes a group; `tg submit` prints the group id it used.' };
    case 422:
      return { code: 'validation', hint: 'The API rejected the request as invalid; see the message.' };
    case 429:
      return { code: 'rate_limited', hint: 'Rerun the same command later: it resumes at the pace the server allows.' };
    default:
      return { code: status >= 500 ? 'server_error' : 'http_error', hint: 'Rerun the same command later: it resumes.' };
  }
}

/** A non-2xx answer as the typed error of the contract. `redact` hides the key in the server's words. */
export function errorFor(method: string, path: string, r: RawResponse, now: number, redact: (s: string) => string): ApiError {
  const { message, refId, detail } = parseErrorBody(r.text);
  const ref = refId ? ` (ref ${refId})` : '';
  const credit = r.status === 402 ? " (the account's credit does not cover these runs)" : '';
  const what = `${method} ${path} → ${r.status}: ${redact(message)}${ref}${credit}`;
  const { code, hint } = codeOf(r.status, message);
  const retryAfterMs = serverRetryAfterMs(r.headers, now);
  return new ApiError(code, what, { status: r.status, hint, refId, detail, retryAfterMs, shouldRetry: shouldRetryHeader(r.headers) });
}
