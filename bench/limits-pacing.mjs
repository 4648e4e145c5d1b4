// bench:limits (c), pacing: tg submit (default budget, POSTs of `batch` rows) against an emulator
// counting add-runs POSTs in a sliding window (--rate-limit N/W, unit requests). Per window: a
// fresh submit, then a submit signalled (SIGTERM, SIGKILL) once the emulator's stats show a third
// of the POSTs, rerun at once and timed from its start to its exit. Each case on a fresh emulator
// run with --verbose: every POST's status and time comes from its request log, which gives the
// POSTs still in the server's window when the rerun starts and the pacing trace.
//   server minimum = when the last POST could be accepted, sending each as early as the window
//   allows (the rerun's: the POSTs still missing, with the killed run's POSTs still in the window);
//   elapsed ÷ minimum, and the share of POSTs answered 429 (emulator stats: rateLimited ÷
//   (addRunsPosts + rateLimited), over the timed run).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { companiesCsv, loadavg, runChild, startEmulator } from './common.mjs';

/** The server windows and the rows sent against each (POSTs of 10: minimum 80, 78 and 60 s). */
export const PACING = [
  { window: '20/10s', rows: 1800 },
  { window: '10/2s', rows: 4000 },
  { window: '2000/60s', rows: 40_000 },
];

