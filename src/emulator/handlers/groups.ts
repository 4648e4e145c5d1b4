// Task Group handlers: create, retrieve, add runs, retrieve one run of a group.
import { HttpFail, readBody, v, type Issue, type Reply } from '../http';
import { checkMetadata, checkRunInput, checkSpec, inputWarnings, parseBetas, specWarnings } from '../validate';
import { charge, findGroup, groupJson, runJson, spendCredit, type Call, type EmulatorState } from '../state';
import type { Group, RunExtras } from '../store';

export async function createGroup(c: Call): Promise<Reply> {
  const body = (await readBody(c.req)) ?? {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new HttpFail(422, 'Request validation error', [v(['body'], 'Input should be a valid dictionary', 'dict_type')]);
  const errs = checkMetadata(body.metadata, ['body', 'metadata']);
  if (errs.length) throw new HttpFail(422, `Request validation error: ${errs[0].loc.join('.')}: ${errs[0].msg}`, errs);
  const g = c.st.store.createGroup(body.metadata);
  return { status: 200, body: groupJson(c.st.store, g) };
}

export function retrieveGroup(c: Call): Reply {
  return { status: 200, body: groupJson(c.st.store, findGroup(c.st, c.params.gid)) };
}

export function retrieveGroupRun(c: Call): Reply {
  const g = findGroup(c.st, c.params.gid);
  const run = c.st.store.run(c.params.rid);
  if (!run || run.group !== g) throw new HttpFail(404, 'Run id not found');
  return { status: 200, body: runJson(c.st.store, run) };
}

export async function addRuns(c: Call): Promise<Reply> {
  const { st, req } = c;
  const g = findGroup(st, c.params.gid);
  const refresh = queryBool(c.url.searchParams, 'refresh_status', true);
  const body = await readBody(req);
  const out = createRuns(st, g, body, { key: c.key, refresh, betas: parseBetas(req.headers['parallel-beta']) });
  if (st.opts.loseResponses > 0 && st.faults() < st.opts.loseResponses) {
    st.stats.responsesLost++;
    req.socket.destroy();
    return null;
  }
  return { status: 200, body: out };
}

/** A boolean query parameter as FastAPI parses it (422 bool_parsing otherwise). */
function queryBool(q: URLSearchParams, name: string, dflt: boolean): boolean {
  const t = q.get(name);
  if (t === null) return dflt;
  const s = t.toLowerCase();
  if (['true', '1', 'yes', 'on', 't', 'y'].includes(s)) return true;
  if (['false', '0', 'no', 'off', 'f', 'n'].includes(s)) return false;
  throw new HttpFail(422, `Request validation error: query.${name}: Input should be a valid boolean`, [
    v(['query', name], 'Input should be a valid boolean, unable to interpret input', 'bool_parsing'),
  ]);
}

/** Validate a TaskGroupRunRequest (422 / 403 before anything is created). */
function checkAddRuns(body: any, betas: Set<string>): void {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new HttpFail(422, 'Request validation error', [v(['body'], 'Input should be a valid dictionary', 'dict_type')]);
  const errs: Issue[] = [];
  const inputs = body.inputs;
  if (inputs === undefined) errs.push(v(['body', 'inputs'], 'Field required', 'missing'));
  else if (!Array.isArray(inputs)) errs.push(v(['body', 'inputs'], 'Input should be a valid list', 'list_type'));
  else if (inputs.length === 0) errs.push(v(['body', 'inputs'], 'List should have at least 1 item after validation, not 0', 'too_short'));
  else if (inputs.length > 1000) errs.push(v(['body', 'inputs'], `List should have at most 1000 items after validation, not ${inputs.length}`, 'too_long'));
  const spec = body.default_task_spec ?? null;
  if (spec !== null) errs.push(...checkSpec(spec, ['body', 'default_task_spec']));
  let badProcessor = false;
  if (!errs.length) {
    const specLen = spec ? JSON.stringify(spec).length : 0;
    for (let i = 0; i < inputs.length && errs.length < 50; i++) {
      const r = checkRunInput(inputs[i], ['body', 'inputs', i], specLen, betas);
      if (r === 'bad-processor') badProcessor = true;
      else errs.push(...r);
    }
  }
  if (errs.length) throw new HttpFail(422, `Request validation error: ${errs[0].loc.join('.')}: ${errs[0].msg}`, errs);
  if (badProcessor) throw new HttpFail(403, 'Forbidden: invalid processor in request');
}

/** Warnings of each run, from its spec (own or default) and input. */
export function runExtras(defaultSpec: unknown, inputs: any[]): (i: number) => RunExtras {
  const defaultWarn = specWarnings(defaultSpec);
  return (i) => {
    const own = inputs[i].task_spec ?? null;
    const spec = own ?? defaultSpec;
    const w = [...(own ? specWarnings(own) : defaultWarn), ...inputWarnings(spec, inputs[i].input)];
    return { warnings: w.length ? JSON.stringify(w) : null };
  };
}

interface AddRunsCall {
  key: string;
  refresh: boolean;
  betas: Set<string>;
}

function createRuns(st: EmulatorState, g: Group, body: any, a: AddRunsCall): string {
  checkAddRuns(body, a.betas);
  const inputs = body.inputs;
  charge(st, a.key, inputs.length);
  spendCredit(st, inputs.length);
  // refresh_status=false: answer the status as last computed, without bringing it up to date.
  const cached = a.refresh ? null : (g.cachedStatus ?? st.store.statusJson(g));
  const spec = body.default_task_spec ?? null;
  const { runs, runCursor, eventCursor } = st.store.addRuns(g, inputs, spec, runExtras(spec, inputs));
  st.stats.runsCreated += runs.length;
  st.stats.addRunsPosts++;
  const ids = runs.map((r) => `"${r.id}"`).join(',');
  return `{"status":${cached ?? st.store.statusJson(g)},"run_ids":[${ids}],"run_cursor":${runCursor ? `"${runCursor}"` : 'null'},"event_cursor":${eventCursor ? `"${eventCursor}"` : 'null'}}`;
}
