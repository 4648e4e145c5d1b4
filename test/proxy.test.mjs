// HTTPS_PROXY / HTTP_PROXY / NO_PROXY (issue M item 4), against a small proxy written here that
// counts what goes through it: an https API is reached through CONNECT tunnels (TLS to the API
// inside them, its certificate trusted through NODE_EXTRA_CA_CERTS), still one keep-alive pool —
// a few tunnels carry every request; an http API through the proxy as absolute URLs; a host
// NO_PROXY names, and a loopback one, go direct; a proxy that wants a password is named at once,
// not retried; the proxy's password is never printed (--verbose says which proxy is used).
// The emulator is plain http on loopback: the https "API" is a TLS terminator in front of it, and
// the http one is the emulator's port on 0.0.0.0 (not a loopback name, so proxied by default).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { emulator, makeCsv, runInProcess, spawnTg, tmp } from './helpers.mjs';

const HOST = 'api.tg-test.invalid';
const N = 600;
const SEND = ['--batch-size', '50', '--concurrency', '2', '--rate', 'off'];

/** A self-signed certificate for HOST, or why there is none (the https case is then skipped). */
const cert = (() => {
  const d = tmp();
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-days',
        '2',
        '-subj',
        `/CN=${HOST}`,
        '-addext',
        `subjectAltName=DNS:${HOST}`,
      ],
      { cwd: d, stdio: 'pipe' },
    );
    return { key: readFileSync(path.join(d, 'key.pem')), cert: readFileSync(path.join(d, 'cert.pem')), file: path.join(d, 'cert.pem'), missing: '' };
  } catch (e) {
    return {
      key: Buffer.alloc(0),
      cert: Buffer.alloc(0),
      file: '',
      missing: `no openssl to make a test certificate: ${String(/** @type {Error} */ (e).message).split('\n')[0]}`,
    };
  }
})();

/** Whether 0.0.0.0 reaches a loopback listener here (Linux: it does). */
async function zeroReachesLoopback(/** @type {string} */ url) {
  try {
    return (await fetch(url.replace('127.0.0.1', '0.0.0.0') + '/healthz')).ok;
  } catch {
    return false;
  }
}

/**
 * A proxy on loopback: CONNECT tunnels go to `tunnelTo` (a port on 127.0.0.1), absolute-URL
 * requests are forwarded to their URL's port on 127.0.0.1. `auth`: the Proxy-Authorization it
 * requires (else 407). Counts TCP connections, tunnels and forwarded requests.
 * @param {{ tunnelTo?: number, auth?: string }} o
 */
