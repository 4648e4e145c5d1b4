// The API settings a command runs with (--api-key, --base-url, --api-version, --insecure-http and
// their environment variables), checked before anything is sent: each slip a user can make in
// them is a usage error naming it, with the corrected form where there is one.
import { TgError, usageError } from './errors';
import { isLoopbackHost } from './core/util';
import type { GlobalOptions } from './options';

export const DEFAULT_BASE_URL = 'https://api.parallel.ai';

export interface ApiConfig {
  baseUrl: string;
  apiKey: string;
  apiVersion: 'v1' | 'v1beta';
}

const noKey = () =>
  new TgError('no_api_key', 'no API key: PARALLEL_API_KEY is not set and --api-key was not given', {
    hint: 'Set PARALLEL_API_KEY (export PARALLEL_API_KEY=...) or pass --api-key; for a demo without a key use --emulator.',
  });

/** The key as given, or a usage error naming what is wrong with it (never the key itself). */
export function checkApiKey(key: string | undefined, from: string): string {
  if (key === undefined) throw noKey();
  if (key === '') throw usageError(`${from} is set but empty`, 'Give it the key: export PARALLEL_API_KEY=... (or pass --api-key).');
  if (/[\r\n]/.test(key))
    throw usageError(
      `${from} holds a line break (CR or LF) around the key`,
      'Set it again without the line break, e.g. export PARALLEL_API_KEY="$(tr -d \'\\r\\n\' < keyfile)".',
    );
  if (key.trim() !== key) throw usageError(`${from} has spaces around the key`, 'Set it again without the spaces around the key.');
  if (/^(["']).*\1$/.test(key) && key.length >= 2) throw usageError(`${from} is wrapped in quotes`, 'Set it again without the quotes around the key.');
  if (/\s/.test(key)) throw usageError(`${from} holds a space inside the key`, 'Copy the key again: it has no spaces.');
  return key;
}

/** The API root as given, or a usage error naming the slip and the corrected form. */
export function checkBaseUrl(raw: string, insecureHttp: boolean): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw))
    throw usageError(`--base-url "${raw}" has no scheme`, `Write it with https://, e.g. --base-url https://${raw.replace(/^\/+/, '')}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--base-url is not a URL: "${raw}"`, `Example: --base-url ${DEFAULT_BASE_URL}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw usageError(`--base-url must be http(s): "${raw}"`, `Example: --base-url ${DEFAULT_BASE_URL}`);
  if (url.search || url.hash || url.username || url.password)
    throw usageError(`--base-url "${raw}" carries a query, fragment or credentials`, `Pass the API root only: ${url.origin}`);
  const version = /\/(v1|v1beta|v1alpha)(\/.*)?$/.exec(url.pathname);
  if (version)
    throw usageError(
      `--base-url "${raw}" ends in the API version (/${version[1]}); tg adds the paths itself`,
      `Pass the API root: --base-url ${url.origin}${url.pathname.slice(0, version.index)} (and --api-version v1beta for the beta paths).`,
    );
  if (url.pathname.endsWith('/') && raw.endsWith('/'))
    throw usageError(`--base-url "${raw}" ends in a slash`, `Pass it without the trailing slash: --base-url ${raw.replace(/\/+$/, '')}`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !insecureHttp)
    throw usageError(`refusing to send the API key over plain http to ${url.host}`, 'Use https, or pass --insecure-http if you really mean it.');
  return raw;
}

/** --api-version, else TG_API_VERSION, else v1. */
export function apiVersionOf(global: Partial<GlobalOptions>, env: NodeJS.ProcessEnv): 'v1' | 'v1beta' {
  const v = global.apiVersion ?? env.TG_API_VERSION ?? 'v1';
  if (v !== 'v1' && v !== 'v1beta') throw usageError(`TG_API_VERSION must be v1 or v1beta, not "${v}"`);
  return v;
}

/** The API settings of a command from its global options and the environment, all checked. */
export function apiConfig(global: Partial<GlobalOptions>, env: NodeJS.ProcessEnv): ApiConfig {
  const apiVersion = apiVersionOf(global, env);
  const baseUrl = checkBaseUrl(global.baseUrl ?? env.PARALLEL_BASE_URL ?? DEFAULT_BASE_URL, Boolean(global.insecureHttp));
  const from = global.apiKey !== undefined ? '--api-key' : 'PARALLEL_API_KEY';
  const apiKey = checkApiKey(global.apiKey ?? env.PARALLEL_API_KEY, from);
  return { baseUrl, apiKey, apiVersion };
}
