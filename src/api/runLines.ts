// Events of a group stream kept as the text the server sent, with what a reader of results needs
// to know of each (its type, event_id, run_id, status, whether a completed run carries its
// output) read by JSON.parse. A results file takes the text as its line: parsing it validates it,
// and re-stringifying the parsed object would only make the same text again. The parse may run
// in a worker thread (src/workers/parseLines.ts): only the texts go there and only the small
// fields come back.

/** Strings per event in `Described.meta`: type, event_id, run_id, status, and NO_OUTPUT or ''. */
export const META = 5;
export const M_TYPE = 0;
export const M_EVENT = 1;
export const M_RUN = 2;
export const M_STATUS = 3;
export const M_NO_OUTPUT = 4;
/** In the M_NO_OUTPUT slot: the event's `output` is null or missing. */
export const NO_OUTPUT = 'n';

/** What the parse of a batch of event texts tells. */
export interface Described {
  /** META strings per event ('' for a field that is absent or not a string). */
  meta: string[];
  /** Pairs [index, text]: an event whose text cannot be a line as it is (it spans lines) and its compact JSON. */
  fixes: (number | string)[];
  /** The start of the first text that is not JSON, if any: the batch is not to be used. */
  bad: string | null;
}

/** A batch of events: the texts and their description (`fixes` applied to `texts`). */
export interface LineBatch {
  texts: string[];
  meta: string[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Parse each text and describe it. Pure: the worker thread and the main thread run the same code. */
export function describe(texts: string[]): Described {
  const meta: string[] = new Array<string>(texts.length * META);
  const fixes: (number | string)[] = [];
  for (let i = 0; i < texts.length; i++) {
    let ev: unknown;
    try {
      ev = JSON.parse(texts[i]);
    } catch {
      return { meta: [], fixes: [], bad: texts[i].slice(0, 120) };
    }
    const o = ev !== null && typeof ev === 'object' ? (ev as Record<string, unknown>) : {};
    const run = o.run !== null && typeof o.run === 'object' ? (o.run as Record<string, unknown>) : {};
    const k = i * META;
    meta[k + M_TYPE] = str(o.type);
    meta[k + M_EVENT] = str(o.event_id);
    meta[k + M_RUN] = str(run.run_id);
    meta[k + M_STATUS] = str(run.status);
    meta[k + M_NO_OUTPUT] = o.output === null || o.output === undefined ? NO_OUTPUT : '';
    // SSE joins the data lines of one event with "\n": such a text is rewritten on one line.
    if (texts[i].includes('\n')) fixes.push(i, JSON.stringify(ev));
  }
  return { meta, fixes, bad: null };
}

/** The batch of `texts` as `d` describes them (their fixes applied). */
export function lineBatch(texts: string[], d: Described): LineBatch {
  for (let j = 0; j < d.fixes.length; j += 2) texts[d.fixes[j] as number] = d.fixes[j + 1] as string;
  return { texts, meta: d.meta };
}

/** The last non-empty event_id of a batch (the stream's cursor after it), or undefined. */
export function lastEventId(b: LineBatch): string | undefined {
  for (let i = b.texts.length - 1; i >= 0; i--) {
    const id = b.meta[i * META + M_EVENT];
    if (id) return id;
  }
  return undefined;
}
