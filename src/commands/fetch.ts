// `tg fetch`: the group's runs with inputs and outputs as JSONL or CSV, resumable with -o;
// --join writes the original input rows in order with output columns appended; --run one result.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import type { Context } from '../context';
import { EXIT, InterruptedError, TgError, usageError, inputError, ApiError } from '../errors';
import { FileSink, StdoutSink, type OutputSink } from '../io/output';
import { Progress } from '../io/progress';
import { csvLine, flatten, orderColumns } from '../core/flatten';
import { detectFormat, readRows } from '../io/rows';
import { failedCount } from '../core/util';
import { peekEvent } from '../core/peek';
import { RAW, type TaskRunEvent } from '../api/types';

export interface FetchOptions {
  group?: string;
  output?: string;
  format?: 'jsonl' | 'csv';
  status?: string;
  join?: string;
  key?: string;
  run?: string;
}

const PEEK = 1000;

export async function fetch(o: FetchOptions, ctx: Context): Promise<number> {
  if (o.run) return fetchRun(o.run, ctx);
  if (!o.group) throw usageError('tg fetch needs a group id (or --run <run_id>)', 'Example: tg fetch tgrp_123 -o results.jsonl');
  if (o.join) return fetchJoin(o as FetchOptions & { group: string; join: string }, ctx);
  o.format = o.format ?? 'jsonl';
  const kind = `fetch-${o.format}${o.status ? `-${o.status}` : ''}`;
  const out = o.output ? path.resolve(ctx.io.cwd, o.output) : null;
  if (out) FileSink.check(out, kind, o.group); // a bad -o fails before any request
  const client = await ctx.client();
  const group = await client.getGroup(o.group, ctx.signal);
  const sink: OutputSink = out ? FileSink.open(out, kind, o.group) : new StdoutSink(ctx.io.stdout, kind, o.group);
  const progress = await Progress.start(ctx, { label: 'fetch', unit: 'runs', total: group.status.num_task_runs, done: sink.state.lines });
  const t0 = ctx.clock.now();
  let columns: string[] | null = (sink.state.extra?.columns as string[] | undefined) ?? null;
  const extraKeys = new Set<string>();
  const peek: TaskRunEvent[] = [];
  const writeCsv = (ev: TaskRunEvent) => {
    const flat = flatten(ev);
    for (const k of Object.keys(flat)) if (!columns!.includes(k)) extraKeys.add(k);
    sink.line(csvLine(columns!.map((c) => flat[c])), ev.run.status);
  };
  const startCsv = () => {
    const names: string[] = [];
    for (const ev of peek) names.push(...Object.keys(flatten(ev)));
    columns = orderColumns(names.length ? names : ['run_id', 'status', 'error']);
    sink.state.extra = { columns };
    sink.line(csvLine(columns));
    for (const ev of peek) writeCsv(ev);
    peek.length = 0;
  };
  try {
    let n = 0;
    for await (const ev of client.streamRuns(o.group, { lastEventId: sink.state.last_event_id, includeInput: true, includeOutput: true, status: o.status, signal: ctx.signal, giveUpMs: ctx.giveUpMs, lite: o.format === 'jsonl' ? peekEvent : undefined })) {
      if (ev.type !== 'task_run.state') continue;
      if (o.format === 'jsonl') sink.line((ev as { [RAW]?: string })[RAW] ?? JSON.stringify(ev), ev.run.status);
      else if (!columns) {
        peek.push(ev);
        if (peek.length >= PEEK) startCsv();
      } else writeCsv(ev);
      sink.setEventId(ev.event_id);
      if (++n % 2000 === 0) {
        if (!columns && o.format === 'csv') continue; // cannot flush before the header exists
        await sink.flush();
        progress.update(sink.state.lines);
      }
    }
    if (o.format === 'csv' && !columns) startCsv();
    await sink.close();
    progress.stop();
    const lines = sink.state.lines - (o.format === 'csv' ? 1 : 0);
    if (extraKeys.size) ctx.warn(`tg: ${[...extraKeys].slice(0, 5).join(', ')}: columns seen after the header was written were left out; use --format jsonl for every field`);
    const c = sink.state.counts;
    ctx.info(`tg: ${o.group}: ${lines} runs${o.output ? ` in ${o.output}` : ''} (${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}) in ${((ctx.clock.now() - t0) / 1000).toFixed(1)}s`);
    return failedCount(c) > 0 ? EXIT.RUNS_FAILED : EXIT.OK;
  } catch (e) {
    progress.stop(false);
    await sink.close().catch(() => undefined);
    const hint = `Run the same command again to resume${o.output ? ` into ${o.output}` : ''}.`;
    if (ctx.signal.aborted) throw new InterruptedError(hint);
    if (e instanceof TgError && e.exitCode === EXIT.API) throw new TgError(e.code, e.message, e.exitCode, hint);
    throw e;
  }
}

async function fetchRun(runId: string, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const run = await client.getRun(runId, ctx.signal);
  let output = null;
  if (run.status === 'completed') {
    const r = await client.getResult(runId, 30, ctx.signal);
    output = r?.output ?? null;
  }
  const line = { type: 'task_run.state', event_id: null, input: null, run, output };
  ctx.io.stdout.write(JSON.stringify(line) + '\n');
  if (run.status === 'failed' || run.status === 'cancelled') return EXIT.RUNS_FAILED;
  if (run.status !== 'completed') ctx.warn(`tg: run ${runId} is ${run.status}; no result yet`);
  return EXIT.OK;
}

