// The group's runs on disk for a join: each run's flattened line, stored input and (for the
// enriched output) output, appended to a private temporary file and indexed by tg_key → offsets.
// Memory holds only the keys and offsets, not the runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flatten } from '../core/flatten';
import { writeAllSync } from './durable';
import type { RunLookup, StoredRun } from '../core/join';
import type { TaskRunEvent, TaskSpec } from '../core/wire';

export class RunIndex implements RunLookup {
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-join-'));
  private readonly file = path.join(this.dir, 'runs.jsonl');
  private readonly fd = fs.openSync(this.file, 'wx+', 0o600);
  private readonly byKey = new Map<string, number[]>();
  private pos = 0;
  /** The flattened column names of the runs, in the order first seen. */
  readonly outNames: string[] = [];
  runs = 0;
  /** The processors the runs used. */
  readonly processors = new Set<string>();
  /** The task spec the first run was sent with (its input carries it): the output fields and their types. */
  taskSpec: TaskSpec | null = null;
  /** keepOutput: store each run's output (the enriched output needs its basis). */
  constructor(private readonly keepOutput = false) {}

  /** Store the runs of a listing (`client.streamRuns(group, { includeInput, includeOutput })`). */
  async load(events: AsyncIterable<TaskRunEvent>): Promise<void> {
    const names = new Set<string>();
    for await (const ev of events) {
      if (ev.type !== 'task_run.state') continue;
      const key = ev.run.metadata?.tg_key;
      if (key === undefined) continue;
      this.taskSpec ??= (ev.input?.task_spec as TaskSpec | undefined) ?? null;
      const flat = flatten({ run: ev.run, output: ev.output });
      for (const k of Object.keys(flat)) {
        if (names.has(k)) continue;
        names.add(k);
        this.outNames.push(k);
      }
      const attempt = Number(ev.run.metadata?.tg_try ?? 1) || 1;
      this.processors.add(ev.run.processor);
      const stored: StoredRun = { flat, input: ev.input?.input, attempt, processor: ev.run.processor, ...(this.keepOutput ? { output: ev.output } : {}) };
      const b = Buffer.from(JSON.stringify(stored));
      writeAllSync(this.fd, b, this.pos, this.file, true);
      const at = this.byKey.get(String(key));
      if (at) at.push(this.pos, b.length);
      else this.byKey.set(String(key), [this.pos, b.length]);
      this.pos += b.length;
      this.runs++;
    }
  }

  get keys(): number {
    return this.byKey.size;
  }

  /** The runs stored under a key (usually one; more when several files were sent into one group, or retries). */
  get(key: string): StoredRun[] {
    const at = this.byKey.get(key);
    if (!at) return [];
    const out: StoredRun[] = [];
    for (let i = 0; i < at.length; i += 2) {
      const b = Buffer.alloc(at[i + 1]);
      fs.readSync(this.fd, b, 0, b.length, at[i]);
      out.push(JSON.parse(b.toString('utf8')) as StoredRun);
    }
    return out;
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
