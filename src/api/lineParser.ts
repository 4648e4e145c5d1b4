// Parsing a listing's event texts (runLines.ts) here or in a worker thread, and the pipeline that
// keeps the worker busy: the main thread reads the network and splits the stream into event texts
// while the worker parses the batches sent before, and the batches come out in stream order.
import { Worker } from 'node:worker_threads';
import { NetworkError } from '../errors';
import { workerSource } from '../workers/load';
import { describe, lineBatch, type Described, type LineBatch } from './runLines';

export interface LineParser {
  parse(texts: string[]): Promise<Described>;
  /** Set when parsing happens on this thread: no pipeline needed. */
  here?: true;
  close(): void;
}

/** Parses on the calling thread (small listings: a worker's start-up would cost more). */
export const inlineParser = (): LineParser => ({ parse: (texts) => Promise.resolve(describe(texts)), here: true, close: () => undefined });

/**
 * Parses in a worker thread (src/workers/parseLines.ts, built to dist/parse-worker.cjs); answers
 * come in the order asked. If the worker fails, the batches it still owed and all later ones are
 * parsed here. Null when the worker's code is not at hand.
 */
export function workerParser(): LineParser | null {
  const source = workerSource('parse-worker.cjs');
  if (!source) return null;
  const worker = new Worker(source, { eval: true });
  let owed: { texts: string[]; resolve: (d: Described) => void }[] = [];
  let down = false;
  const fallBack = () => {
    if (down) return;
    down = true;
    for (const w of owed) w.resolve(describe(w.texts));
    owed = [];
  };
  worker.on('message', (d: Described) => owed.shift()?.resolve(d));
  worker.on('error', fallBack);
  worker.on('exit', fallBack);
  return {
    parse(texts) {
      if (down) return Promise.resolve(describe(texts));
      return new Promise<Described>((resolve) => {
        owed.push({ texts, resolve });
        worker.postMessage(texts);
      });
    },
    close() {
      down = true;
      owed = [];
      void worker.terminate();
    },
  };
}

/** Listings of at least this many runs are parsed in the worker (below, its start-up costs more than it saves). */
export const WORKER_MIN_RUNS = 5000;

/** Texts sent to the worker at once while it is busy (characters): fewer, larger messages. */
const COALESCE_CHARS = 128 * 1024;
/** Texts sent and not yet taken back, at most (characters): the read-ahead, in constant memory. */
const AHEAD_CHARS = 1024 * 1024;

interface Pending {
  texts: string[];
  chars: number;
  done: Described | null;
  p: Promise<Described>;
}

/** A text of a stream that is not JSON: the stream broke (NetworkError: it is read again from the cursor). */
export const badEvent =
  (what: string) =>
  (text: string): Error =>
    new NetworkError(`${what}: unparsable SSE data: ${text}`, true);

/**
 * The batches of `raw` (texts) with their descriptions, in order. Texts read before `raw` threw
 * are all delivered before its error is thrown (so a resume starts after them); a text that is not
 * JSON throws `bad(its start)` at its batch (nothing after it is delivered).
 */
export async function* parsedLines(raw: AsyncIterable<string[]>, parser: LineParser, bad: (text: string) => Error): AsyncGenerator<LineBatch> {
  if (parser.here) {
    for await (const texts of raw) {
      const d = describe(texts);
      if (d.bad !== null) throw bad(d.bad);
      yield lineBatch(texts, d);
    }
    return;
  }
  const queue: Pending[] = [];
  let ahead = 0;
  let pend: string[] = [];
  let chars = 0;
  const send = () => {
    const it: Pending = { texts: pend, chars, done: null, p: parser.parse(pend) };
    void it.p.then((d) => (it.done = d));
    queue.push(it);
    ahead += chars;
    pend = [];
    chars = 0;
  };
  const take = async (): Promise<LineBatch> => {
    const it = queue.shift()!;
    ahead -= it.chars;
    const d = it.done ?? (await it.p);
    if (d.bad !== null) throw bad(d.bad);
    return lineBatch(it.texts, d);
  };
  const it = raw[Symbol.asyncIterator]();
  let broke: { e: unknown } | null = null;
  try {
    for (;;) {
      let r: IteratorResult<string[]>;
      try {
        r = await it.next();
      } catch (e) {
        broke = { e };
        break;
      }
      if (r.done) break;
      for (const s of r.value) chars += s.length;
      pend = pend.length ? pend.concat(r.value) : r.value;
      if (chars >= COALESCE_CHARS || !queue.length) send(); // an idle worker gets what there is
      while (queue.length && (queue[0].done || ahead > AHEAD_CHARS)) yield await take();
    }
    if (pend.length) send();
    while (queue.length) yield await take();
    if (broke) throw broke.e;
  } finally {
    if (!broke) await it.return?.(undefined);
  }
}
