// A fast look into one SSE payload without building its whole object graph: the top-level
// "type" and "event_id", and the "run" object (parsed on its own: it is small, while "input" and
// "output" can be kilobytes). Used where the payload is written out unchanged (fetch → JSONL).
// Returns null for anything it does not fully understand; the caller then uses JSON.parse.

export interface PeekedEvent {
  type: string;
  event_id: string | null;
  run: { run_id: string; status: string; [k: string]: unknown };
}

const isWs = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

/** Index just past the string that starts at i (text[i] === '"'), or -1. */
function skipString(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    j = text.indexOf('"', j);
    if (j < 0) return -1;
    let bs = 0;
    for (let k = j - 1; k > i && text.charCodeAt(k) === 92; k--) bs++;
    if (bs % 2 === 0) return j + 1;
    j++;
  }
}

/** Index just past the JSON value that starts at i, or -1. */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 34) return skipString(text, i);
  if (c === 123 || c === 91) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === 34) {
        j = skipString(text, j);
        if (j < 0) return -1;
        j--;
      } else if (d === 123 || d === 91) depth++;
      else if (d === 125 || d === 93) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d === 44 || d === 125 || d === 93 || isWs(d)) break;
    j++;
  }
  return j > i ? j : -1;
}

/**
 * The top-level members of a JSON object text, as [start, end) spans of their values, without
 * parsing them; null if the text is not one well-formed object at this level.
 */
function members(text: string): Map<string, [number, number]> | null {
  const to = text.length;
  let i = 0;
  const ws = () => {
    while (i < to && isWs(text.charCodeAt(i))) i++;
  };
  const out = new Map<string, [number, number]>();
  ws();
  if (text.charCodeAt(i) !== 123) return null;
  i++;
  for (let first = true; ; first = false) {
    ws();
    if (first && text.charCodeAt(i) === 125) break; // {} (no trailing comma allowed later)
    if (text.charCodeAt(i) !== 34) return null;
    const kEnd = skipString(text, i);
    if (kEnd < 0) return null;
    const key = text.slice(i + 1, kEnd - 1);
    if (key.includes('\\')) return null;
    i = kEnd;
    ws();
    if (text.charCodeAt(i) !== 58) return null;
    i++;
    ws();
    const vEnd = skipValue(text, i);
    if (vEnd < 0) return null;
    out.set(key, [i, vEnd]);
    i = vEnd;
    ws();
    const sep = text.charCodeAt(i);
    if (sep === 44) {
      i++;
      continue;
    }
    if (sep === 125) break;
    return null;
  }
  i++;
  ws();
  return i === to ? out : null;
}

const parseSpan = (text: string, span: [number, number] | undefined): unknown => (span ? JSON.parse(text.slice(span[0], span[1])) : undefined);

/** type, event_id and run of an event payload; null when anything is off (then use JSON.parse). */
export function peekEvent(text: string): PeekedEvent | null {
  try {
    const m = members(text);
    if (!m) return null;
    const type = parseSpan(text, m.get('type'));
    const eventId = parseSpan(text, m.get('event_id'));
    const run = parseSpan(text, m.get('run'));
    if (typeof type !== 'string' || (eventId !== null && eventId !== undefined && typeof eventId !== 'string')) return null;
    if (type === 'task_run.state' && (typeof run !== 'object' || run === null || typeof (run as { status?: unknown }).status !== 'string')) return null;
    return { type, event_id: (eventId as string | null | undefined) ?? null, run: run as PeekedEvent['run'] };
  } catch {
    return null;
  }
}
