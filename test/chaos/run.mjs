// npm run chaos [-- --trials 50] [--seed S]: the long chaos run. Prints each trial's seed, faults,
// kills and findings, then a summary; exits 1 if any invariant broke. Replay one: --seed S --trials 1.
import { trial } from './harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const trials = arg('trials', 50);
const first = arg('seed', Math.floor(Math.random() * 2 ** 31));
const started = Date.now();
const totals = {
  trials: 0,
  rows: 0,
  failedRuns: 0,
  kills: 0,
  lost: 0,
  duplicates: 0,
  badTrials: 0,
  posts: 0,
  lostResponses: 0,
  errors: 0,
  drops: 0,
  r429: 0,
  resent: 0,
  withheld: 0,
  repeats: 0,
};
/** @type {Record<string, number>} trials per fault kind */
const faultTrials = {};
const variations = {};
for (let i = 0; i < trials; i++) {
  const seed = (first + i) >>> 0;
  const t0 = Date.now();
  let s;
  try {
    s = await trial(seed);
  } catch (e) {
    // A trial that could not even be checked is a finding too, not the end of the run.
    s = {
      seed,
      rows: 0,
      batch: 0,
      rate: '',
      together: false,
      faults: '',
      kills: {},
      variations: {},
      failed: 0,
      stats: { addRunsPosts: 0, responsesLost: 0, errorsInjected: 0, streamsDropped: 0, rateLimited: 0, eventsResent: 0, eventsDropped: 0 },
      pipe: '',
      problems: [`trial crashed: ${String(/** @type {any} */ (e)?.message ?? e).slice(0, 300)}`],
    };
  }
  const k = Object.values(s.kills).reduce((a, b) => a + b, 0);
  totals.trials++;
  totals.rows += s.rows;
  totals.failedRuns += s.failed;
  totals.kills += k;
  totals.posts += s.stats.addRunsPosts;
  totals.lostResponses += s.stats.responsesLost;
  totals.errors += s.stats.errorsInjected;
  totals.drops += s.stats.streamsDropped;
  totals.r429 += s.stats.rateLimited;
  totals.resent += s.stats.eventsResent;
  totals.withheld += s.stats.eventsDropped;
  for (const f of s.faults.split(', ')) if (f) faultTrials[f.split(' ')[0]] = (faultTrials[f.split(' ')[0]] ?? 0) + 1;
  for (const [v, n] of Object.entries(s.variations)) variations[v] = (variations[v] ?? 0) + n;
  // issue L's variations: repeated rows (content identity), --no-dedupe, --escalate
  if (s.rows && (s.distinct ?? s.rows) < s.rows)
    variations[`repeated rows (${s.dedupe ? 'sent once' : '--no-dedupe'})`] =
      (variations[`repeated rows (${s.dedupe ? 'sent once' : '--no-dedupe'})`] ?? 0) + 1;
  if (s.rows && !s.dedupe) variations['--no-dedupe'] = (variations['--no-dedupe'] ?? 0) + 1;
  totals.repeats += s.rows - (s.distinct ?? s.rows);
  if (s.problems.length) totals.badTrials++;
  for (const p of s.problems) {
    if (/duplicate|twice/.test(p)) totals.duplicates++;
    if (/without a run|missing/.test(p)) totals.lost++;
  }
  const kills =
    Object.entries(s.kills)
      .map(([c, n]) => `${c}×${n}`)
      .join(' ') || 'none';
  const vars =
    Object.entries(s.variations)
      .map(([c, n]) => `${c}×${n}`)
      .join(' ') || 'none';
  console.log(
    `trial ${i + 1}/${trials} seed ${seed}: ${s.rows} rows, batch ${s.batch}, rate ${s.rate}${s.together ? ', submit --watch' : ''}, closed pipe: ${s.pipe}; faults: ${s.faults}; SIGKILLs: ${kills}; reruns: ${vars}; ${s.failed} failed runs; ${((Date.now() - t0) / 1000).toFixed(1)} s → ${s.problems.length ? `FAIL: ${s.problems.join('; ')}` : 'ok'}`,
  );
}
console.log(
  `\nchaos: ${totals.trials} trials (first seed ${first}), ${totals.rows} rows (${totals.repeats} repeating another row), ${totals.kills} SIGKILLs, ` +
    `faults injected: ${totals.lostResponses} lost add-runs responses, ${totals.errors} 5xx, ${totals.drops} dropped streams, ${totals.r429} 429s, ${totals.resent} re-sent events, ${totals.withheld} runs without an event, ${totals.failedRuns} failed runs; ` +
    `trials per fault: ${Object.entries(faultTrials)
      .map(([c, n]) => `${c}×${n}`)
      .join(', ')}; ` +
    `reruns and results-side variations: ${Object.entries(variations)
      .map(([c, n]) => `${c}×${n}`)
      .join(', ')}; ` +
    `findings: ${totals.badTrials} trials with a broken invariant (${totals.lost} losses, ${totals.duplicates} duplicates); ${((Date.now() - started) / 60000).toFixed(1)} min`,
);
process.exitCode = totals.badTrials ? 1 : 0;