async function countingProxy({ tunnelTo, auth }) {
  const s = { sockets: 0, tunnels: 0, forwarded: 0, targets: /** @type {string[]} */ ([]), auths: /** @type {(string | undefined)[]} */ ([]) };
  const refuse = (/** @type {string | undefined} */ a) => auth !== undefined && a !== auth;
  const server = http.createServer((req, res) => {
    s.forwarded++;
    s.targets.push(String(req.url));
    s.auths.push(req.headers['proxy-authorization']);
    if (refuse(req.headers['proxy-authorization'])) return void res.writeHead(407, { 'proxy-authenticate': 'Basic realm="t"' }).end();
    const u = new URL(String(req.url));
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = http.request({ host: '127.0.0.1', port: u.port, method: req.method, path: u.pathname + u.search, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', () => s.sockets++);
  server.on('connect', (req, sock, head) => {
    s.tunnels++;
    s.targets.push(String(req.url));
    s.auths.push(req.headers['proxy-authorization']);
    sock.on('error', () => undefined);
    if (refuse(req.headers['proxy-authorization']))
      return void sock.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="t"\r\n\r\n');
    const up = net.connect(Number(tunnelTo), '127.0.0.1', () => {
      sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(sock);
      sock.pipe(up);
    });
    up.on('error', () => sock.destroy());
    sock.on('close', () => up.destroy());
  });
  await new Promise((/** @type {(v?: void) => void} */ r) => server.listen(0, '127.0.0.1', () => r()));
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  return {
    s,
    port,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r(undefined)));
    },
  };
}

/** TLS for HOST on a loopback port, each connection piped to the emulator's port. */
async function tlsFront(/** @type {number} */ emuPort) {
  const sockets = new Set();
  const server = tls.createServer({ key: cert.key, cert: cert.cert }, (s) => {
    const up = net.connect(emuPort, '127.0.0.1');
    sockets.add(s);
    s.on('close', () => (sockets.delete(s), up.destroy()));
    s.on('error', () => up.destroy());
    up.on('error', () => s.destroy());
    s.pipe(up);
    up.pipe(s);
  });
  await new Promise((/** @type {(v?: void) => void} */ r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: /** @type {import('node:net').AddressInfo} */ (server.address()).port,
    close: () => {
      for (const s of sockets) /** @type {tls.TLSSocket} */ (s).destroy();
      return new Promise((r) => server.close(() => r(undefined)));
    },
  };
}

const runsIn = async (/** @type {string} */ url, /** @type {string} */ group) => (await (await fetch(`${url}/__emulator/stats`)).json()).runsByGroup[group];

test('HTTPS_PROXY: an https API through CONNECT tunnels, one keep-alive pool; the password never printed', { skip: cert.missing || false }, async (t) => {
  const e = await emulator({ latencyMs: [20, 60], rateLimit: null });
  const front = await tlsFront(Number(new URL(e.url).port));
  const px = await countingProxy({ tunnelTo: front.port, auth: `Basic ${Buffer.from('tg-user:s3cret-pw').toString('base64')}` });
  try {
    const d = tmp();
    const f = makeCsv(d, N);
    const env = { HTTPS_PROXY: `http://tg-user:s3cret-pw@127.0.0.1:${px.port}`, NO_PROXY: '', NODE_EXTRA_CA_CERTS: cert.file };
    // The sends one at a time: every request on the one connection the pool keeps alive.
    let before = e.stats.requests;
    const r = await spawnTg(
      ['submit', f, '--batch-size', '50', '--concurrency', '1', '--rate', 'off', '--base-url', `https://${HOST}`, '--json', '--verbose'],
      { cwd: d, env },
    ).done;
    assert.equal(r.code, 0, r.stderr);
    const group = JSON.parse(r.stdout).taskgroup_id;
    assert.equal(await runsIn(e.url, group), N, 'every row once, through the proxy');
    const posts = e.stats.requests - before;
    assert.ok(posts >= N / 50 + 1, `${posts} requests`);
    // (a second tunnel only if the server closed the idle first one: its keep-alive is 5 s)
    assert.ok(px.s.tunnels <= 2, `${posts} requests one after another, on ${px.s.tunnels} tunnel(s): kept alive`);
    const first = px.s.tunnels;
    // watch -o: an event stream and result requests in parallel, never more tunnels than the pool holds (32).
    before = e.stats.requests;
    const w = await spawnTg(['watch', group, '-o', 'out.jsonl', '--base-url', `https://${HOST}`], { cwd: d, env }).done;
    assert.equal(w.code, 0, w.stderr);
    assert.equal(readFileSync(path.join(d, 'out.jsonl'), 'utf8').trimEnd().split('\n').length, N);
    const watched = e.stats.requests - before;
    assert.ok(px.s.tunnels - first <= 32, `${px.s.tunnels - first} tunnels for watch`);
    t.diagnostic(`submit: ${posts} requests through ${first} CONNECT tunnel(s); watch -o: ${watched} requests through ${px.s.tunnels - first}`);
    assert.deepEqual([...new Set(px.s.targets)], [`${HOST}:443`]);
    assert.ok(
      px.s.auths.every((a) => a === `Basic ${Buffer.from('tg-user:s3cret-pw').toString('base64')}`),
      'the URL credentials are the Proxy-Authorization',
    );
    assert.match(r.stderr, new RegExp(`via proxy http://\\*\\*\\*@127\\.0\\.0\\.1:${px.port} \\(HTTPS_PROXY\\)`));
    assert.doesNotMatch(r.stderr + r.stdout, /s3cret-pw|tg-user/);
    // The same proxy without the password: named at once (not retried for minutes), exit 4.
    const no = await spawnTg(['status', group, '--base-url', `https://${HOST}`], { cwd: d, env: { ...env, HTTPS_PROXY: `http://127.0.0.1:${px.port}` } }).done;
    assert.equal(no.code, 4, no.stderr);
    assert.match(
      no.stderr,
      new RegExp(
        `^tg: GET /v1/tasks/groups/${group}: the proxy http://127\\.0\\.0\\.1:${px.port} refused to carry it to ${HOST.replaceAll('.', '\\.')} \\(407 Proxy Authentication Required\\)\\ntg: hint: Put the proxy's user and password in its URL`,
      ),
    );
  } finally {
    await px.close();
    await front.close();
    await e.close();
  }
});

test('HTTP_PROXY for an http API: absolute URLs through the proxy on one pool; NO_PROXY and loopback go direct', async (t) => {
  const e = await emulator({ latencyMs: [20, 60], rateLimit: null });
  const px = await countingProxy({});
  try {
    if (!(await zeroReachesLoopback(e.url))) return t.skip('0.0.0.0 does not reach a loopback listener on this system');
    const base = e.url.replace('127.0.0.1', '0.0.0.0');
    const d = tmp();
    const f = makeCsv(d, N);
    const proxy = `http://127.0.0.1:${px.port}`;
    const args = ['submit', f, ...SEND, '--base-url', base, '--insecure-http', '--json', '-q'];
    // Through the proxy: every request is forwarded; its connections are few (keep-alive).
    let r = await runInProcess(['--verbose', ...args], { cwd: d, env: { HTTP_PROXY: proxy } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`"http via proxy http://127\\.0\\.0\\.1:${px.port} \\(HTTP_PROXY\\)"`));
    const group = JSON.parse(r.stdout).taskgroup_id;
    assert.equal(await runsIn(e.url, group), N);
    assert.ok(px.s.forwarded >= 13, `${px.s.forwarded} requests forwarded`);
    assert.ok(px.s.sockets <= 3, `${px.s.sockets} connections to the proxy for ${px.s.forwarded} requests: one keep-alive pool`);
    t.diagnostic(`${px.s.forwarded} requests forwarded on ${px.s.sockets} connections`);
    assert.ok(
      px.s.targets.every((u) => u.startsWith(`${base}/v1/`)),
      'absolute URLs of the API',
    );
    assert.equal(px.s.tunnels, 0);
    // Each case: `status` (one or more requests) through the proxy or not.
    const through = async (/** @type {string[]} */ args, /** @type {Record<string, string>} */ env) => {
      const seen = px.s.forwarded;
      const out = await runInProcess(['--verbose', 'status', group, ...args], { cwd: d, env });
      assert.equal(out.code, 0, out.stderr);
      return { proxied: px.s.forwarded > seen, stderr: out.stderr };
    };
    const plain = ['--base-url', base, '--insecure-http'];
    // NO_PROXY names the host (with its port, and as a list): straight to it.
    for (const noProxy of [`0.0.0.0`, `example.com, 0.0.0.0:${new URL(e.url).port}`, '*']) {
      const c = await through(plain, { HTTP_PROXY: proxy, NO_PROXY: noProxy });
      assert.equal(c.proxied, false, noProxy);
      assert.match(c.stderr, /tg: http direct to 0\.0\.0\.0:\d+, no proxy \(NO_PROXY names 0\.0\.0\.0\)/);
    }
    // NO_PROXY for another port: proxied.
    assert.equal((await through(plain, { HTTP_PROXY: proxy, NO_PROXY: '0.0.0.0:1' })).proxied, true, 'a NO_PROXY entry for another port does not match');
    // Loopback: direct, whatever the variables say.
    assert.equal((await through(['--base-url', e.url], { HTTP_PROXY: proxy, HTTPS_PROXY: proxy })).proxied, false, 'loopback');
    // An https proxy variable does not apply to an http API (as curl reads them).
    assert.equal((await through(plain, { HTTPS_PROXY: proxy })).proxied, false, 'HTTPS_PROXY for an http API');
    // A malformed proxy is a usage error naming the variable, before anything is sent.
    r = await runInProcess(['status', group, '--base-url', base, '--insecure-http'], { cwd: d, env: { HTTP_PROXY: 'socks5://u:pw@127.0.0.1:1080' } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^tg: HTTP_PROXY must be an http:\/\/ or https:\/\/ proxy, not socks5:\/\//);
    assert.doesNotMatch(r.stderr, /pw@/);
  } finally {
    await px.close();
    await e.close();
  }
});
