// `tg emulator`: a local Task Group + Task Run API on node:http, serving /v1 and /v1beta group
// paths identically. Follows the vendor OpenAPI spec and ../shared/api-reference.md §8.
// This file wires the routes to the handlers (handlers/) and runs the HTTP server; the shared
// state is in state.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpFail, errorBody, type Reply } from './http';
import { Router } from './router';
import { createState, findGroup, type Call, type EmulatorState, type EmulatorStats, type Handler } from './state';
import type { EmulatorOptions, LiveOptions } from './options';
import type { Store } from './store';
import { addRuns, createGroup, retrieveGroup, retrieveGroupRun } from './handlers/groups';
import { streamEvents, streamRuns } from './handlers/streams';
import { suggest, suggestProcessor } from './handlers/suggest';
import { createRun, retrieveInput, retrieveRun, runResult, streamRunEvents, v1Only } from './handlers/runs';

export type { EmulatorStats } from './state';
export type { EmulatorOptions, LiveOptions } from './options';
export { PROCESSORS } from './validate';

export interface EmulatorHandle {
  url: string;
  port: number;
  store: Store;
  stats: EmulatorStats;
  /** The seed in use (the one given, else the random one chosen): print it to reproduce a run. */
  seed: number;
  /** Change request-level faults while running (e.g. switch them off to read a reference copy). */
  setFaults(f: LiveOptions): void;
  close(): Promise<void>;
}

const fail =
  (status: number, message: string): Handler =>
  () => {
    throw new HttpFail(status, message);
  };
/** 405 for a known path, after the group lookup the real route makes (404 first if unknown). */
const groupThen405: Handler = (c) => {
  findGroup(c.st, c.params.gid);
  throw new HttpFail(405, 'Method Not Allowed');
};

export function buildRoutes(): Router<Handler> {
  const r = new Router<Handler>();
  for (const ver of ['v1', 'v1beta']) {
    const g = `/${ver}/tasks/groups`;
    r.add('POST', g, createGroup).add('*', g, fail(405, 'Method Not Allowed'));
    r.add('GET', `${g}/{gid}`, retrieveGroup).add('*', `${g}/{gid}`, groupThen405);
    r.add('POST', `${g}/{gid}/runs`, addRuns).add('GET', `${g}/{gid}/runs`, streamRuns);
    r.add('GET', `${g}/{gid}/events`, streamEvents).add('GET', `${g}/{gid}/events/{rid}`, streamEvents);
    r.add('GET', `${g}/{gid}/runs/{rid}`, retrieveGroupRun);
    for (const p of ['runs', 'events', 'runs/{rid}', 'events/{rid}']) r.add('*', `${g}/{gid}/${p}`, groupThen405);
  }
  // The Ingest API: /v1beta only, as the vendor's docs and CLI call it.
  r.add('POST', '/v1beta/tasks/suggest', suggest).add('POST', '/v1beta/tasks/suggest-processor', suggestProcessor);
  r.add('*', '/v1beta/tasks/suggest', fail(405, 'Method Not Allowed')).add('*', '/v1beta/tasks/suggest-processor', fail(405, 'Method Not Allowed'));
  const v1 = '/v1/tasks/runs';
  r.add('POST', v1, createRun).add('POST', '/v1beta/tasks/runs', fail(404, 'Not Found'));
  r.add('GET', `${v1}/{rid}`, retrieveRun).add('GET', `${v1}/{rid}/input`, retrieveInput).add('GET', `${v1}/{rid}/result`, runResult);
  r.add('GET', '/{ver}/tasks/runs/{rid}/events', streamRunEvents);
  for (const sub of ['', '/input', '/result']) r.add('GET', `/v1beta/tasks/runs/{rid}${sub}`, v1Only);
  r.add('*', '/{ver}/tasks/runs', fail(405, 'Method Not Allowed'));
  for (const sub of ['', '/input', '/result', '/events']) r.add('*', `/{ver}/tasks/runs/{rid}${sub}`, fail(405, 'Method Not Allowed'));
  return r;
}

