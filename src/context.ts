// What every command receives: io, clock, the API client factory and the abort signal.
import type { ApiClient } from './api/client';
import { parseSeconds, redact, redactUrl } from './core/util';
import type { Clock, Random } from './core/clock';
import type { GlobalOptions } from './options';
import { apiConfig, apiVersionOf, proxyFor } from './config';
import { Display, displayMode } from './io/display';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  stderrIsTTY: boolean;
  /** stdin is a terminal (a question can be asked); absent: no. */
  stdinIsTTY?: boolean;
  /** stdout is a terminal (results printed there would cross a live progress line). */
  stdoutIsTTY?: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The time (tests and simulations pass their own). */
  clock: Clock;
  /** The random source of backoff jitter. */
  random: Random;
}

export type { GlobalOptions };

export interface Context {
  io: Io;
  clock: Clock;
  random: Random;
  global: GlobalOptions;
  signal: AbortSignal;
  /** stderr: log lines, the status line (phase, waits, progress) and errors; see io/display.ts. */
  display: Display;
  /** How long to keep retrying through a sustained API/network outage before exit 4 (env TG_OUTAGE_GIVE_UP_S, default 600 s). */
  giveUpMs: number;
  /**
   * Whether runs may have been sent: 'none' for commands that never send any; submit sets
   * 'not-yet' as it starts and 'started' before its first add-runs POST. A local file failure
   * before that is exit 2 (nothing was sent), after it exit 4.
   */
  sending: 'none' | 'not-yet' | 'started';
  /** The API client (created on first use; starts the in-process emulator with --emulator). */
  client(): Promise<ApiClient>;
  /** Human line on stderr (suppressed by --quiet), above the status line. */
  info(line: string): void;
  /** Warning on stderr (always), above the status line. */
  warn(line: string): void;
  /**
   * With --json, the command's summary object: on stdout when stdout carries nothing else (results
   * went to -o), else on stderr as {"summary":…} after the JSON Lines on stdout. Nothing without --json.
   */
  summary(obj: Record<string, unknown>, stdoutFree: boolean): void;
  close(): Promise<void>;
}

/** The stderr display of a command: a live line on a terminal, plain lines, or JSON with --json. */
export function createDisplay(global: Partial<GlobalOptions>, io: Io): Display {
  const apiKey = global.apiKey ?? io.env.PARALLEL_API_KEY;
  const interval = Number(global.progressInterval ?? 10);
  return new Display({
    out: io.stderr as NodeJS.WritableStream & { columns?: number },
    mode: displayMode({ json: global.json, stderrIsTTY: io.stderrIsTTY, env: io.env }),
    quiet: Boolean(global.quiet),
    intervalMs: Math.max(0.1, Number.isFinite(interval) ? interval : 10) * 1000,
    redact: (s) => redact(s, apiKey),
  });
}

export function createContext(global: GlobalOptions, io: Io, signal: AbortSignal, display = createDisplay(global, io)): Context {
  let clientP: Promise<ApiClient> | null = null;
  let closers: (() => Promise<void>)[] = [];
  const apiKey = global.apiKey ?? io.env.PARALLEL_API_KEY;
  const say = (line: string) => display.log(line, 'info');
  const ctx: Context = {
    io,
    clock: io.clock,
    random: io.random,
    global,
    signal,
    display,
    giveUpMs: outageMs(io.env.TG_OUTAGE_GIVE_UP_S),
    sending: 'none',
    info: (line) => {
      if (!global.quiet) say(line);
    },
    warn: (line) => display.log(line, 'warning'),
    summary: (obj, stdoutFree) => {
      if (!global.json) return;
      if (stdoutFree) io.stdout.write(JSON.stringify(obj) + '\n');
      else display.json({ summary: obj });
    },
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
    const verbose = global.verbose || io.env.TG_VERBOSE === '1';
    const log = verbose ? (l: string) => say(`tg: http ${l}`) : undefined;
    const onWait = (ms: number, reason: string) => display.waiting(ms, reason);
    const common = { log, giveUpMs: ctx.giveUpMs, onWait, clock: io.clock, random: io.random };
    if (global.emulator) {
      const { startEmulator } = await import('./emulator/server');
      const emu = await startEmulator({ port: 0, host: '127.0.0.1', latencyMs: [200, 1000] }); // a demo: runs take 0.2–1 s
      const client = new ApiClient({ ...common, baseUrl: emu.url, apiKey: apiKey || 'emulator', apiVersion: apiVersionOf(global, io.env) });
      closers.push(async () => {
        client.destroy();
        await emu.close();
      });
      ctx.info(`tg: using the built-in emulator at ${emu.url}`);
      return client;
    }
    const cfg = apiConfig(global, io.env);
    if (log) {
      const { proxy, why } = proxyFor(cfg.baseUrl, io.env);
      log(proxy ? `via proxy ${redactUrl(proxy)} (${why})` : `direct to ${new URL(cfg.baseUrl).host}, no proxy (${why})`);
    }
    const client = new ApiClient({ ...common, ...cfg });
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
