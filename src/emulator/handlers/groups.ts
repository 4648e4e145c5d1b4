// Task Group handlers: create, retrieve, add runs, retrieve one run of a group.
import { HttpFail, readBody, v, type Issue, type Reply } from '../http';
import { checkRunInput, checkSpec } from '../validate';
import { charge, findGroup, groupJson, runJson, type Call, type EmulatorState } from '../state';
import type { Group } from '../store';

export async function createGroup(c: Call): Promise<Reply> {
  const body = (await readBody(c.req)) ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new HttpFail(422, 'Request validation error', [v(['body'], 'Input should be a valid dictionary', 'dict_type')]);
  if (body.metadata !== undefined && body.metadata !== null && (typeof body.metadata !== 'object' || Array.isArray(body.metadata)))
    throw new HttpFail(422, 'Request validation error: body.metadata: Input should be a valid dictionary', [v(['body', 'metadata'], 'Input should be a valid dictionary', 'dict_type')]);
  const g = c.st.store.createGroup(body.metadata);
  return { status: 200, body: groupJson(c.st.store, g) };
}

export function retrieveGroup(c: Call): Reply {
  return { status: 200, body: groupJson(c.st.store, findGroup(c.st, c.params.gid)) };
}

export function retrieveGroupRun(c: Call): Reply {
  const g = findGroup(c.st, c.params.gid);
  const run = c.st.store.runs.get(c.params.rid);
  if (!run || run.group !== g) throw new HttpFail(404, 'Run id not found');
  return { status: 200, body: runJson(c.st.store, run) };
}

export async function addRuns(c: Call): Promise<Reply> {
  const { st, req } = c;
  const g = findGroup(st, c.params.gid);
  const body = await readBody(req);
  const out = createRuns(st, g, body, c.key);
  if ((st.opts.loseResponses ?? 0) > 0 && st.faults() < st.opts.loseResponses!) {
    st.stats.responsesLost++;
    req.socket.destroy();
    return null;
  }
  return { status: 200, body: out };
}

/** Validate a TaskGroupRunRequest (422 / 403 before anything is created). */
function checkAddRuns(body: any): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpFail(422, 'Request validation error', [v(['body'], 'Input should be a valid dictionary', 'dict_type')]);
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
      const r = checkRunInput(inputs[i], ['body', 'inputs', i], specLen);
      if (r === 'bad-processor') badProcessor = true;
      else errs.push(...r);
    }
  }
  if (errs.length) throw new HttpFail(422, `Request validation error: ${errs[0].loc.join('.')}: ${errs[0].msg}`, errs);
  if (badProcessor) throw new HttpFail(403, 'Forbidden: invalid processor in request');
}

function createRuns(st: EmulatorState, g: Group, body: any, key: string): string {
  checkAddRuns(body);
  const inputs = body.inputs;
  charge(st, key, inputs.length);
  const { runs, runCursor, eventCursor } = st.store.addRuns(g, inputs, body.default_task_spec ?? null);
  st.stats.runsCreated += runs.length;
  st.stats.addRunsPosts++;
  const ids = runs.map((r) => `"${r.id}"`).join(',');
  return `{"status":${st.store.statusJson(g)},"run_ids":[${ids}],"run_cursor":${runCursor ? `"${runCursor}"` : 'null'},"event_cursor":${eventCursor ? `"${eventCursor}"` : 'null'}}`;
}
