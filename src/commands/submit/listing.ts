// Listing a group's runs into a Ledger (GETs do not count against the rate limit). The listing
// runs in a worker thread when the worker's code is at hand (dist/list-worker.cjs, or the single
// executable's asset): reading, parsing and hashing 100k runs takes the main thread about a second,
// which the validation pass then shares with it. Otherwise it runs here.
import { count } from '../../core/util';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ApiClient } from '../../api/client';
import { Ledger } from '../../core/ledger';
import { TgError } from '../../errors';
import type { ListRunsJob, ListRunsMessage } from '../../workers/listRuns';
import type { Job } from './job';

export async function listLedger(job: Job, client: ApiClient, group: string, expected: number, signal = job.ctx.signal): Promise<Ledger> {
  job.ctx.info(`tg: listing the ${count(expected, 'run')} of ${group} to send only the rows it lacks`);
  const code = workerCode();
  const ledger = code
    ? await listInWorker(code, client, { client: client.wireOptions, group, expected, giveUpMs: job.ctx.giveUpMs, dedupe: job.o.dedupe }, signal)
    : await listHere(job, client, group, expected, signal);
  if (ledger.duplicates)
    job.ctx.warn(
      `tg: warning: ${group} holds ${ledger.duplicates} runs whose row was sent more than once (by an older tg or another tool); each row counts once`,
    );
  return ledger;
}

/** The listing on this thread (no worker code at hand). */
function listHere(job: Job, client: ApiClient, group: string, expected: number, signal: AbortSignal): Promise<Ledger> {
  const giveUpMs = job.ctx.giveUpMs;
  return new Ledger(expected, job.o.dedupe).fill(client.streamRunBatches(group, { signal, giveUpMs, idleMs: Math.min(giveUpMs, 60_000) }));
}

/** The worker's source: the single executable's asset, or a loader of the file the build writes beside the bundle. */
function workerCode(): string | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sea = require('node:sea') as { isSea(): boolean; getAsset(key: string, encoding: string): string };
    if (sea.isSea()) return sea.getAsset('list-worker.cjs', 'utf8');
  } catch {
    /* not a single executable, or a node without node:sea */
  }
  const file = path.join(__dirname, 'list-worker.cjs');
  return fs.existsSync(file) ? loader(file) : null;
}

/**
 * Runs the worker's bundle compiled with the V8 code cache the build wrote beside it, as bin/tg
 * does for the CLI (documented APIs only; a missing or rejected cache just means V8 compiles it).
 */
function loader(file: string): string {
  return `'use strict';
const fs = require('fs'), path = require('path'), vm = require('vm'), { createRequire } = require('module');
const file = ${JSON.stringify(file)};
let cachedData;
try { cachedData = fs.readFileSync(file + '.cache'); } catch { cachedData = undefined; }
const source = '(function (exports, require, module, __filename, __dirname) {' + fs.readFileSync(file, 'utf8') + '\\n})';
const m = { exports: {} };
new vm.Script(source, { filename: file, cachedData }).runInThisContext()(m.exports, createRequire(file), m, file, path.dirname(file));
`;
}

function listInWorker(code: string, client: ApiClient, data: ListRunsJob, signal: AbortSignal): Promise<Ledger> {
  signal.throwIfAborted();
  const worker = new Worker(code, { eval: true, workerData: data });
  return new Promise<Ledger>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason);
      void worker.terminate();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (f: () => void) => {
      signal.removeEventListener('abort', onAbort);
      void worker.terminate();
      f();
    };
    worker.on('message', (m: ListRunsMessage) => {
      if (m.t === 'log') client.relayLog(m.line);
      else if (m.t === 'done') settle(() => resolve(Ledger.from(m.ledger)));
      else settle(() => reject(fromWire(m.error)));
    });
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (n) => settle(() => reject(new Error(`the listing worker exited with ${n}`))));
  });
}

function fromWire(e: Extract<ListRunsMessage, { t: 'error' }>['error']): Error {
  return 'code' in e ? new TgError(e.code as TgError['code'], e.message, { hint: e.hint }) : new Error(e.message);
}
