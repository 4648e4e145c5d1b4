// Request validation as the service does it: FastAPI-style issue lists (loc, msg, type) for
// TaskRunInput and TaskSpec, the documented size limits, and the processor check (403).
import { v, type Issue } from './http';

export const PROCESSORS = new Set(
  ['lite', 'base', 'core', 'core2x', 'pro', 'ultra', 'ultra2x', 'ultra4x', 'ultra8x'].flatMap((p) => [p, `${p}-fast`]),
);

export type Loc = (string | number)[];

export function checkMetadata(md: unknown, loc: Loc): Issue[] {
  if (md === undefined || md === null) return [];
  if (typeof md !== 'object' || Array.isArray(md)) return [v(loc, 'Input should be a valid dictionary', 'dict_type')];
  const errs: Issue[] = [];
  for (const [k, val] of Object.entries(md)) {
    if (k.length > 16) errs.push(v([...loc, k], 'Metadata keys must be at most 16 characters'));
    if (typeof val === 'string' && val.length > 512) errs.push(v([...loc, k], 'Metadata values must be at most 512 characters'));
    else if (!['string', 'number', 'boolean'].includes(typeof val)) errs.push(v([...loc, k], 'Metadata values must be strings, numbers or booleans'));
  }
  return errs;
}

/** Validate a TaskRunInput; returns an error list (empty if valid). */
export function checkRunInput(inp: any, loc: Loc, defaultSpecLen: number): Issue[] | 'bad-processor' {
  const errs: Issue[] = [];
  if (!inp || typeof inp !== 'object' || Array.isArray(inp)) return [v(loc, 'Input should be a valid dictionary', 'dict_type')];
  if (inp.processor === undefined) errs.push(v([...loc, 'processor'], 'Field required', 'missing'));
  else if (typeof inp.processor !== 'string') errs.push(v([...loc, 'processor'], 'Input should be a valid string', 'string_type'));
  if (inp.input === undefined) errs.push(v([...loc, 'input'], 'Field required', 'missing'));
  else if (typeof inp.input !== 'string' && (typeof inp.input !== 'object' || inp.input === null || Array.isArray(inp.input)))
    errs.push(v([...loc, 'input'], 'Input should be a valid string or dictionary', 'union_type'));
  errs.push(...checkMetadata(inp.metadata, [...loc, 'metadata']));
  if (inp.task_spec !== undefined && inp.task_spec !== null) errs.push(...checkSpec(inp.task_spec, [...loc, 'task_spec']));
  if (!errs.length) {
    const specLen = inp.task_spec ? JSON.stringify(inp.task_spec).length : defaultSpecLen;
    const inputLen = typeof inp.input === 'string' ? inp.input.length : JSON.stringify(inp.input).length;
    if (specLen + inputLen > 25_000) errs.push(v([...loc, 'input'], `Task spec and input together exceed 25,000 characters (${specLen + inputLen})`));
  }
  if (!errs.length && !PROCESSORS.has(inp.processor)) return 'bad-processor';
  return errs;
}

export function checkSpec(spec: any, loc: Loc): Issue[] {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return [v(loc, 'Input should be a valid dictionary', 'dict_type')];
  const errs = [];
  if (spec.output_schema === undefined) errs.push(v([...loc, 'output_schema'], 'Field required', 'missing'));
  const os = spec.output_schema;
  if (os && typeof os === 'object' && (os.type === 'json' || os.json_schema !== undefined)) {
    const js = os.json_schema;
    if (!js || typeof js !== 'object' || Array.isArray(js)) errs.push(v([...loc, 'output_schema', 'json_schema'], 'Input should be a valid dictionary', 'dict_type'));
    else if (js.type !== 'object' || typeof js.properties !== 'object') errs.push(v([...loc, 'output_schema', 'json_schema'], 'The output schema root must be of type "object" with "properties"'));
  }
  if (JSON.stringify(spec).length > 15_000) errs.push(v(loc, 'Task spec exceeds 15,000 characters'));
  return errs;
}
