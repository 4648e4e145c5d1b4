// config.ts: each slip in the key or the base URL is named before anything is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiConfig, checkApiKey, checkBaseUrl } from '../../src/config';

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
  assert.deepEqual(apiConfig({}, env), { baseUrl: 'https://env.example', apiKey: 'from-env-key', apiVersion: 'v1' });
  assert.deepEqual(apiConfig({ apiKey: 'flag-key', baseUrl: 'https://flag.example', apiVersion: 'v1beta' }, env), {
    baseUrl: 'https://flag.example',
    apiKey: 'flag-key',
    apiVersion: 'v1beta',
  });
  assert.equal(apiConfig({}, { PARALLEL_API_KEY: 'k-123' }).baseUrl, 'https://api.parallel.ai');
  assert.throws(() => apiConfig({ apiKey: ' flag-key' }, env), /--api-key has spaces/);
});
