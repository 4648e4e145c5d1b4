// What every command receives: io, clock, the API client factory and the abort signal.
import type { ApiClient } from './api/client';
import { usageError } from './errors';
import { parseSeconds, redact } from './core/util';
import type { GlobalOptions } from './options';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  stderrIsTTY: boolean;
  /** stdin is a terminal (a question can be asked); absent: no. */
  stdinIsTTY?: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Clock {
  now(): number;
}

export type { GlobalOptions };

export interface Context {
  io: Io;
  clock: Clock;
  global: GlobalOptions;
  signal: AbortSignal;
  /** How long to keep retrying through a sustained API/network outage before exit 4 (env TG_OUTAGE_GIVE_UP_S, default 600 s). */
  giveUpMs: number;
  /** The API client (created on first use; starts the in-process emulator with --emulator). */
  client(): Promise<ApiClient>;
  /** Human line on stderr (suppressed by --quiet). */
  info(line: string): void;
  /** Warning on stderr (always). */
  warn(line: string): void;
  close(): Promise<void>;
}

export function createContext(global: GlobalOptions, io: Io, signal: AbortSignal): Context {
  let clientP: Promise<ApiClient> | null = null;
  let closers: (() => Promise<void>)[] = [];
  const apiKey = global.apiKey ?? io.env.PARALLEL_API_KEY;
  const say = (line: string) => io.stderr.write(redact(line, apiKey) + '\n');
  const ctx: Context = {
    io,
    clock: { now: () => Date.now() },
    global,
    signal,
    giveUpMs: outageMs(io.env.TG_OUTAGE_GIVE_UP_S),
    info: (line) => {
      if (!global.quiet) say(line);
    },
    warn: say,
    client() {
      if (!clientP) clientP = makeClient();
      return clientP;
    },
    async close() {
      for (const c of closers) await c().catch(() => undefined);
      closers = [];
    },
  };
  async function makeClient(): Promise<ApiClient> {
    const { ApiClient } = await import('./api/client');
    const apiVersion = (global.apiVersion ?? io.env.TG_API_VERSION ?? 'v1') as 'v1' | 'v1beta';
    if (apiVersion !== 'v1' && apiVersion !== 'v1beta') throw usageError(`--api-version must be v1 or v1beta, not "${apiVersion}"`);
    const verbose = global.verbose || io.env.TG_VERBOSE === '1';
    const log = verbose ? (l: string) => say(`tg: http ${l}`) : undefined;
    if (global.emulator) {
      const { startEmulator } = await import('./emulator/server');
      const emu = await startEmulator({ port: 0, host: '127.0.0.1' });
      const client = new ApiClient({ baseUrl: emu.url, apiKey: apiKey || 'emulator', apiVersion, log, giveUpMs: ctx.giveUpMs });
      closers.push(async () => {
        client.destroy();
        await emu.close();
      });
      ctx.info(`tg: using the built-in emulator at ${emu.url}`);
      return client;
    }
    const baseUrl = global.baseUrl ?? io.env.PARALLEL_BASE_URL ?? 'https://api.parallel.ai';
    const client = new ApiClient({ baseUrl, apiKey: apiKey ?? '', apiVersion, log, insecureHttp: global.insecureHttp, giveUpMs: ctx.giveUpMs });
    // The command has finished and what it wrote is durable: anything still open (an event
    // stream left at --timeout, a result fetch cut by an interrupt) is dropped, not waited for.
    closers.push(async () => client.destroy());
    return client;
  }
  return ctx;
}

function outageMs(v: string | undefined): number {
  return v === undefined || v === '' ? 600_000 : parseSeconds(v, 'TG_OUTAGE_GIVE_UP_S');
}