/** GET /__emulator/stats: the counters, for users' CI to assert on what their code did. */
export function statsJson(st: EmulatorState): string {
  const s = st.stats;
  const runsByGroup: Record<string, number> = {};
  for (const g of st.store.groups.values()) runsByGroup[g.id] = g.runs.length;
  const rateLimit = st.rateLimit ? { ...st.rateLimit, unit: st.opts.rateLimitUnit } : null;
  const faultsInjected = s.errorsInjected + s.responsesLost + s.streamsDropped + s.errorEvents + s.eventsResent + s.eventsDropped + s.authFaults;
  return JSON.stringify({ ...s, faultsInjected, creditLimit: st.opts.creditLimit ?? null, rateLimit, runsByGroup });
}

/** What the real service answered a bad key with (not the documented envelope): authFault sends it. */
export const AUTH_FAULT_BODY = '{"code":16,"message":"Invalid API key (C.1)"}';

/** Answer one request: health, stats, auth, injected faults, then the route. */
async function dispatch(st: EmulatorState, routes: Router<Handler>, req: http.IncomingMessage, res: http.ServerResponse): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const key = req.headers['x-api-key'];
  const keyStr = Array.isArray(key) ? key[0] : key;
  if (path === '/' || path === '/healthz') return { status: 200, body: '{"ok":true}' };
  if (path === '/__emulator/stats') {
    if (method !== 'GET') throw new HttpFail(405, 'Method Not Allowed');
    return { status: 200, body: statsJson(st) };
  }
  if (method === 'POST' && path.endsWith('/runs')) st.stats.runCreateRequests++; // any request that could create runs
  if (st.opts.authFault > 0 && st.faults() < st.opts.authFault) {
    st.stats.authFaults++;
    if (method === 'POST') req.resume();
    return { status: 401, body: AUTH_FAULT_BODY };
  }
  if (!keyStr || (st.opts.apiKey !== undefined && keyStr !== st.opts.apiKey)) throw new HttpFail(401, 'Unauthorized: invalid or missing credentials');
  if (st.opts.errorRate > 0 && st.faults() < st.opts.errorRate) {
    st.stats.errorsInjected++;
    if (method === 'POST') req.resume();
    return { status: st.faults() < 0.5 ? 500 : 503, body: errorBody('Internal server error (emulated by --error-rate)') };
  }
  const delay = st.opts.responseDelayMs ?? 0;
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  const found = routes.find(method, path);
  if (!found || (found.params.ver !== undefined && found.params.ver !== 'v1' && found.params.ver !== 'v1beta')) throw new HttpFail(404, 'Not Found');
  const call: Call = { st, req, res, url, params: found.params, key: keyStr };
  return found.handler(call);
}

function requestListener(st: EmulatorState, routes: Router<Handler>): http.RequestListener {
  return (req, res) => {
    st.stats.requests++;
    const t0 = Date.now();
    const log = (status: number | string) => st.opts.log?.(`${req.method} ${req.url} ${status} ${Date.now() - t0}ms`);
    const send = (status: number, body: string, headers?: Record<string, string>) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    dispatch(st, routes, req, res)
      .then((r) => {
        if (r) send(r.status, r.body ?? '', r.headers);
        log(r ? r.status : res.headersSent ? res.statusCode : 'dropped');
      })
      .catch((e) => {
        if (e instanceof HttpFail) {
          if (e.status === 422) st.stats.validationErrors++;
          if (req.method === 'POST' && !req.readableEnded) req.resume();
          send(e.status, errorBody(e.message, e.detail), e.headers);
          log(e.status);
        } else {
          send(500, errorBody('Internal server error'));
          st.opts.log?.(`${req.method} ${req.url} 500 ${String(e?.stack ?? e)}`);
        }
      });
  };
}

async function listen(st: EmulatorState, server: http.Server): Promise<EmulatorHandle> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(st.opts.port, st.opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    store: st.store,
    stats: st.stats,
    seed: st.seed,
    setFaults: (f) => void Object.assign(st.opts, f),
    close: () =>
      new Promise<void>((resolve) => {
        st.store.stopTimers();
        for (const r of st.openStreams) r.socket?.destroy();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export function createEmulator(opts: EmulatorOptions = {}) {
  const st = createState(opts);
  const server = http.createServer(requestListener(st, buildRoutes()));
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return { server, store: st.store, stats: st.stats, seed: st.seed, listen: () => listen(st, server) };
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<EmulatorHandle> {
  return createEmulator(opts).listen();
}
