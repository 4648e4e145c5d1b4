// The chaos harness: one trial = one emulator with combined faults, one generated input, and
// submit / watch / fetch each SIGKILLed at random moments and rerun until they finish. Besides
// request faults the event stream re-sends and withholds events; a `fetch -o` runs while the group
// is still active (exit 5 while runs are pending, a later fetch completes the file); and one
// command's stdout is closed by its reader (`| head -n K`: exit 141, a rerun completes). Then the
// invariants, checked through the API (faults switched off) and the files:
//   - every distinct row content → exactly one run (content identity: a repeated row, a re-sorted
//     copy sends nothing; with --no-dedupe every row → exactly one run), with the row's input;
//   - --escalate: every content at most one escalation, exactly those whose answer was low;
//   - every terminal run → exactly one line in each results file; no partial line;
//   - the results equal, as sets, a fault-free read of the group (run id, status, output, error).
// Everything random comes from the trial's seed, printed first, so a failure can be replayed
// A kill lands when the command has made a seeded amount of progress (runs created, result lines
// written), never at a wall-clock moment, so a replay reproduces the faults and the kill points
// (though not every interleaving of the emulator's timers).
import { readFileSync, readdirSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { emulator, runTg, groupRuns, tmp, tg, lineCount, pipeToHead } from '../helpers.mjs';

export const VARIATIONS = ['same', 'group', 'cwd', 'symlink', 'stdin', 'deleted-journal', 'corrupted-journal', 'concurrent', 'resorted'];

/**
 * The faults, sizes and kill schedule of a trial, all from its seed.
 * @param {number} seed
 */
export function plan(seed) {
  const r = tg.mulberry32(seed); // the emulator's own seeded stream
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const on = (p) => r() < p;
  const faults = {
    loseResponses: on(0.7) ? +(0.05 + r() * 0.25).toFixed(2) : 0,
    errorRate: on(0.7) ? +(0.03 + r() * 0.12).toFixed(2) : 0,
    dropStreamsAfter: on(0.7) ? 10 + Math.floor(r() * 90) : 0,
    failRate: on(0.7) ? +(0.05 + r() * 0.2).toFixed(2) : 0,
    // a server window tighter than the client budget → 429 storms
    rateLimit: on(0.5) ? { limit: 300, windowMs: 1000 } : null,
    resendEvents: 0,
    dropEvents: 0,
  };
  const rows = 200 + Math.floor(r() * 600);
  // The results-side faults (issue G) from a stream of their own, so the choices above stay what
  // they were for a given seed.
  const g = tg.mulberry32((seed ^ 0x67c4a05) >>> 0);
  faults.resendEvents = g() < 0.6 ? +(0.02 + g() * 0.2).toFixed(2) : 0;
  faults.dropEvents = g() < 0.6 ? +(0.01 + g() * 0.1).toFixed(2) : 0;
  // Issue L's choices, from a stream of their own: repeated rows, --no-dedupe, --escalate.
  const l = tg.mulberry32((seed ^ 0x1d2e3f4) >>> 0);
  const repeats = l() < 0.6 ? +(0.05 + l() * 0.3).toFixed(2) : 0;
  const dedupe = l() >= 0.2;
  const escalate = l() < 0.4;
  return {
    seed,
    faults,
    rows,
    repeats,
    dedupe,
    escalate,
    /** Row i (1-based) → the row whose content it has (itself, or the first of those it repeats). */
    contentOf: (() => {
      const c = [0];
      for (let i = 1; i <= rows; i++) c.push(i > 1 && l() < repeats ? c[1 + Math.floor(l() * (i - 1))] : i);
      return c;
    })(),
    /** A seeded permutation, for the re-sorted copy. */
    shuffle: (xs) => {
      const a = [...xs];
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(l() * (i + 1));
        [a[i], a[j]] = [a[j], a[i]];
      }
      return a;
    },
    /** fetch -o while the group is still active, before the final fetch. */
    activeFetch: g() < 0.7,
    /** Whose stdout is closed by `| head -n K`, and K. */
    closedPipe: /** @type {'submit' | 'watch' | 'fetch'} */ (['submit', 'watch', 'fetch'][Math.floor(g() * 3)]),
    headLines: 1 + Math.floor(g() * Math.floor(rows / 4)),
    batchSize: pick([25, 50, 100, 250]),
    rate: faults.rateLimit ? '500/1s' : pick(['off', '1000/1s']),
    together: on(0.5), // submit --watch -o instead of submit, then watch
    /** How much further a command gets before its SIGKILL (runs created / lines written). */
    killAfter: () => 1 + Math.floor(r() * Math.ceil(rows / 3)),
    // How the user reruns submit after each kill (issue F): the group is the ledger, whatever they do.
    variation: () => pick(VARIATIONS),
  };
}

