// Pure CSV flattening of run lines: input.*, output.*, run_id, status, error.

/**
 * A text cell a spreadsheet would run as a formula (leading = + - @, or a tab or carriage return
 * before one) gets a leading apostrophe — the usual neutralisation; plain numbers ("-5", "+1.5e3")
 * are left alone.
 */
export function neutralise(s: string): string {
  if (!/^[=+\-@\t\r]/.test(s)) return s;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return s;
  return `'${s}`;
}

/** One CSV cell; `safe`: neutralise text a spreadsheet would run as a formula; `delimiter`: the field delimiter. */
export function csvField(v: unknown, safe = false, delimiter = ','): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (safe && typeof v === 'string') s = neutralise(s);
  const quote = s.includes('"') || s.includes(delimiter) || s.includes('\n') || s.includes('\r') || /^\s|\s$/.test(s);
  return quote ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: unknown[], safe = false): string {
  return values.map((v) => csvField(v, safe)).join(',');
}

/**
 * One CSV record: `guard[i]` says whether column i is neutralised (the cells tg writes: answers,
 * errors), never the user's own input cells, which are written back as they were read.
 */
export function csvRow(values: readonly unknown[], guard: readonly boolean[], delimiter = ','): string {
  let s = '';
  for (let i = 0; i < values.length; i++) s += (i ? delimiter : '') + csvField(values[i], guard[i] === true, delimiter);
  return s;
}

interface LineLike {
  input?: { input?: unknown } | null;
  run: { run_id: string; status: string; error?: { message?: string } | null };
  output?: { type?: string; content?: unknown } | null;
}

/** The flat fields of one line: nested values stay objects (written as JSON text). */
export function flatten(ev: LineLike): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const inp = ev.input?.input;
  if (inp !== undefined && inp !== null) {
    if (typeof inp === 'object' && !Array.isArray(inp)) for (const [k, v] of Object.entries(inp as Record<string, unknown>)) out[`input.${k}`] = v;
    else out.input = inp;
  }
  const content = ev.output?.content;
  if (content !== undefined && content !== null) {
    if (typeof content === 'object' && !Array.isArray(content)) for (const [k, v] of Object.entries(content as Record<string, unknown>)) out[`output.${k}`] = v;
    else out.output = content;
  }
  out.run_id = ev.run.run_id;
  out.status = ev.run.status;
  out.error = ev.run.error?.message ?? null;
  return out;
}

/** Column order: input.*, output.*, then run_id, status, error. */
export function orderColumns(names: Iterable<string>): string[] {
  const all = [...new Set(names)];
  const rank = (c: string) =>
    c === 'input' || c.startsWith('input.')
      ? 0
      : c === 'output' || c.startsWith('output.')
        ? 1
        : c === 'run_id'
          ? 2
          : c === 'status'
            ? 3
            : c === 'error'
              ? 4
              : 5;
  return all
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i)
    .map((x) => x.c);
}
