// `tg fetch G --join rows.csv`: the input rows, in order, with each row's result appended.
//
// Pass 1 streams the group's runs (with their stored input and output) into a RunIndex (a
// temporary file indexed by tg_key). Pass 2 reads the input in order and joins each row to its run
// (core/join.ts: key and stored input, so a re-sorted input or two files sent into one group never
// gives a row another row's answer). A run whose input differs from its row is an error naming the
// rows; a join where no key matched at all is an error suggesting --key; open rows give exit 5.
// The output goes to an exclusive temporary file renamed into place (io/tempOutput.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context';
import { ClosedPipeError, EXIT, InterruptedError } from '../../errors';
import { count } from '../../core/util';
import { csvLine, orderColumns } from '../../core/flatten';
import { JoinTally, runOf } from '../../core/join';
import { detectFormat, readRows, type Row } from '../../io/rows';
import { stdoutError, writeOut } from '../../io/output';
import { RunIndex } from '../../io/runIndex';
import { checkJoinTarget, TempOutput } from '../../io/tempOutput';
import type { FetchOptions } from '../../options';

type JoinOptions = FetchOptions & { group: string; join: string };

export async function fetchJoin(o: JoinOptions, ctx: Context): Promise<number> {
  const inFormat = detectFormat(o.join);
  const file = path.resolve(ctx.io.cwd, o.join);
  const dest = o.output ? path.resolve(ctx.io.cwd, o.output) : null;
  if (dest) checkJoinTarget(dest, file, Boolean(o.force), 'fetch --join');
  const client = await ctx.client();
  await client.getGroup(o.group, ctx.signal);
  const index = new RunIndex();
  try {
    const idleMs = Math.min(ctx.giveUpMs, 60_000);
    await index.load(client.streamRuns(o.group, { includeInput: true, includeOutput: true, signal: ctx.signal, giveUpMs: ctx.giveUpMs, idleMs }));
    const outFormat = o.format ?? (inFormat === 'csv' ? 'csv' : 'jsonl');
    const target = dest ? TempOutput.create(dest) : null;
    let r: JoinTally;
    try {
      // A pipe (mkfifo, <(…)) can be read once: it is checked as it is written, as -o files are.
      // Rows with the wrong number of fields are read as rows (never sent), as submit --skip-invalid reads them.
      const rows = () => readRows(file, inFormat, file, { ragged: true });
      if (!target && fs.statSync(file, { throwIfNoEntry: false })?.isFile()) await verifyJoin(rows(), index, o);
      r = await writeJoined(rows(), index, target ? target.stream : ctx.io.stdout, outFormat, o);
      r.check(index, o);
      if (target) await target.commit({ tg: 'join', group: o.group, input: file });
    } finally {
      target?.discard();
    }
    return report(r, index, o, ctx);
  } catch (e) {
    if (e instanceof ClosedPipeError || stdoutError(e) instanceof ClosedPipeError) return EXIT.CLOSED_PIPE;
    if (ctx.signal.aborted) throw new InterruptedError('Run the same command again: the join starts over.');
    throw e;
  } finally {
    index.close();
  }
}

/** One row's run, counted into the tally (a ragged row was never sent: its key may be another row's). */
function joinRow(t: JoinTally, row: Row, index: RunIndex, key: string | undefined) {
  const k = key !== undefined ? String((row.value as Record<string, unknown>)?.[key] ?? '') : String(row.index + 1);
  const { run, keyed } = row.invalid ? { run: null, keyed: false } : runOf(row.value, k, index);
  t.add(row.line, !row.invalid, run, keyed);
  return run;
}

/** To stdout, whatever is written cannot be taken back: check every row of a file first (a read of it, nothing written). */
async function verifyJoin(rows: AsyncIterable<Row>, index: RunIndex, o: JoinOptions): Promise<void> {
  const t = new JoinTally();
  for await (const row of rows) joinRow(t, row, index, o.key);
  t.check(index, o);
}

/** Pass 2: every input row in order, with its run's columns (CSV) or as `tg` (JSONL). */
async function writeJoined(rows: AsyncIterable<Row>, index: RunIndex, out: NodeJS.WritableStream, format: 'jsonl' | 'csv', o: JoinOptions) {
  const t = new JoinTally();
  const outCols = orderColumns(index.outNames.length ? index.outNames : ['run_id', 'status', 'error']);
  const safe = !o.rawCsv;
  let header: string[] | null = null;
  for await (const row of rows) {
    const run = joinRow(t, row, index, o.key);
    const res = run?.flat ?? {};
    let text: string;
    if (format === 'csv') {
      const v = (row.value && typeof row.value === 'object' ? row.value : { input: row.value }) as Record<string, unknown>;
      if (!header) {
        header = Object.keys(v);
        const inCols = header;
        await writeOut(out, csvLine([...inCols, ...outCols.map((c) => (inCols.includes(c) ? `tg_${c}` : c))]) + '\n');
      }
      text = csvLine([...header.map((c) => v[c]), ...outCols.map((c) => res[c])], safe);
    } else {
      const base = row.value && typeof row.value === 'object' && !Array.isArray(row.value) ? { ...(row.value as object) } : { input: row.value };
      text = JSON.stringify({ ...base, tg: run ? res : null });
    }
    await writeOut(out, text + '\n');
  }
  return t;
}

function report(r: JoinTally, index: RunIndex, o: JoinOptions, ctx: Context): number {
  ctx.info(`tg: joined ${count(r.rows, 'row')} of ${o.join} with ${count(index.runs, 'run')} of ${o.group}${o.output ? ` into ${o.output}` : ''}`);
  if (r.openCount) {
    const more = r.openCount > r.open.length ? ` and ${r.openCount - r.open.length} more` : '';
    ctx.warn(`tg: ${r.openCount} of ${r.rows} rows have no finished run yet (left blank): line ${r.open.join(', ')}${more}`);
    return EXIT.PENDING;
  }
  return r.failed ? EXIT.RUNS_FAILED : EXIT.OK;
}