const project = (l) => JSON.stringify([l.run.run_id, l.run.status, l.output?.content ?? null, l.run.error?.message ?? null]);

function readLines(file, problems, what) {
  if (!existsSync(file)) {
    problems.push(`${what}: no file`);
    return [];
  }
  const text = readFileSync(file, 'utf8');
  if (text && !text.endsWith('\n')) problems.push(`${what}: partial last line`);
  const out = [];
  text.split('\n').forEach((l, i) => {
    if (!l) return;
    try {
      out.push(JSON.parse(l));
    } catch {
      problems.push(`${what}:${i + 1}: not JSON`);
    }
  });
  return out;
}

/**
 * Run a command, SIGKILLing it at planned points of its progress, until it exits by itself (or maxKills).
 * @param {string[]} args
 * @param {{ cwd: string, env?: Record<string, string> }} opts
 * @param {ReturnType<typeof plan>} p
 * @param {Record<string, number>} counts
 * @param {string} name
 * @param {() => number} progress
 */
async function untilDone(args, opts, p, counts, name, progress, maxKills = 5) {
  for (let k = 0; ; k++) {
    const target = progress() + p.killAfter();
    const r = await runTg(args, { ...opts, killWhen: k < maxKills ? () => progress() >= target : undefined });
    if (r.signal === 'SIGKILL') {
      counts[name] = (counts[name] ?? 0) + 1;
      continue;
    }
    return r;
  }
}

/** The first group a journal under the state dir records (null before one was created). */
function groupFromJournals(stateDir) {
  const dir = path.join(stateDir, 'journals');
  if (!existsSync(dir)) return null;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    const text = readFileSync(path.join(dir, name), 'utf8');
    const m = /"t":"group","id":"(tgrp_\w+)"/.exec(text) ?? /"g":"(tgrp_\w+)"/.exec(text);
    if (m) return m[1];
  }
  return null;
}

/**
 * submit, SIGKILLed at planned moments and rerun each time in a way a user might: the same
 * command, with --group, from another directory, through a symlink, from stdin, after deleting
 * or corrupting the journal, or twice at once. Returns the last (unkilled) result.
 */
