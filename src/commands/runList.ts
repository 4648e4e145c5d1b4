// What `watch` and `fetch` share about results files of JSON lines: the run ids a resumed file
// already holds (its lines parsed as a listing's are: in the worker thread when the file is
// large), and the catch-up's reading of a run list (lines for finished runs not yet written,
// behind a runs cursor that stops before the first unfinished run), and the line of a finished
// run's event (its output fetched when the event has none).
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ApiError, inputError } from '../errors';
import { sleep, TERMINAL_STATUSES } from '../core/util';
import { RunIdSet } from '../core/runIdSet';
import { completeLength } from '../io/durable';
import type { OutputSink } from '../io/output';
import type { ApiClient } from '../api/client';
import type { TaskRunEvent } from '../core/wire';
import { inlineParser, parsedLines, workerParser } from '../api/lineParser';
import { META, M_EVENT, M_NO_OUTPUT, M_RUN, M_STATUS, M_TYPE, NO_OUTPUT, type LineBatch } from '../api/runLines';

/** Files at least this large are parsed in the worker thread on resume. */
const WORKER_MIN_BYTES = 16 * 1024 * 1024;

/** The run ids of a JSON-lines results file (after FileSink.open cut it back to its cursor), in a set sized for `runs` (the group's). */
export async function writtenRunIds(file: string, runs: number): Promise<RunIdSet> {
  const set = new RunIdSet(runs);
  const end = completeLength(file);
  if (end === 0) return set;
  const parser = (end >= WORKER_MIN_BYTES && workerParser()) || inlineParser();
  const bad = (text: string) => inputError(`${file}: a line is not JSON: ${text}`, `Delete ${file} and its .tg.json cursor to start over.`);
  try {
    for await (const b of parsedLines(fileLines(file, end), parser, bad)) {
      for (let k = M_RUN; k < b.meta.length; k += META) if (b.meta[k]) set.add(b.meta[k]);
    }
  } finally {
    parser.close();
  }
  return set;
}

/** The non-empty lines of the first `end` bytes of a file, in batches (one per piece read). */
async function* fileLines(file: string, end: number): AsyncGenerator<string[]> {
  const dec = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of fs.createReadStream(file, { start: 0, end: end - 1, highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    const lines = (carry + dec.write(chunk)).split('\n');
    carry = lines.pop()!;
    const batch = lines.filter((l) => l.trim() !== '');
    if (batch.length) yield batch;
  }
  if (carry.trim() !== '') yield [carry];
}

/** The catch-up's reading of the group's run list: a line for each finished run not yet written, and the runs cursor. */
export class RunList {
  added = 0;
  /** Where the list is read from: the saved runs cursor. */
  readonly from: string | null;
  private frontier = true;
  constructor(
    private readonly sink: OutputSink,
    private readonly written: RunIdSet,
    /** The line of a completed run listed without its output (its result fetched). */
    private readonly resultLine: (text: string) => Promise<string>,
  ) {
    this.from = (sink.state.extra?.runs as string | undefined) ?? null;
  }

  async take(b: LineBatch) {
    const m = b.meta;
    let cursor: string | null = null;
    for (let i = 0, k = 0; i < b.texts.length; i++, k += META) {
      if (m[k + M_TYPE] !== 'task_run.state') continue;
      const st = m[k + M_STATUS];
      if (!TERMINAL_STATUSES.has(st)) this.frontier = false;
      else if (this.written.add(m[k + M_RUN])) {
        const slow = st === 'completed' && m[k + M_NO_OUTPUT] === NO_OUTPUT;
        this.sink.line(slow ? await this.resultLine(b.texts[i]) : b.texts[i], st);
        this.added++;
      }
      if (this.frontier && m[k + M_EVENT]) cursor = m[k + M_EVENT];
    }
    if (cursor) this.sink.setExtra({ runs: cursor });
  }
}

/** One window item: the event's id (the cursor) and the line it adds (text null: none), with the run's status. */
export interface WindowLine {
  eventId: string | null;
  text: string | null;
  status: string;
}

/**
 * The item of a terminal run event: its line, the event with `output` filled in for completed
 * runs. A failure is the window's to report, in order (push handles the rejection).
 */
export async function lineFor(client: ApiClient, ev: TaskRunEvent, eventId: string | null, signal: AbortSignal): Promise<WindowLine> {
  const out: TaskRunEvent = { type: 'task_run.state', event_id: ev.event_id, input: ev.input ?? null, run: ev.run, output: ev.output ?? null };
  if (ev.run.status === 'completed' && !out.output) {
    for (let attempt = 0; ; attempt++) {
      const r = await client.getResult(ev.run.run_id, 30, signal);
      if (r) {
        out.output = r.output;
        out.run = r.run;
        break;
      }
      if (attempt >= 3) throw new ApiError('missing_result', `run ${ev.run.run_id} completed but its result is not available`, { status: 404 });
      await sleep(500 * (attempt + 1), signal);
    }
  }
  return { eventId, text: JSON.stringify(out), status: out.run.status };
}