/**
 * --join: pass 1 streams the group's runs into a temporary file and indexes them by tg_key (the
 * index holds only keys and offsets); pass 2 reads the input in order and appends each row's
 * result. The output is written to a temporary file and renamed, so a rerun simply starts over.
 */
async function fetchJoin(o: FetchOptions & { group: string; join: string }, ctx: Context): Promise<number> {
  const inFormat = detectFormat(o.join);
  const client = await ctx.client();
  await client.getGroup(o.group, ctx.signal);
  const outFormat = o.format ?? (inFormat === 'csv' ? 'csv' : 'jsonl');
  const file = path.resolve(ctx.io.cwd, o.join);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-join-'));
  const store = path.join(tmpDir, 'runs.jsonl');
  const fd = fs.openSync(store, 'w+', 0o600);
  const index = new Map<string, { off: number; len: number }>();
  let pos = 0;
  let dupKeys = 0;
  const outNames: string[] = [];
  const outNameSet = new Set<string>();
  try {
    for await (const ev of client.streamRuns(o.group, { includeOutput: true, signal: ctx.signal, giveUpMs: ctx.giveUpMs })) {
      if (ev.type !== 'task_run.state') continue;
      const key = ev.run.metadata?.tg_key;
      if (key === undefined) continue;
      const flat = flatten({ run: ev.run, output: ev.output });
      for (const k of Object.keys(flat)) if (!outNameSet.has(k)) (outNameSet.add(k), outNames.push(k));
      const b = Buffer.from(JSON.stringify(flat));
      fs.writeSync(fd, b, 0, b.length, pos);
      const k = String(key);
      if (index.has(k)) dupKeys++;
      else index.set(k, { off: pos, len: b.length });
      pos += b.length;
    }
    const outCols = orderColumns(outNames.length ? outNames : ['run_id', 'status', 'error']);
    const dest = o.output ? path.resolve(ctx.io.cwd, o.output) : null;
    const tmpOut = dest ? `${dest}.${process.pid}.tmp` : null;
    const out: NodeJS.WritableStream = tmpOut ? fs.createWriteStream(tmpOut) : ctx.io.stdout;
    const write = (s: string) => (out.write(s) ? undefined : new Promise<void>((r) => out.once('drain', () => r())));
    const { rows } = readRows(file, inFormat);
    let header: string[] | null = null;
    let rename: Record<string, string> = {};
    let missing = 0;
    let failed = 0;
    let count = 0;
    for await (const row of rows) {
      count++;
      const key = o.key !== undefined ? String((row.value as Record<string, unknown>)?.[o.key] ?? '') : String(row.index + 1);
      const at = index.get(key);
      const res: Record<string, unknown> = at ? JSON.parse(readAt(fd, at.off, at.len)) : {};
      if (!at || (res.status !== 'completed' && res.status !== 'failed' && res.status !== 'cancelled')) missing++;
      if (res.status === 'failed' || res.status === 'cancelled') failed++;
      if (outFormat === 'csv') {
        const v = (row.value && typeof row.value === 'object' ? row.value : { input: row.value }) as Record<string, unknown>;
        if (!header) {
          const inCols = Object.keys(v);
          rename = {};
          for (const c of outCols) rename[c] = inCols.includes(c) ? `tg_${c}` : c;
          header = inCols;
          const p = write(csvLine([...inCols, ...outCols.map((c) => rename[c])]) + '\n');
          if (p) await p;
        }
        const p = write(csvLine([...header.map((c) => v[c]), ...outCols.map((c) => res[c])]) + '\n');
        if (p) await p;
      } else {
        const base = row.value && typeof row.value === 'object' && !Array.isArray(row.value) ? { ...(row.value as object) } : { input: row.value };
        const p = write(JSON.stringify({ ...base, tg: at ? res : null }) + '\n');
        if (p) await p;
      }
    }
    if (tmpOut && dest) {
      await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((e?: Error | null) => (e ? reject(e) : resolve())));
      const fdOut = fs.openSync(tmpOut, 'r+');
      fs.fsyncSync(fdOut);
      fs.closeSync(fdOut);
      fs.renameSync(tmpOut, dest);
    }
    if (missing) ctx.warn(`tg: ${missing} of ${count} rows have no result yet (left blank)`);
    if (dupKeys) ctx.warn(`tg: ${dupKeys} runs share a tg_key with an earlier run; the first was used`);
    ctx.info(`tg: joined ${count} rows of ${o.join} with ${index.size} runs of ${o.group}${o.output ? ` into ${o.output}` : ''}`);
    return failed ? EXIT.RUNS_FAILED : EXIT.OK;
  } catch (e) {
    if (ctx.signal.aborted) throw new InterruptedError('Run the same command again: the join starts over.');
    if (e instanceof ApiError) throw e;
    if (e instanceof TgError) throw e;
    throw inputError(`--join failed: ${(e as Error).message}`);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

function readAt(fd: number, off: number, len: number): string {
  const b = Buffer.alloc(len);
  fs.readSync(fd, b, 0, len, off);
  return b.toString('utf8');
}


