// config.ts: each slip in the key or the base URL is named before anything is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiConfig, checkApiKey, checkBaseUrl, proxyFor } from '../../src/config';
import { redactUrl } from '../../src/core/util';

test('the API key: unset, empty, CR/LF, spaces and quotes are each named; the key itself never is', () => {
  const cases: [string | undefined, RegExp][] = [
    [undefined, /no API key: PARALLEL_API_KEY is not set/],
    ['', /PARALLEL_API_KEY is set but empty/],
    ['sk-secret-1\n', /holds a line break \(CR or LF\)/],
    ['sk-secret-1\r', /holds a line break/],
    [' sk-secret-1', /has spaces around the key/],
    ['"sk-secret-1"', /is wrapped in quotes/],
    ["'sk-secret-1'", /is wrapped in quotes/],
    ['sk-secret 1', /holds a space inside the key/],
  ];
  for (const [key, re] of cases) {
    assert.throws(
      () => checkApiKey(key, 'PARALLEL_API_KEY'),
      (e: Error & { exitCode?: number }) => re.test(e.message) && !e.message.includes('sk-secret') && e.exitCode === 2,
      String(key),
    );
  }
  assert.equal(checkApiKey('sk-secret-1', 'PARALLEL_API_KEY'), 'sk-secret-1');
});

test('the base URL: a version path, a trailing slash, no scheme, plain http to another host are each named with the fix', () => {
  const bad: [string, RegExp, RegExp][] = [
    ['https://api.parallel.ai/v1', /ends in the API version \(\/v1\)/, /--base-url https:\/\/api\.parallel\.ai /],
    ['https://api.parallel.ai/v1beta', /\(\/v1beta\)/, /--api-version v1beta/],
    ['https://api.parallel.ai/', /ends in a slash/, /--base-url https:\/\/api\.parallel\.ai$/],
    ['api.parallel.ai', /has no scheme/, /https:\/\/api\.parallel\.ai/],
    ['http://api.example.com', /plain http to api\.example\.com/, /--insecure-http/],
    ['https://api.parallel.ai?x=1', /carries a query/, /https:\/\/api\.parallel\.ai/],
    ['ftp://api.parallel.ai', /must be http\(s\)/, /Example/],
  ];
  for (const [url, msg, hint] of bad)
    assert.throws(
      () => checkBaseUrl(url, false),
      (e: Error & { hint?: string }) => msg.test(e.message) && hint.test(e.hint ?? ''),
      url,
    );
  for (const ok of ['https://api.parallel.ai', 'http://127.0.0.1:8787', 'http://localhost:1', 'https://gateway.corp.example/parallel'])
    assert.equal(checkBaseUrl(ok, false), ok);
  assert.equal(checkBaseUrl('http://api.example.com', true), 'http://api.example.com');
});

test('apiConfig: a flag beats its variable, which beats the default', () => {
  const env = { PARALLEL_API_KEY: 'from-env-key', PARALLEL_BASE_URL: 'https://env.example' };
  assert.deepEqual(apiConfig({}, env), { baseUrl: 'https://env.example', apiKey: 'from-env-key', apiVersion: 'v1', proxy: null });
  assert.deepEqual(apiConfig({ apiKey: 'flag-key', baseUrl: 'https://flag.example', apiVersion: 'v1beta' }, env), {
    baseUrl: 'https://flag.example',
    apiKey: 'flag-key',
    apiVersion: 'v1beta',
    proxy: null,
  });
  assert.equal(apiConfig({}, { PARALLEL_API_KEY: 'k-123' }).baseUrl, 'https://api.parallel.ai');
  assert.throws(() => apiConfig({ apiKey: ' flag-key' }, env), /--api-key has spaces/);
});

test('the proxy: HTTPS_PROXY for an https API, HTTP_PROXY for an http one, lowercase first; NO_PROXY and loopback go direct', () => {
  const api = 'https://api.parallel.ai';
  const p = (env: NodeJS.ProcessEnv, url = api) => proxyFor(url, env);
  assert.deepEqual(p({}), { proxy: null, why: 'HTTPS_PROXY is not set' });
  assert.deepEqual(p({ HTTPS_PROXY: 'http://px:3128' }), { proxy: 'http://px:3128', why: 'HTTPS_PROXY' });
  assert.deepEqual(p({ https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:2' }), { proxy: 'http://low:1', why: 'https_proxy' });
  assert.equal(p({ HTTPS_PROXY: 'px.corp:3128' }).proxy, 'http://px.corp:3128', 'no scheme: http://');
  assert.equal(p({ HTTP_PROXY: 'http://px:3128' }).proxy, null, 'an https API does not use HTTP_PROXY (as curl)');
  assert.equal(p({ HTTP_PROXY: 'http://px:3128' }, 'http://api.example.com').proxy, 'http://px:3128');
  assert.equal(p({ HTTPS_PROXY: '' }).proxy, null, 'empty is unset');
  for (const host of ['localhost', '127.0.0.1', '[::1]']) assert.equal(p({ HTTPS_PROXY: 'http://px:1' }, `https://${host}:8443`).proxy, null, host);
  const direct = (noProxy: string, url = api) => p({ HTTPS_PROXY: 'http://px:1', NO_PROXY: noProxy }, url).proxy === null;
  assert.ok(direct('api.parallel.ai'));
  assert.ok(direct('parallel.ai'), 'a domain covers its subdomains');
  assert.ok(direct('.parallel.ai'));
  assert.ok(direct('*.parallel.ai'));
  assert.ok(direct('example.com, parallel.ai'));
  assert.ok(direct('example.com parallel.ai'));
  assert.ok(direct('*'));
  assert.ok(direct('API.PARALLEL.AI:443'));
  assert.ok(!direct('api.parallel.ai:8443'), 'another port');
  assert.ok(!direct('rallel.ai'), 'not a suffix of a label');
  assert.ok(!direct(''));
  assert.ok(direct('[fd00::1]:443', 'https://[fd00::1]'));
  assert.ok(direct('fd00::1', 'https://[fd00::1]'));
  assert.equal(p({ HTTPS_PROXY: 'http://px:1', no_proxy: '', NO_PROXY: 'parallel.ai' }).proxy, 'http://px:1', 'no_proxy first');
});

test('a malformed proxy is a usage error naming the variable; credentials are never shown', () => {
  assert.throws(
    () => proxyFor('https://api.parallel.ai', { HTTPS_PROXY: 'socks5://user:pw@px:1080' }),
    (e: Error & { exitCode?: number }) =>
      /^HTTPS_PROXY must be an http:\/\/ or https:\/\/ proxy, not socks5:\/\//.test(e.message) && !e.message.includes('pw') && e.exitCode === 2,
  );
  assert.throws(
    () => proxyFor('http://api.example.com', { http_proxy: 'http://user:pw@[bad' }),
    (e: Error) => /^http_proxy is not a URL: "http:\/\/\*\*\*@\[bad"$/.test(e.message),
  );
  assert.equal(redactUrl('http://user:pw@px:3128'), 'http://***@px:3128');
  assert.equal(redactUrl('user:pw@px:3128'), '***@px:3128');
  assert.equal(redactUrl('http://px:3128/a@b'), 'http://px:3128/a@b');
  assert.equal(apiConfig({ apiKey: 'k-123456' }, { HTTPS_PROXY: 'http://px:3128' }).proxy, 'http://px:3128');
});
