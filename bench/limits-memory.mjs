// bench:limits (b), enriched output memory: peak RSS of `tg submit rows.csv --spec … --watch -o
// enriched.<fmt>` and of `tg fetch G --join rows.csv -o enriched.<fmt>` at each size, each format
// on a fresh emulator (fast runs, no rate limit), and the largest ÷ smallest size. A format the
// build refuses (exit 2, nothing sent) is skipped and said so.
import { closeSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { companiesCsv, countLines, loadavg, startEmulator, timeTg } from './common.mjs';

/**
 * The output formats, one line each: the extension (also the --output-format / --format value),
 * whether the first bytes look right, and the data lines for n rows when the format is text.
 */
export const FORMATS = [
  { ext: 'csv', looks: (head) => !head.startsWith('{') && head.startsWith('company_name,'), lines: (n) => n + 1 },
  { ext: 'jsonl', looks: (head) => head.startsWith('{'), lines: (n) => n },
  { ext: 'xlsx', looks: (head) => head.startsWith('PK') },
  { ext: 'parquet', looks: (head) => head.startsWith('PAR1') },
];

const head = (file) => {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(16);
    return b.subarray(0, readSync(fd, b, 0, 16, 0)).toString('latin1');
  } finally {
    closeSync(fd);
  }
};

/**
 * One tg run writing `out`; resolves {rssMb, secs, mb}, or {refused: tg's first stderr line} when
 * the build refuses it (exit 2 before any request reached the emulator); checks what it wrote.
 */
async function measure(tg, args, { emu, dir, fmt, n, out }) {
  const sent = (await emu.stats()).requests;
  const r = await timeTg(tg, [...args, '-q', '--base-url', emu.url], { cwd: dir, env: { TG_STATE_DIR: path.join(dir, 'state') }, ok: [0, 2], emu });
  if (r.status === 2) {
    const words = r.stderr.split('\n').find(Boolean) ?? '';
    // The stats GETs are requests too: one before, one now.
    if ((await emu.stats()).requests === sent + 1) return { refused: words };
    throw new Error(`tg ${args.join(' ')} exited 2 after sending: ${words}`);
  }
  if (!fmt.looks(head(out))) throw new Error(`tg ${args[0]} -o ${path.basename(out)} wrote no ${fmt.ext} (starts ${JSON.stringify(head(out))})`);
  if (fmt.lines) {
    const lines = await countLines(out);
    if (lines !== fmt.lines(n)) throw new Error(`tg ${args[0]} -o ${path.basename(out)} wrote ${lines} lines for ${n} rows`);
  }
  const mb = statSync(out).size / 1e6;
  for (const f of [out, `${out}.tg.json`]) rmSync(f, { force: true });
  return { rssMb: r.rssMb, secs: r.secs, mb };
}

/**
 * submit --watch -o, then fetch --join of that group, for one size and format, on a fresh
 * emulator. When submit refuses the format, fetch --join is asked first with a group that does
 * not exist (a refusal sends nothing); only if it takes the format is a group made (an unmeasured
 * submit --watch) to measure it on.
 */
async function oneFormat({ tg, emuBin, dir, spec, rows, n, fmt }) {
  const emu = await startEmulator(emuBin, ['--rate-limit', 'off', '--latency', '1ms..5ms']);
  try {
    rmSync(path.join(dir, 'state'), { recursive: true, force: true });
    const out = path.join(dir, `enriched.${fmt.ext}`);
    const opts = { emu, dir, fmt, n, out };
    const submitArgs = ['submit', rows, '--spec', spec, '--rate', 'off', '--watch'];
    const joinArgs = (g) => ['fetch', g, '--join', rows, '--format', fmt.ext, '-o', out];
    const submit = await measure(tg, [...submitArgs, '-o', out, '--output-format', fmt.ext], opts);
    if (submit.refused) {
      const probe = await measure(tg, joinArgs('tgrp_00000000000000000000000000000000'), opts).catch(() => ({ refused: undefined }));
      if (probe.refused) return { submit, join: probe };
      await timeTg(tg, [...submitArgs, '-q', '--base-url', emu.url], { cwd: dir, env: { TG_STATE_DIR: path.join(dir, 'state') }, emu });
    }
    const groups = Object.keys((await emu.stats()).runsByGroup);
    if (groups.length !== 1) throw new Error(`expected the submit's one group, the emulator holds ${groups.length}`);
    return { submit, join: await measure(tg, joinArgs(groups[0]), opts) };
  } finally {
    await emu.stop();
  }
}

/**
 * Measure enriched output memory; resolves the table's lines.
 * @param {{ tg: string, emuBin: string, dir: string, sizes: number[], spec: string, log: (s: string) => void }} o
 */
export async function memorySide({ tg, emuBin, dir, sizes, spec, log }) {
  const load0 = loadavg();
  const cells = { submit: FORMATS.map(() => []), join: FORMATS.map(() => []) };
  for (const n of sizes) {
    const rows = await companiesCsv(dir, n);
    for (const [k, fmt] of FORMATS.entries()) {
      const r = await oneFormat({ tg, emuBin, dir, spec, rows, n, fmt });
      cells.submit[k].push(r.submit);
      cells.join[k].push(r.join);
      const say = (x) => (x.refused ? 'refused' : `${x.rssMb.toFixed(0)} MB`);
      log(`(b) ${n} rows, ${fmt.ext}: submit ${say(r.submit)}, fetch --join ${say(r.join)}`);
    }
    rmSync(rows, { force: true });
  }
  const cell = (x) =>
    x.refused ? 'refused by this build (exit 2, nothing sent)' : `${x.rssMb.toFixed(0)} MB (${x.secs.toFixed(1)} s, ${x.mb.toFixed(0)} MB out)`;
  const ratio = (xs) => (xs.some((x) => x.refused) || xs.length < 2 ? '—' : `${(xs.at(-1).rssMb / xs[0].rssMb).toFixed(2)}×`);
  const lines = [
    `(b) Enriched output memory: peak RSS (/usr/bin/time %M), each format on a fresh emulator (--latency 1ms..5ms --rate-limit off), tg --rate off; load avg ${load0} → ${loadavg()}`,
    '',
    `| command | format | ${sizes.map((n) => `${n} rows`).join(' | ')} | ${sizes.at(-1)} ÷ ${sizes[0]} |`,
    `| --- | --- | ${sizes.map(() => '---').join(' | ')} | --- |`,
  ];
  const names = { submit: '`tg submit rows.csv --spec … --watch -o enriched.<fmt>`', join: '`tg fetch G --join rows.csv -o enriched.<fmt>`' };
  const refusals = new Set();
  for (const kind of ['submit', 'join'])
    FORMATS.forEach((fmt, k) => {
      lines.push(`| ${names[kind]} | ${fmt.ext} | ${cells[kind][k].map(cell).join(' | ')} | ${ratio(cells[kind][k])} |`);
      for (const x of cells[kind][k]) if (x.refused) refusals.add(`${kind === 'submit' ? 'submit' : 'fetch --join'}, ${fmt.ext}: ${x.refused}`);
    });
  if (refusals.size) lines.push('', 'refused, in the words of the build measured:', ...[...refusals].map((r) => `  ${r}`));
  return lines;
}