/** "20/10s" → { limit: 20, windowMs: 10000 }. */
export function parseWindow(text) {
  const m = /^(\d+)\/(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (!m) throw new Error(`a window is N/<duration>, e.g. 20/10s (got ${text})`);
  return { limit: Number(m[1]), windowMs: Number(m[2]) * { ms: 1, s: 1000, m: 60_000 }[m[3]] };
}

/**
 * When the last of `posts` POSTs could be accepted by a sliding window of `limit` per `windowMs`
 * (the emulator's rule: a POST at t counts until t + windowMs), each sent as early as allowed from
 * t = 0; `held` are the times (ms, negative: before 0) of POSTs already accepted. Returns ms.
 * @param {{ limit: number, windowMs: number, posts: number, held?: number[] }} o
 */
export function serverMinimum({ limit, windowMs, posts, held = [] }) {
  const log = held.filter((t) => t > -windowMs).sort((a, b) => a - b);
  let lo = 0;
  let t = 0;
  for (let i = 0; i < posts; i++) {
    while (lo < log.length && log[lo] <= t - windowMs) lo++;
    if (log.length - lo >= limit) {
      t = log[log.length - limit] + windowMs;
      while (lo < log.length && log[lo] <= t - windowMs) lo++;
    }
    log.push(t);
  }
  return posts ? t : 0;
}

/**
 * The pacing trace: every `stepMs`, the POSTs accepted and refused in the server's window
 * (t - windowMs, t], with the phase at t.
 * @param {{ t: number, status: number, phase: string }[]} events
 */
export function windowTrace(events, { windowMs, stepMs, endMs, phaseAt }) {
  const rows = [];
  for (let t = stepMs; t <= endMs + stepMs / 2; t += stepMs) {
    const inWin = events.filter((e) => e.t > t - windowMs && e.t <= t);
    rows.push({ t, phase: phaseAt(t), accepted: inWin.filter((e) => e.status < 300).length, refused: inWin.filter((e) => e.status === 429).length });
  }
  return rows;
}

/** Accepted and 429 POSTs per window-long bucket, merged to at most `maxLines`, one text line each. */
export function traceText(events, { limit, windowMs, endMs, maxLines = 16 }) {
  const width = windowMs * Math.max(1, Math.ceil(endMs / windowMs / maxLines));
  const lines = [];
  for (let from = 0; from < endMs; from += width) {
    const inB = events.filter((e) => e.t >= from && e.t < from + width);
    const ok = inB.filter((e) => e.status < 300).length;
    const phases = [...new Set(inB.map((e) => e.phase))].join('+') || '—';
    const bar = '#'.repeat(Math.round((20 * ok) / ((limit * width) / windowMs)));
    lines.push(
      `  ${`${(from / 1000).toFixed(0)}–${((from + width) / 1000).toFixed(0)} s`.padEnd(12)} ${phases.padEnd(13)} ok ${String(ok).padStart(5)}  429 ${String(inB.length - ok).padStart(4)}  ${bar}`,
    );
  }
  return lines;
}

/** An add-runs POST in the emulator's --verbose request log: its status and how long it took. */
export const POST_LOG = /^emulator: POST \S*\/tasks\/groups\/[^/\s]+\/runs\S* (\d{3}) (\d+)ms$/;
const summaryOf = (stderr) => stderr.split('\n').filter((l) => / rows sent|^tg: hint: /.test(l));

/** One case: fresh, or signalled at a third of the POSTs and rerun. Resolves the figures and the events. */
async function pacingCase({ tg, emuBin, dir, file, cfg, rows, batch, kind }) {
  const { limit, windowMs } = parseWindow(cfg.window);
  const posts = Math.ceil(rows / batch);
  const events = [];
  let phase = kind === 'fresh' ? 'fresh' : 'killed';
  const t0 = performance.now();
  const onStderrLine = (l) => {
    const m = POST_LOG.exec(l);
    if (m) events.push({ t: performance.now() - t0 - Number(m[2]), status: Number(m[1]), phase });
  };
  const emuArgs = ['--rate-limit', cfg.window, '--rate-limit-unit', 'requests', '--latency', '1ms..5ms', '--verbose'];
  const emu = await startEmulator(emuBin, emuArgs, { onStderrLine });
  const state = path.join(dir, 'state-pacing');
  rmSync(state, { recursive: true, force: true });
  const env = { ...process.env, PARALLEL_API_KEY: 'bench', TG_STATE_DIR: state, NO_COLOR: '1' };
  const submit = () =>
    runChild(process.execPath, [tg, 'submit', file, '--batch-size', String(batch), '--base-url', emu.url], { cwd: dir, env, emu, label: 'tg submit' });
  try {
    let killedAt = null;
    let before = { addRunsPosts: 0, rateLimited: 0, runsByGroup: {} };
    if (kind !== 'fresh') {
      const first = submit();
      let exited = false;
      first.then(() => (exited = true)).catch(() => {});
      const third = Math.ceil(posts / 3);
      for (let s = await emu.stats(); s.addRunsPosts < third; s = await emu.stats()) {
        if (exited) throw new Error(`tg submit finished before ${third} POSTs; nothing to kill (more rows?)`);
        await new Promise((r) => setTimeout(r, 50));
      }
      first.child.kill(kind);
      await first;
      before = await emu.stats();
      killedAt = before.addRunsPosts;
      phase = 'rerun';
    }
    const start = performance.now() - t0;
    const r = await submit();
    const elapsedMs = performance.now() - t0 - start;
    if (r.code !== 0) throw new Error(`tg submit (${kind === 'fresh' ? 'fresh' : 'rerun'}) exited ${r.code}: ${r.stderr.split('\n').slice(-5).join(' / ')}`);
    const after = await emu.stats();
    const inGroupBefore = Object.values(before.runsByGroup).reduce((a, b) => a + b, 0);
    const held = events.filter((e) => e.phase === 'killed' && e.status < 300).map((e) => e.t - start);
    const remaining = Math.ceil((rows - inGroupBefore) / batch);
    const minMs = serverMinimum({ limit, windowMs, posts: remaining, held });
    const accepted = after.addRunsPosts - before.addRunsPosts;
    const refused = after.rateLimited - before.rateLimited;
    const groups = Object.values(after.runsByGroup);
    return {
      kind,
      posts,
      killedAt,
      remaining,
      minMs,
      elapsedMs,
      accepted,
      refused,
      groups,
      summary: summaryOf(r.stderr),
      events,
      start,
      endMs: performance.now() - t0,
    };
  } finally {
    await emu.stop();
  }
}

/** The SIGKILL case's trace: bench/out/limits-pacing-<window>-sigkill.csv (and -events.csv); returns the text lines. */
function writeTrace(outDir, cfg, c) {
  const { limit, windowMs } = parseWindow(cfg.window);
  const name = `limits-pacing-${cfg.window.replace('/', 'per')}-sigkill`;
  mkdirSync(outDir, { recursive: true });
  const phaseAt = (t) => (t < c.start ? 'killed' : 'rerun');
  const trace = windowTrace(c.events, { windowMs, stepMs: windowMs / 10, endMs: c.endMs, phaseAt });
  const csv = [
    't_s,phase,accepted_in_window,refused_in_window,limit',
    ...trace.map((x) => `${(x.t / 1000).toFixed(2)},${x.phase},${x.accepted},${x.refused},${limit}`),
  ];
  writeFileSync(path.join(outDir, `${name}.csv`), csv.join('\n') + '\n');
  const ev = ['t_s,phase,status', ...c.events.map((e) => `${(e.t / 1000).toFixed(3)},${e.phase},${e.status}`)];
  writeFileSync(path.join(outDir, `${name}-events.csv`), ev.join('\n') + '\n');
  return [
    `pacing trace, server window ${cfg.window}: SIGKILL after ${c.killedAt} POSTs, rerun from ${(c.start / 1000).toFixed(1)} s (accepted and 429 POSTs per bucket; # = share of the limit)`,
    ...traceText(c.events, { limit, windowMs, endMs: c.endMs }),
    `  (bench/out/${name}.csv: POSTs in the server's window every ${windowMs / 10000} s; ${name}-events.csv: every POST)`,
  ];
}

/**
 * Measure pacing; resolves the table's lines.
 * @param {{ tg: string, emuBin: string, dir: string, outDir: string, windows: string[], rows?: number, batch: number, log: (s: string) => void }} o
 */
export async function pacingSide({ tg, emuBin, dir, outDir, windows, rows: rowsOpt, batch, log }) {
  const load0 = loadavg();
  const table = [];
  const notes = [];
  for (const w of windows) {
    const cfg = PACING.find((p) => p.window === w) ?? { window: w, rows: 1800 };
    const rows = rowsOpt ?? cfg.rows;
    const file = await companiesCsv(dir, rows);
    for (const kind of ['fresh', 'SIGTERM', 'SIGKILL']) {
      log(`(c) ${w}, ${rows} rows: ${kind}…`);
      const c = await pacingCase({ tg, emuBin, dir, file, cfg, rows, batch, kind });
      const name = kind === 'fresh' ? 'fresh' : `rerun after ${kind} at ${c.killedAt} POSTs`;
      const ratio = c.minMs > 0 ? `${(c.elapsedMs / c.minMs).toFixed(2)}` : '— (minimum 0)';
      const share = `${c.refused} of ${c.accepted + c.refused} = ${((100 * c.refused) / Math.max(1, c.accepted + c.refused)).toFixed(1)}%`;
      const runs =
        c.groups.length === 1 && c.groups[0] === rows ? `${rows}, 1 group` : `**${c.groups.join('+')} in ${c.groups.length} group(s) for ${rows} rows**`;
      table.push(
        `| ${w} | ${name} | ${c.remaining} of ${c.posts} | ${(c.minMs / 1000).toFixed(1)} s | ${(c.elapsedMs / 1000).toFixed(1)} s | ${ratio} | ${share} | ${runs} |`,
      );
      notes.push(`${w}, ${name}: ${c.summary.join(' / ') || '(no summary line)'}`);
      if (kind === 'SIGKILL') notes.push(...writeTrace(outDir, cfg, c));
      log(`(c) ${w} ${name}: ${(c.elapsedMs / 1000).toFixed(1)} s, minimum ${(c.minMs / 1000).toFixed(1)} s`);
    }
    rmSync(file, { force: true });
  }
  return [
    `(c) Pacing: tg submit (its default budget, --batch-size ${batch}) against tg emulator --rate-limit N/W (requests), --latency 1ms..5ms; load avg ${load0} → ${loadavg()}`,
    '',
    '| server window | case | POSTs to send (of all) | server minimum | elapsed | elapsed ÷ minimum | 429s of POSTs | runs in the group |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...table,
    '',
    "tg's own summary lines, and the pacing trace of each rerun after SIGKILL:",
    ...notes,
  ];
}
