// key=value option parsing (metadata).
import { usageError } from '../errors';

/** The API's limits on a metadata key and value, in characters. */
export const MAX_META_KEY = 16;
export const MAX_META_VALUE = 512;

export function parseKeyValues(items: string[] | undefined, option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw usageError(`${option} takes key=value, got "${item}"`, `Example: ${option} project=q3`);
    const k = item.slice(0, i);
    const v = item.slice(i + 1);
    if (k.length > MAX_META_KEY) throw usageError(`${option}: key "${k}" is longer than ${MAX_META_KEY} characters (the API's limit)`);
    if (v.length > MAX_META_VALUE) throw usageError(`${option}: value of "${k}" is longer than ${MAX_META_VALUE} characters (the API's limit)`);
    if (k.startsWith('tg_')) throw usageError(`${option}: keys starting with "tg_" are reserved by tg (tg_key, tg_src, tg_kc, tg_sha)`);
    out[k] = v;
  }
  return out;
}