async function submitUntilDone(args, f, d, env, p, counts, variations, progress, afterKill = async () => {}, maxKills = 5) {
  const text = readFileSync(f, 'utf8');
  const other = path.join(d, 'elsewhere');
  mkdirSync(other, { recursive: true });
  const link = path.join(other, 'link.csv');
  if (!existsSync(link)) symlinkSync(f, link);
  const stateDir = env.TG_STATE_DIR;
  let v = 'same';
  let known = null; // the group id tg printed: a user who lost the journal passes it with --group
  for (let k = 0; ; k++) {
    const recorded = groupFromJournals(stateDir);
    const group = (known = recorded ?? known);
    const withGroup = group ? ['--group', group] : [];
    let a = !recorded && group ? [...args, ...withGroup] : args;
    let o = { cwd: d, env };
    if (k > 0) v = p.variation();
    if (v === 'group') a = [...args, ...withGroup];
    else if (v === 'symlink') a = a.map((x) => (x === f ? link : x));
    else if (v === 'cwd') o = { cwd: other, env };
    else if (v === 'stdin' && group) ((a = [...args.map((x) => (x === f ? '-' : x)), '--format', 'csv', ...withGroup]), (o = { ...o, input: text }));
    else if (v === 'deleted-journal' && group) (rmSync(path.join(stateDir, 'journals'), { recursive: true, force: true }), (a = [...args, ...withGroup]));
    if (!groupFromJournals(stateDir) && group && !a.includes('--group')) a = [...a, ...withGroup];
    else if (v === 'corrupted-journal') corruptJournal(stateDir, p);
    else if (v === 'resorted' && p.dedupe) a = a.map((x) => (x === f ? resorted(f, p) : x)); // found again by its content
    if (k > 0) variations[v] = (variations[v] ?? 0) + 1;
    const target = progress() + p.killAfter();
    const killWhen = k < maxKills ? () => progress() >= target : undefined;
    const runs = v === 'concurrent' ? [runTg(a, { ...o, killWhen }), runTg(a, o)] : [runTg(a, { ...o, killWhen })];
    const rs = await Promise.all(runs);
    if (process.env.CHAOS_DEBUG)
      console.error(`attempt ${k} ${v}: ${a.join(' ')} → ${rs.map((r) => `${r.code ?? r.signal} ${r.stderr.trim().split('\n').at(-1)}`).join(' / ')}`);
    if (rs.some((r) => r.signal === 'SIGKILL')) {
      counts.submit = (counts.submit ?? 0) + 1;
      await afterKill();
    }
    const ok = rs.find((r) => r.signal === null && r.code !== 2 && r.code !== 75);
    const locked = rs.filter((r) => r.code === 75 && /another tg \(pid/.test(r.stderr));
    if (locked.length) variations['second one locked out'] = (variations['second one locked out'] ?? 0) + locked.length;
    if (ok && !rs.some((r) => r.signal === 'SIGKILL')) return ok;
    const bad = rs.find((r) => r.code === 2 || (r.code === 75 && !/another tg \(pid/.test(r.stderr)));
    if (bad) return bad;
  }
}

/** A re-sorted copy of the input beside it (another path, the rows in another order). */
function resorted(f, p) {
  const [header, ...rows] = readFileSync(f, 'utf8').trimEnd().split('\n');
  const copy = path.join(path.dirname(f), 'resorted.csv');
  writeFileSync(copy, [header, ...p.shuffle(rows)].join('\n') + '\n');
  return copy;
}

function corruptJournal(stateDir, p) {
  const dir = path.join(stateDir, 'journals');
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    const file = path.join(dir, name);
    const lines = readFileSync(file, 'utf8').split('\n');
    if (lines.length < 4) continue;
    const i = 1 + (p.killAfter() % (lines.length - 2));
    lines[i] = lines[i].slice(0, Math.floor(lines[i].length / 2)) + '#garbled';
    writeFileSync(file, lines.join('\n'));
  }
}

/** The checks of one closed pipe: exit 141 and nothing but tg's own lines on stderr. */
function checkClosedPipe(what, r, problems, variations) {
  const tag = `${what} | head`;
  if (r.code === 141) variations[`${tag} → 141`] = (variations[`${tag} → 141`] ?? 0) + 1;
  else if (r.code === 0 || r.code === 1) variations[`${tag}: all lines fit the pipe`] = (variations[`${tag}: all lines fit the pipe`] ?? 0) + 1;
  else problems.push(`${tag}: exit ${r.code}: ${r.stderr.trim().split('\n').at(-1)}`);
  if (/EPIPE|internal error|bug in tg|\n\s+at /.test(r.stderr)) problems.push(`${tag}: ${r.stderr.trim().slice(0, 300)}`);
}

/**
 * `fetch -o` while the group may still be active: exit 5 and fewer lines than runs while any is
 * pending, 0/1 with a line for every run once none is. Nothing else runs meanwhile.
 */
async function activeFetch(e, group, fetched, base, d, problems, variations) {
  const r = await runTg(['fetch', group, '-o', fetched, '-q', ...base], { cwd: d });
  const runs = e.store.groups.get(group)?.runs.length ?? 0;
  const lines = lineCount(fetched);
  const tag = r.code === 5 ? 'fetch -o while active → 5' : 'fetch -o while active: none pending';
  variations[tag] = (variations[tag] ?? 0) + 1;
  if (r.code === 5 && lines >= runs) problems.push(`active fetch: exit 5 but ${lines} lines for ${runs} runs`);
  else if ((r.code === 0 || r.code === 1) && lines !== runs) problems.push(`active fetch: exit ${r.code} but ${lines} lines for ${runs} runs`);
  else if (![0, 1, 5].includes(r.code ?? -1)) problems.push(`active fetch: exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').at(-1)}`);
}

/**
 * The commands of a trial: submit (with --watch -o, or then watch -o), an active-group fetch, a
 * closed stdout, the final fetch. Returns the group.
 */
async function commands(e, p, d, f, files, kills, variations, problems) {
  const base = ['--base-url', e.url];
  const env = { TG_STATE_DIR: path.join(d, 'state') };
  const submit = [
    'submit',
    f,
    '--batch-size',
    String(p.batchSize),
    '--rate',
    p.rate,
    '--rate-unit',
    'runs',
    '--json',
    '-q',
    ...base,
    ...(p.dedupe ? [] : ['--no-dedupe']),
  ];
  let fetchedActive = !p.activeFetch;
  const fetchNow = async (group) => {
    if (fetchedActive || !group) return;
    fetchedActive = true;
    await activeFetch(e, group, files.fetched, base, d, problems, variations);
  };
  if (p.closedPipe === 'submit') {
    // The first submit has its stdout closed part-way; the journal it leaves must resume.
    checkClosedPipe('submit --watch', await pipeToHead([...submit, '--watch'], p.headLines, { cwd: d, env }), problems, variations);
    await fetchNow(groupFromJournals(env.TG_STATE_DIR));
  }
  const afterKill = () => fetchNow(groupFromJournals(env.TG_STATE_DIR));
  let group;
  if (p.together) {
    const progress = () => e.stats.runsCreated + lineCount(files.results);
    const s = await submitUntilDone([...submit, '--watch', '-o', files.results], f, d, env, p, kills, variations, progress, afterKill);
    if (s.code !== 0 && s.code !== 1) problems.push(`submit --watch: exit ${s.code}: ${s.stderr.trim().split('\n').at(-1)}`);
    group = groupFromJournals(env.TG_STATE_DIR);
  } else {
    const s = await submitUntilDone(submit, f, d, env, p, kills, variations, () => e.stats.runsCreated, afterKill);
    if (s.code !== 0) problems.push(`submit: exit ${s.code}: ${s.stderr.trim().split('\n').at(-1)}`);
    group = JSON.parse(s.stdout).taskgroup_id;
    await fetchNow(group);
    if (p.closedPipe === 'watch') checkClosedPipe('watch', await pipeToHead(['watch', group, '-q', ...base], p.headLines, { cwd: d }), problems, variations);
    const w = await untilDone(['watch', group, '-o', files.results, '-q', ...base], { cwd: d }, p, kills, 'watch', () => lineCount(files.results));
    if (w.code !== 0 && w.code !== 1) problems.push(`watch: exit ${w.code}: ${w.stderr.trim().split('\n').at(-1)}`);
  }
  if (p.escalate && group) {
    // Escalate the low-confidence answers once the first answers are in, killed part-way and rerun.
    await runTg(['status', group, '--wait', '-q', ...base], { cwd: d });
    const s = await untilDone([...submit, '--escalate', 'core'], { cwd: d, env }, p, kills, 'escalate', () => e.stats.runsCreated);
    if (s.code !== 0) problems.push(`submit --escalate: exit ${s.code}: ${s.stderr.trim().split('\n').at(-1)}`);
    variations['--escalate core'] = (variations['--escalate core'] ?? 0) + 1;
    const w = await untilDone(['watch', group, '-o', files.results, '-q', ...base], { cwd: d }, p, kills, 'watch', () => lineCount(files.results));
    if (w.code !== 0 && w.code !== 1) problems.push(`watch after --escalate: exit ${w.code}: ${w.stderr.trim().split('\n').at(-1)}`);
  }
  await fetchNow(group);
  const fr = await untilDone(['fetch', group, '-o', files.fetched, '-q', ...base], { cwd: d }, p, kills, 'fetch', () => lineCount(files.fetched));
  if (fr.code !== 0 && fr.code !== 1) problems.push(`fetch: exit ${fr.code}: ${fr.stderr.trim().split('\n').at(-1)}`);
  if (p.closedPipe === 'fetch') checkClosedPipe('fetch', await pipeToHead(['fetch', group, '-q', ...base], p.headLines, { cwd: d }), problems, variations);
  return group;
}

/** The content index of a run ("Company 7" → 7), from its stored input. */
const contentOfRun = (x) => Number(/^Company (\d+)$/.exec(x.input?.input?.name ?? '')?.[1] ?? NaN);

/**
 * Every distinct content one base run (with --no-dedupe: every row one run, under its key), with
 * the row's input; an escalation at most once per row, exactly for the answers that were low.
 */
function checkRuns(p, runs, problems) {
  const base = runs.filter((x) => x.run.metadata?.tg_esc === undefined);
  const esc = runs.filter((x) => x.run.metadata?.tg_esc !== undefined);
  const per = new Map();
  const idOf = (x) => (p.dedupe ? contentOfRun(x) : Number(x.run.metadata?.tg_key));
  for (const x of base) per.set(idOf(x), (per.get(idOf(x)) ?? 0) + 1);
  const want = p.dedupe ? new Set(p.contentOf.slice(1)) : new Set(p.contentOf.map((_, i) => i).slice(1));
  const paidTwice = [...per.values()].filter((n) => n > 1).length;
  if (paidTwice) problems.push(`duplicate runs: ${paidTwice} ${p.dedupe ? 'contents' : 'rows'} sent more than once`);
  const missing = [...want].filter((k) => !per.has(k)).length;
  if (missing) problems.push(`rows without a run: ${missing}`);
  const stray = [...per.keys()].filter((k) => !want.has(k)).length;
  if (stray) problems.push(`runs of no row: ${stray}`);
  for (const x of base) {
    const row = Number(x.run.metadata?.tg_key);
    const c = contentOfRun(x);
    if (
      JSON.stringify(x.input?.input) !== JSON.stringify({ name: `Company ${c}`, website: `https://c${c}.example` }) ||
      (!p.dedupe && p.contentOf[row] !== c)
    ) {
      problems.push(`run ${x.run.run_id}: input ${JSON.stringify(x.input?.input)} is not row ${row}'s`);
      break;
    }
  }
  const escPer = new Map();
  for (const x of esc) escPer.set(idOf(x), (escPer.get(idOf(x)) ?? 0) + 1);
  const twice = [...escPer.values()].filter((n) => n > 1).length;
  if (twice) problems.push(`escalated twice: ${twice}`);
  if (p.escalate) {
    const low = (x) => x.run.status === 'completed' && (x.output?.basis ?? []).some((b) => !String(b.field).includes('.') && b.confidence === 'low');
    const shouldEsc = new Set(base.filter(low).map(idOf));
    const wrong = [...shouldEsc].filter((k) => !escPer.has(k)).length + [...escPer.keys()].filter((k) => !shouldEsc.has(k)).length;
    if (wrong) problems.push(`escalations: ${wrong} rows escalated or not against their answer's confidence`);
  }
}

/** The invariants: every row one run with its input; every terminal run one line per file. */
async function check(e, p, group, files, problems) {
  // The reference: the group read with faults off.
  e.setFaults({ errorRate: 0, loseResponses: 0, dropStreamsAfter: 0 });
  const runs = await groupRuns(e.url, group, undefined, { output: true });
  checkRuns(p, runs, problems);
  const terminal = runs.filter((x) => ['completed', 'failed', 'cancelled'].includes(x.run.status));
  const ref = new Set(terminal.map(project));
  for (const [what, file] of [
    ['watch', files.results],
    ['fetch', files.fetched],
  ]) {
    const lines = readLines(file, problems, what);
    const got = lines.map(project);
    const ids = lines.map((l) => l.run.run_id);
    if (ids.length !== new Set(ids).size) problems.push(`${what}: ${ids.length - new Set(ids).size} duplicate lines`);
    const missingLines = [...ref].filter((x) => !got.includes(x)).length;
    const extra = got.filter((x) => !ref.has(x)).length;
    if (lines.length !== terminal.length || missingLines || extra)
      problems.push(`${what}: ${lines.length} lines for ${terminal.length} terminal runs (${missingLines} missing or different, ${extra} unexpected)`);
  }
  return terminal.filter((x) => x.run.status !== 'completed').length;
}

/**
 * @param {number} seed
 * @param {(summary: object) => void} [log]
 */
export async function trial(seed, log = () => {}) {
  const p = plan(seed);
  const { faults } = p;
  const e = await emulator({ seed, latencyMs: [100, 1500], rateLimitUnit: 'runs', ...faults });
  /** @type {Record<string, number>} */
  const kills = {};
  /** @type {Record<string, number>} */
  const variations = {};
  /** @type {string[]} */
  const problems = [];
  try {
    const d = tmp();
    const f = path.join(d, 'rows.csv');
    writeFileSync(f, ['name,website', ...p.contentOf.slice(1).map((c) => `Company ${c},https://c${c}.example`)].join('\n') + '\n');
    const files = { results: path.join(d, 'results.jsonl'), fetched: path.join(d, 'fetched.jsonl') };
    const group = await commands(e, p, d, f, files, kills, variations, problems);
    if (!group) throw new Error(`no group: ${JSON.stringify(problems)}`);
    const failed = await check(e, p, group, files, problems);
    const summary = {
      seed,
      rows: p.rows,
      distinct: new Set(p.contentOf.slice(1)).size,
      dedupe: p.dedupe,
      escalate: p.escalate,
      batch: p.batchSize,
      rate: p.rate,
      together: p.together,
      pipe: `${p.closedPipe} | head -n ${p.headLines}`,
      faults: fmtFaults(faults),
      kills,
      variations,
      failed,
      stats: { ...e.stats },
      problems,
    };
    log(summary);
    return summary;
  } finally {
    await e.close();
  }
}

export function fmtFaults(f) {
  const parts = [];
  if (f.loseResponses) parts.push(`lose-responses ${f.loseResponses}`);
  if (f.errorRate) parts.push(`error-rate ${f.errorRate}`);
  if (f.dropStreamsAfter) parts.push(`drop-streams-after ${f.dropStreamsAfter}`);
  if (f.failRate) parts.push(`fail-rate ${f.failRate}`);
  if (f.rateLimit) parts.push(`rate-limit ${f.rateLimit.limit}/${f.rateLimit.windowMs / 1000}s`);
  if (f.resendEvents) parts.push(`resend-events ${f.resendEvents}`);
  if (f.dropEvents) parts.push(`drop-events ${f.dropEvents}`);
  return parts.join(', ') || 'none';
}
