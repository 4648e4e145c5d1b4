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

/** One CSV cell; `safe`: neutralise text a spreadsheet would run as a formula. */
export function csvField(v: unknown, safe = false): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (safe && typeof v === 'string') s = neutralise(s);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: unknown[], safe = false): string {
  return values.map((v) => csvField(v, safe)).join(',');
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
