// A worker thread that lists a group's runs into a Ledger (see commands/submit/listing.ts): the
// stream is read, its events parsed and hashed here while the main thread validates the input.
// Its own ApiClient (the same reconnects, retries and give-up as the main thread's) from the
// main client's options; request log lines and the result go back as messages.
import { parentPort, workerData } from 'node:worker_threads';
import { ApiClient, type ClientOptions } from '../api/client';
import { Ledger } from '../core/ledger';
import { TgError } from '../errors';

export interface ListRunsJob {
  client: ClientOptions;
  group: string;
  /** The group's run count when the listing starts. */
  expected: number;
  giveUpMs: number;
  /** Content identity (see core/ledger.ts rowMarks). */
  dedupe: boolean;
}

export type ListRunsMessage =
  | { t: 'log'; line: string }
  | { t: 'done'; ledger: ReturnType<Ledger['export']> }
  | { t: 'error'; error: { code: string; message: string; exitCode: number; hint?: string } | { message: string } };

async function listRuns(job: ListRunsJob, post: (m: ListRunsMessage, transfer?: ArrayBuffer[]) => void): Promise<void> {
  const client = new ApiClient({ ...job.client, log: (line) => post({ t: 'log', line: `${line} (listing thread)` }) });
  try {
    const idleMs = Math.min(job.giveUpMs, 60_000);
    const ledger = await new Ledger(job.expected, job.dedupe).fill(client.streamRunBatches(job.group, { giveUpMs: job.giveUpMs, idleMs }));
    const data = ledger.export();
    const tables = [data.present, data.slots, data.content?.table];
    const buffers = tables.flatMap((t) => (t ? [t.keys, t.vals] : [])).flatMap((a) => (a ? [a.buffer as ArrayBuffer] : []));
    post({ t: 'done', ledger: data }, buffers);
  } catch (e) {
    const { code, message, exitCode, hint } = e as TgError;
    post({ t: 'error', error: e instanceof TgError ? { code, message, exitCode, hint } : { message: String((e as Error)?.message ?? e) } });
  } finally {
    client.destroy();
  }
}

if (parentPort) {
  const port = parentPort;
  void listRuns(workerData as ListRunsJob, (m, transfer) => port.postMessage(m, transfer));
}
