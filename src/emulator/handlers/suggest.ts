// The Ingest API (POST /v1beta/tasks/suggest and /v1beta/tasks/suggest-processor): requests
// checked as FastAPI would (422 with the issue list), answers from ../suggest.ts.
import { HttpFail, readBody, v, type Issue, type Reply } from '../http';
import { SUGGESTABLE, suggestProcessors, suggestTask } from '../suggest';
import { PROCESSORS } from '../validate';
import type { Call } from '../state';

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

function refuse(errs: Issue[]): never {
  throw new HttpFail(422, `Request validation error: ${errs[0].loc.join('.')}: ${errs[0].msg}`, errs);
}

async function bodyOf(c: Call): Promise<Record<string, unknown>> {
  const body = await readBody(c.req);
  if (!isObj(body)) refuse([v(['body'], 'Input should be a valid dictionary', 'dict_type')]);
  return body;
}

/** The issues of a required body field: missing, or not of its type (ok). */
function required(body: Record<string, unknown>, name: string, ok: boolean, msg: string, type: string): Issue[] {
  if (body[name] === undefined) return [v(['body', name], 'Field required', 'missing')];
  return ok ? [] : [v(['body', name], msg, type)];
}

export async function suggest(c: Call): Promise<Reply> {
  c.st.stats.suggestRequests++;
  const body = await bodyOf(c);
  const intent = body.user_intent;
  const errs = required(body, 'user_intent', typeof intent === 'string', 'Input should be a valid string', 'string_type');
  if (typeof intent === 'string' && intent.trim() === '') errs.push(v(['body', 'user_intent'], 'String should have at least 1 character', 'string_too_short'));
  const prev = body.previous_task;
  if (prev !== undefined && prev !== null) {
    if (!isObj(prev)) errs.push(v(['body', 'previous_task'], 'Input should be a valid dictionary', 'dict_type'));
    else
      for (const k of ['input_schema', 'output_schema'])
        if (prev[k] !== undefined && prev[k] !== null && !isObj(prev[k]))
          errs.push(v(['body', 'previous_task', k], 'Input should be a valid dictionary', 'dict_type'));
  }
  if (errs.length) refuse(errs);
  return { status: 200, body: JSON.stringify(suggestTask(intent as string, isObj(prev) ? prev : null)) };
}

export async function suggestProcessor(c: Call): Promise<Reply> {
  c.st.stats.suggestProcessorRequests++;
  const body = await bodyOf(c);
  const spec = body.task_spec;
  const errs = required(body, 'task_spec', isObj(spec), 'Input should be a valid dictionary', 'dict_type');
  const from = body.choose_processors_from;
  if (from !== undefined && from !== null) {
    if (!Array.isArray(from)) errs.push(v(['body', 'choose_processors_from'], 'Input should be a valid list', 'list_type'));
    else
      from.forEach((p, i) => {
        if (typeof p !== 'string' || !PROCESSORS.has(p))
          errs.push(v(['body', 'choose_processors_from', i], `Input should be one of ${[...PROCESSORS].map((x) => `'${x}'`).join(', ')}`, 'enum'));
      });
    // lite and lite-fast run tasks but are never recommended (the docs): a list of only those leaves nothing.
    if (!errs.length && Array.isArray(from) && from.length && !from.some((p) => SUGGESTABLE.includes(p)))
      errs.push(v(['body', 'choose_processors_from'], 'No processor to recommend: lite and lite-fast are never recommended'));
  }
  if (errs.length) refuse(errs);
  const allowed = Array.isArray(from) ? (from as string[]).filter((p) => SUGGESTABLE.includes(p)) : undefined;
  return { status: 200, body: JSON.stringify({ recommended_processors: suggestProcessors(spec as Record<string, unknown>, allowed) }) };
}
