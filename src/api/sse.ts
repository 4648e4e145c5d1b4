// Server-sent event streams: one connection (sseOnce), and a resumable stream that reconnects with
// last_event_id through breaks by the give-up rule of retry.ts (resumable).
import { StringDecoder } from 'node:string_decoder';
import { createParser } from 'eventsource-parser';
import { NetworkError, TgError } from '../errors';
import type { GroupEvent } from '../core/wire';
import { sleep } from '../core/util';
import type { Clock, Random } from '../core/clock';
import type { Transport } from './transport';
import { errorFor } from './httpErrors';
import { Outage, transient } from './retry';

export type Query = Record<string, string | number | boolean | null | undefined>;

export function buildQuery(q: Query | undefined): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
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

function silent(e: NetworkError, ms: number): NetworkError {
  e.silentMs = ms;
  return e;
}

/** Streams' clock, random source and callbacks. */
export interface StreamEnv {
  clock: Clock;
  random: Random;
  giveUpMs: number;
  onWait: (ms: number, reason: string) => void;
}

/**
 * One SSE connection. Yields the data of its events as received (keep-alives and empty events
 * left out), in batches (those of one chunk received: no promise per event). Returns normally
 * when the server ends the stream cleanly; throws NetworkError if the connection breaks (an event
 * received only in part is dropped), ApiError for a non-2xx answer. `idleMs`: a stream that sends
 * no event (keep-alives only) for this long counts as broken.
 */
export async function* sseDataOnce(t: Transport, path: string, query: Query, signal?: AbortSignal, idleMs?: number): AsyncGenerator<string[]> {
  const full = path + buildQuery(query);
  const idle = idleMs ? new IdleTimer(idleMs, signal) : null;
  const res = await open(t, full, signal, idle, idleMs);
  let queue: string[] = [];
  const parser = createParser({
    onEvent: (ev) => {
      if (!ev.data) return; // keep-alive or empty event
      queue.push(ev.data);
      idle?.reset();
    },
  });
  const text = utf8Chunks();
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      // In pieces: the stream hands over all it has buffered at once (often over 100 KB), and
      // a string that large is made in V8's large-object space at a high price (measured, the
      // events of a 100k-run group: 0.49 s to decode whole chunks, 0.02 s in pieces).
      for (let i = 0; i < chunk.length; i += SSE_PIECE) parser.feed(text(chunk.subarray(i, i + SSE_PIECE)));
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
    throw new NetworkError(`stream ${path} broke: ${t.redact(String((e as Error).message))}`, true, { cause: e });
  } finally {
    idle?.clear();
    if (!res.body.destroyed) res.body.destroy();
  }
  // Whatever is left in the parser is a half-received event: dropped.
}

/** The GET of a stream, answered 2xx (else its typed error). */
async function open(t: Transport, full: string, signal: AbortSignal | undefined, idle: IdleTimer | null, idleMs: number | undefined) {
  const t0 = t.opts.clock.now();
  let res;
  try {
    res = await t.dispatcher.request(
      t.request(full, {
        method: 'GET',
        headers: t.headers({ accept: 'text/event-stream' }),
        signal: idle?.signal ?? signal,
        headersTimeout: t.opts.timeoutMs,
        bodyTimeout: 300_000,
      }),
    );
  } catch (e) {
    idle?.clear();
    if (signal?.aborted) throw signal.reason ?? e;
    t.logLine('GET', full, (e as { code?: string })?.code || 'error', t0);
    if (idle?.fired) throw silent(new NetworkError(`GET ${full}: no answer for ${Math.round(idleMs! / 1000)} s`, true), idleMs!);
    throw t.proxyRefusal(`GET ${full}`, e) ?? new NetworkError(`GET ${full}: ${t.netText(e, '', 0)}`, true, { cause: e });
  }
  t.logLine('GET', full, res.statusCode, t0);
  if (res.statusCode < 200 || res.statusCode >= 300) {
    const text = await res.body.text().catch(() => '');
    idle?.clear(); // else its timer keeps the process alive after the command is done
    if (res.statusCode === 429) t.rateLimited++;
    throw errorFor('GET', full, { status: res.statusCode, headers: res.headers, text }, t.opts.clock.now(), (s) => t.redact(s));
  }
  return res;
}

/** One SSE connection, its events parsed (JSON); an event that is not JSON breaks the stream (NetworkError). */
export async function* sseOnce(t: Transport, path: string, query: Query, signal?: AbortSignal, idleMs?: number): AsyncGenerator<GroupEvent[]> {
  for await (const texts of sseDataOnce(t, path, query, signal, idleMs)) {
    const batch: GroupEvent[] = new Array<GroupEvent>(texts.length);
    for (let i = 0; i < texts.length; i++) {
      try {
        batch[i] = JSON.parse(texts[i]) as GroupEvent;
      } catch {
        throw new NetworkError(`GET ${path + buildQuery(query)}: unparsable SSE data: ${texts[i].slice(0, 120)}`, true);
      }
    }
    yield batch;
  }
}

export interface ResumableOptions {
  lastEventId?: string | null;
  signal?: AbortSignal;
  giveUpMs?: number;
  idleMs?: number;
  onReconnect?: (err: unknown) => void;
}

/**
 * A resumable stream: reconnects with last_event_id after any break, by the give-up rule, until
 * the server ends a connection cleanly. Each batch is consumed whole before the next is asked for,
 * so a reconnect resumes after it.
 */
export function resumable(t: Transport, env: StreamEnv, path: string, query: Query, o: ResumableOptions = {}): AsyncGenerator<GroupEvent[]> {
  return resumeWith(env, path, o, (last) => sseOnce(t, path, { ...query, last_event_id: last }, o.signal, o.idleMs), lastIdOf);
}

function lastIdOf(batch: GroupEvent[]): string | undefined {
  let last: string | undefined;
  for (const ev of batch) {
    const id = (ev as { event_id?: string | null }).event_id;
    if (typeof id === 'string' && id !== '') last = id;
  }
  return last;
}

/**
 * Batches of `connect(cursor)`, reconnected from the cursor after the last batch consumed
 * (`lastOf`) whenever a connection breaks with a transient error, by the give-up rule.
 */
export async function* resumeWith<B>(
  env: StreamEnv,
  path: string,
  o: ResumableOptions,
  connect: (last: string | undefined) => AsyncGenerator<B>,
  lastOf: (batch: B) => string | undefined,
): AsyncGenerator<B> {
  let last = o.lastEventId ?? undefined;
  const outage = new Outage({ giveUpMs: o.giveUpMs ?? env.giveUpMs, clock: env.clock, random: env.random, backoff: { baseMs: 250, capMs: 15_000 } });
  for (;;) {
    try {
      for await (const batch of connect(last)) {
        outage.ok();
        last = lastOf(batch) ?? last;
        yield batch;
      }
      return;
    } catch (e) {
      if (o.signal?.aborted || !transient(e)) throw e;
      // A stream that went silent has been out since its last event, not since tg noticed.
      const wait = outage.next(e, `GET ${path}`, e instanceof NetworkError ? e.silentMs : 0);
      o.onReconnect?.(e);
      env.onWait(wait, 'stream interrupted, reconnecting');
      await sleep(wait, o.signal);
    }
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
