// The API settings a command runs with (--api-key, --base-url, --api-version, --insecure-http and
// their environment variables, and the proxy of HTTPS_PROXY/HTTP_PROXY/NO_PROXY), checked before
// anything is sent: each slip a user can make in them is a usage error naming it, with the
// corrected form where there is one.
import { TgError, usageError } from './errors';
import { isLoopbackHost, redactUrl } from './core/util';
import type { GlobalOptions } from './options';

export const DEFAULT_BASE_URL = 'https://api.parallel.ai';

export interface ApiConfig {
  baseUrl: string;
  apiKey: string;
  apiVersion: 'v1' | 'v1beta';
  /** The proxy requests go through (HTTPS_PROXY …), or null: straight to the API. */
  proxy: string | null;
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
  return { baseUrl, apiKey, apiVersion, proxy: proxyFor(baseUrl, env).proxy };
}

/** Where the requests to the API go: through `proxy`, or straight (null); `why` says which variable decided. */
export interface ProxyChoice {
  proxy: string | null;
  why: string;
}

/**
 * The proxy for the API at `baseUrl`, from the environment as curl and most tools read it:
 * https_proxy/HTTPS_PROXY for an https API, http_proxy/HTTP_PROXY for an http one (the lowercase
 * name first), none for a loopback host or a host NO_PROXY names (no_proxy first: comma- or
 * space-separated hosts, each matching itself and its subdomains, with an optional :port; `*`
 * matches every host). A proxy without a scheme is http://. A malformed one is a usage error
 * naming the variable.
 */
export function proxyFor(baseUrl: string, env: NodeJS.ProcessEnv): ProxyChoice {
  const url = new URL(baseUrl);
  const names = url.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY'];
  const name = names.find((n) => env[n]);
  if (!name) return { proxy: null, why: `${names[1]} is not set` };
  if (isLoopbackHost(url.hostname)) return { proxy: null, why: `${url.hostname} is a loopback host` };
  const noName = ['no_proxy', 'NO_PROXY'].find((n) => env[n] !== undefined);
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  if (noName && noProxyMatches(url.hostname, port, env[noName]!)) return { proxy: null, why: `${noName} names ${url.hostname}` };
  return { proxy: checkProxy(env[name]!.trim(), name), why: name };
}

function checkProxy(raw: string, name: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw usageError(`${name} is not a URL: "${redactUrl(raw)}"`, `Set it to the proxy's URL, e.g. ${name}=http://proxy.example.com:3128`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usageError(
      `${name} must be an http:// or https:// proxy, not ${url.protocol}//`,
      `Set it to the proxy's URL, e.g. ${name}=http://proxy.example.com:3128`,
    );
  return withScheme;
}

/** Whether a NO_PROXY value names `host` (or a domain above it), on `port` when the entry gives one. */
export function noProxyMatches(host: string, port: number, noProxy: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  for (const entry of noProxy.split(/[\s,]+/)) {
    if (!entry) continue;
    if (entry === '*') return true;
    // [v6]:port, host:port, or a host (a bare IPv6 address has more than one colon)
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry) ?? [entry, entry, undefined];
    if (m[2] !== undefined && Number(m[2]) !== port) continue;
    const name = m[1].replace(/^\*?\./, '').toLowerCase();
    if (h === name || h.endsWith(`.${name}`)) return true;
  }
  return false;
}
