// `tg jobs`: the submits this machine knows, from its journals in $TG_STATE_DIR/journals/, newest
// activity first, each with its group's progress (GET /v1/tasks/groups/{id}, a few at a time) and
// its cost so far. A journal of another API, a group that is gone, a damaged journal: each is a
// line that says so, never an error. Output: a table on a terminal, tab-separated lines in a pipe
// (as `gh run list`), JSON Lines with --json.
import type { Context } from '../../context';
import { ApiError, EXIT, TgError } from '../../errors';
import type { JobsOptions } from '../../options';
import type { TaskGroup } from '../../core/wire';
import { count, shownPath } from '../../core/util';
import { formatUsd } from '../../core/pricing';
import { apiOrigin, stateDir } from '../../flows/state';
import { journalFiles, readLocalJob, type LocalJob } from './local';
import { jobView, tableText, tsvLines, type GroupAnswer, type JobView } from './view';

/** Group requests in flight at once. */
const PARALLEL = 4;

export async function jobs(o: JobsOptions, ctx: Context): Promise<number> {
  const dir = stateDir(ctx);
  const origin = apiOrigin(ctx);
  const all = journalFiles(dir)
    .map(readLocalJob)
    .sort((a, b) => b.activityMs - a.activityMs || a.journal.localeCompare(b.journal));
  const shown = all.slice(0, o.limit ?? 20);
  const { answers, failure } = await askGroups(shown, origin, ctx);
  const views = shown.map((l) => jobView(l, l.group === null ? null : (answers.get(l.group) ?? null), origin));
  print(views, ctx);
  if (!all.length) ctx.info(`tg: no jobs in ${shownPath(dir, ctx.io.cwd, ctx.io.env.HOME)}/journals (tg submit keeps one journal there per input and API)`);
  if (all.length > shown.length) ctx.info(`tg: showing the ${shown.length} of ${all.length} jobs with the newest activity (--limit ${o.limit})`);
  footer(views, ctx);
  if (failure) throw failure;
  return EXIT.OK;
}

/**
 * The groups of the jobs sent to this API, each asked once (GETs, PARALLEL at a time, few retries).
 * `failure`: the error to end with when every request failed (exit 4, or 3 for a refused key).
 */
async function askGroups(jobs: LocalJob[], origin: string, ctx: Context): Promise<{ answers: Map<string, GroupAnswer>; failure: TgError | null }> {
  const answers = new Map<string, GroupAnswer>();
  const ids = [...new Set(jobs.filter((j) => j.origin === origin && j.group !== null).map((j) => j.group as string))];
  if (!ids.length) return { answers, failure: null };
  if (!ctx.global.emulator && !(ctx.global.apiKey ?? ctx.io.env.PARALLEL_API_KEY)) {
    ctx.warn(`tg: warning: no API key (PARALLEL_API_KEY): the groups were not asked; the counts are the journals' own`);
    for (const id of ids) answers.set(id, { kind: 'not-asked', why: 'no API key: the group was not asked' });
    return { answers, failure: null };
  }
  const client = await ctx.client();
  const errors: TgError[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      try {
        const g = await client.requestJson<TaskGroup>('GET', client.groupsPath(`/${encodeURIComponent(id)}`), { signal: ctx.signal, retries: 2 });
        answers.set(id, { kind: 'ok', group: g });
      } catch (e) {
        if (ctx.signal.aborted) throw e;
        if (e instanceof ApiError && e.status === 404) answers.set(id, { kind: 'gone' });
        else {
          const err = e instanceof TgError ? e : new TgError('network', String((e as Error)?.message ?? e), { cause: e });
          errors.push(err);
          answers.set(id, { kind: 'failed', message: err.message });
        }
      }
    }
  };
  ctx.display.phase(`asking ${count(ids.length, 'group')}`);
  try {
    await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker));
  } finally {
    ctx.display.phase('');
  }
  if (errors.length && errors.length < ids.length) ctx.warn(`tg: warning: ${errors.length} of ${ids.length} groups could not be asked: ${errors[0].message}`);
  return { answers, failure: errors.length === ids.length ? allFailed(errors[0], ids.length) : null };
}

function allFailed(first: TgError, n: number): TgError {
  const auth = first.exitCode === EXIT.AUTH;
  return new TgError(auth ? first.code : 'network', `none of the ${count(n, 'group')} could be asked: ${first.message}`, {
    hint: auth
      ? 'The API refused the key: check PARALLEL_API_KEY (or --api-key) and --base-url. The lines above are what the journals record.'
      : 'Check the network and --base-url, then run tg jobs again. The lines above are what the journals record.',
    cause: first,
  });
}

function print(views: JobView[], ctx: Context) {
  const out = ctx.io.stdout;
  if (ctx.global.json) out.write(views.map((v) => JSON.stringify(v) + '\n').join(''));
  else if (ctx.io.stdoutIsTTY) {
    if (views.length)
      out.write(tableText(views, { now: ctx.clock.now(), cwd: ctx.io.cwd, home: ctx.io.env.HOME, width: (out as { columns?: number }).columns }));
  } else out.write(tsvLines(views));
}

/** On stderr: what the jobs shown cost so far, each group once; failed and cancelled runs counted apart. */
function footer(views: JobView[], ctx: Context) {
  if (ctx.global.json) return;
  const seen = new Set<string>();
  let usd = 0;
  let failed = 0;
  let cancelled = 0;
  let priced = 0;
  for (const v of views) {
    if (v.group === null || v.completed === null || seen.has(v.group)) continue;
    seen.add(v.group);
    failed += v.failed ?? 0;
    cancelled += v.cancelled ?? 0;
    if (v.cost_usd !== null) {
      usd += v.cost_usd;
      priced++;
    }
  }
  if (!seen.size) return;
  const apart = failed || cancelled ? `; ${count(failed, 'failed run')} and ${count(cancelled, 'cancelled run')} not counted` : '';
  ctx.info(`tg: cost so far ${formatUsd(usd)} over ${count(priced, 'group')} (completed runs × the price per run of each job's processor${apart})`);
}
