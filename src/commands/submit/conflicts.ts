// A conflict, said in full: rows whose key the group holds with other content. Each is named with
// what differs — the column and its old and new value, or the processor, spec or run options — read
// from the runs the group holds for those keys (a listing with inputs, only when there is a
// conflict), and the choices are offered with their price.
import { TgError } from '../../errors';
import { runIdent } from '../../core/ledger';
import { formatUsd } from '../../core/pricing';
import { count } from '../../core/util';
import type { ApiClient } from '../../api/client';
import { rowErrorText, type Validation } from './validate';
import { estimate } from './cost';
import type { Job } from './job';

/** A conflicting row as the validation pass saw it (the first few are kept). */
export interface ConflictRow {
  /** Where it is: `f.csv:5`. */
  at: string;
  key: string;
  /** Its slot (runIdent of a run in the same slot). */
  ident: string;
  /** What would be sent for it. */
  inputJson: string;
}

const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 80));

/** What differs between the input a run holds and the row's: columns with old → new, else the rest. */
export function differences(old: unknown, now: unknown, processors: [string, string]): string {
  const parts: string[] = [];
  if (old && now && typeof old === 'object' && typeof now === 'object' && !Array.isArray(old) && !Array.isArray(now)) {
    const a = old as Record<string, unknown>;
    const b = now as Record<string, unknown>;
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) parts.push(`"${k}": ${show(a[k])} → ${show(b[k])}`);
  } else if (JSON.stringify(old) !== JSON.stringify(now)) parts.push(`the input: ${show(old)} → ${show(now)}`);
  if (processors[0] !== processors[1]) parts.push(`processor: ${processors[0]} → ${processors[1]}`);
  return parts.length ? parts.join(', ') : 'the same input; the spec or run options changed';
}

/** Read the runs the group holds in the conflicting rows' slots (their latest attempts). */
async function heldRuns(job: Job, client: ApiClient, group: string, rows: ConflictRow[]) {
  const want = new Set(rows.map((r) => r.ident));
  const held = new Map<string, { input: unknown; processor: string; attempt: number }>();
  const stream = client.streamRuns(group, { includeInput: true, signal: job.ctx.signal, giveUpMs: job.ctx.giveUpMs });
  for await (const ev of stream) {
    if (ev.type !== 'task_run.state') continue;
    const md = ev.run.metadata as Record<string, unknown> | undefined;
    const id = runIdent(md);
    if (id === null || !want.has(id)) continue;
    const attempt = Number(md?.tg_try ?? 1) || 1;
    if ((held.get(id)?.attempt ?? 0) <= attempt) held.set(id, { input: ev.input?.input, processor: ev.run.processor, attempt });
  }
  return held;
}

/** The conflict error: each row named with what changed, and the choices with their price. */
export async function conflictError(job: Job, client: ApiClient | null, group: string, v: Validation): Promise<TgError> {
  const held = client ? await heldRuns(job, client, group, v.conflictRows) : new Map();
  const lines = v.conflictRows.map((r) => {
    const h = held.get(r.ident);
    const what = h ? differences(h.input, JSON.parse(r.inputJson), [h.processor, job.processor]) : 'other content (input, processor or spec)';
    return `${r.at}: key "${r.key}": the group holds this row with ${h ? `other content: ${what}` : what}`;
  });
  const summary = `${count(v.conflicts, 'row')} of ${job.shown} differ from the runs the group holds for the same key; nothing was sent.`;
  const resend = estimate(job, v.toSend + v.conflicts).usd;
  const skip = estimate(job, v.toSend).usd;
  const price = (usd: number | null) => (usd === null ? '' : ` (about ${formatUsd(usd)} in all)`);
  return new TgError('conflict', rowErrorText(lines, v.conflicts, summary), {
    hint:
      `Pass --on-conflict resend to send the ${count(v.conflicts, 'changed row')} again as new runs${price(resend)}, ` +
      `or --on-conflict skip to send only the ${count(v.toSend, 'new row')}${price(skip)}; or fix the input.`,
  });
}
