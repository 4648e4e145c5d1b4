// `tg fetch G --join rows.csv`: the input rows, in order, each with its run's answer appended, in
// the enriched layout of `submit --watch -o` (flows/enriched.ts), in any format tg writes.
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
import { count, flat } from '../../core/util';
import { JoinTally, runOf } from '../../core/join';
import { formatByExtension, formatOf, openRows, type Format, type Row, type RowSource } from '../../io/formats';
import { stdoutError } from '../../io/output';
import { RunIndex } from '../../io/runIndex';
import { checkJoinTarget, TempOutput } from '../../io/tempOutput';
import { outputFields, writeEnriched, type RowJoin } from '../../flows/enriched';
import { inputDelimiter, openTable, tableFormat } from '../../flows/tables';
import type { FetchOptions } from '../../options';

type JoinOptions = FetchOptions & { group: string; join: string };

export async function fetchJoin(o: JoinOptions, ctx: Context): Promise<number> {
  const file = path.resolve(ctx.io.cwd, o.join);
  const rows = () => openRows(file, { shown: o.join, delimiter: o.delimiter, encoding: o.encoding, sheet: o.sheet, ragged: true });
  const inFormat = formatOf(o.join);
  const outFormat = tableFormat(o.format ?? (o.output ? formatByExtension(o.output)?.name : undefined) ?? defaultFormat(inFormat), o.output, ctx);
  const dest = o.output ? path.resolve(ctx.io.cwd, o.output) : null;
  if (dest) checkJoinTarget(dest, file, Boolean(o.force), 'fetch --join');
  const client = await ctx.client();
  await client.getGroup(o.group, ctx.signal);
  const index = new RunIndex(true);
  try {
    const idleMs = Math.min(ctx.giveUpMs, 60_000);
    await index.load(client.streamRuns(o.group, { includeInput: true, includeOutput: true, signal: ctx.signal, giveUpMs: ctx.giveUpMs, idleMs }));
    const target = dest ? TempOutput.create(dest) : null;
    let r: JoinTally;
    try {
      // A pipe (mkfifo, <(…)) can be read once: it is checked as it is written, as -o files are.
      if (!target && fs.statSync(file, { throwIfNoEntry: false })?.isFile()) await verifyJoin(rows(), index, o);
      r = await writeEnriched(rows(), index, {
        fields: outputFields(index.taskSpec, index.outNames),
        spec: index.taskSpec,
        reasoning: false,
        raw: Boolean(o.rawCsv),
        join: (row) => joinOf(row, o.key),
        open: (columns, src) => openTable(outFormat, target?.stream ?? ctx.io.stdout, columns, { bom: o.bom, delimiter: o.delimiter ?? inputDelimiter(src) }),
      });
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

/** Without --format or an -o extension: text-celled inputs give CSV (TSV for TSV), others JSONL. */
function defaultFormat(input: Format): string {
  return input.name === 'tsv' ? 'tsv' : input.textCells ? 'csv' : 'jsonl';
}

/** A row's key (--key's column, else its row number); a ragged row was never sent, so its key may be another row's. */
function joinOf(row: Row, key: string | undefined): RowJoin {
  if (row.invalid) return { key: null, expected: false };
  return { key: key !== undefined ? String((row.value as Record<string, unknown>)?.[key] ?? '') : String(row.index + 1), expected: true };
}

/** To stdout, whatever is written cannot be taken back: check every row of a file first (a read of it, nothing written). */
async function verifyJoin(src: RowSource, index: RunIndex, o: JoinOptions): Promise<void> {
  const t = new JoinTally();
  for await (const row of flat(src.batches)) {
    const j = joinOf(row, o.key);
    const { run, keyed } = j.key === null ? { run: null, keyed: false } : runOf(row.value, j.key, index);
    t.add(row.line, j.expected, run, keyed);
  }
  t.check(index, o);
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
