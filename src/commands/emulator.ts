// `tg emulator`: run the local API until SIGINT/SIGTERM.
import type { Context } from '../context';
import { usageError } from '../errors';
import { parseDuration, parseRate } from '../core/rateBudget';
import type { EmulatorOptions } from '../options';

/** The `tg emulator` flags, as declared in src/options.ts. */
export type EmulatorCommandOptions = EmulatorOptions;

function duration(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw usageError(`${flag}: ${(e as Error).message}`);
  }
}

export function parseLatency(text: string): [number, number] {
  const parts = text.split('..');
  try {
    if (parts.length === 1) {
      const d = parseDuration(parts[0]);
      return [d, d];
    }
    if (parts.length !== 2) throw new RangeError('x');
    const lo = parseDuration(parts[0]);
    const hi = parseDuration(parts[1]);
    if (hi < lo) throw new RangeError('x');
    return [lo, hi];
  } catch {
    throw usageError(`--latency must be <min>..<max>, e.g. 1s..5s or 200ms..6s (got "${text}")`);
  }
}

/** The behaviour options given (faults, credit, delays, seed), as flags: "--fail-rate 0.05, --seed 7". */
function settings(o: EmulatorCommandOptions): string {
  const given: [string, unknown][] = [
    ['--fail-rate', o.failRate || undefined],
    ['--error-rate', o.errorRate || undefined],
    ['--drop-streams-after', o.dropStreamsAfter],
    ['--lose-responses', o.loseResponses || undefined],
    ['--action-required', o.actionRequired || undefined],
    ['--action-required-for', o.actionRequiredFor],
    ['--cancel-rate', o.cancelRate || undefined],
    ['--stream-error-after', o.streamErrorAfter],
    ['--resend-events', o.resendEvents || undefined],
    ['--drop-events', o.dropEvents || undefined],
    ['--credit-limit', o.creditLimit],
    ['--response-delay', o.responseDelay],
    ['--seed', o.seed],
  ];
  return given
    .filter(([, v]) => v !== undefined)
    .map(([f, v]) => `${f} ${String(v)}`)
    .join(', ');
}

export async function emulator(opts: EmulatorCommandOptions, ctx: Context): Promise<number> {
  let rateLimit;
  try {
    rateLimit = parseRate(opts.rateLimit);
  } catch (e) {
    throw usageError(`--rate-limit: ${(e as Error).message}`);
  }
  const latencyMs = parseLatency(opts.latency);
  const { startEmulator } = await import('../emulator/server');
  const verbose = ctx.global.verbose || ctx.io.env.TG_VERBOSE === '1';
  const handle = await startEmulator({
    host: opts.host,
    port: opts.port,
    apiKey: opts.apiKey ?? ctx.global.apiKey,
    rateLimit,
    rateLimitUnit: opts.rateLimitUnit,
    latencyMs,
    failRate: opts.failRate,
    errorRate: opts.errorRate,
    dropStreamsAfter: opts.dropStreamsAfter,
    loseResponses: opts.loseResponses,
    actionRequiredRate: opts.actionRequired,
    actionRequiredMs: opts.actionRequiredFor === undefined ? undefined : duration('--action-required-for', opts.actionRequiredFor),
    cancelRate: opts.cancelRate,
    streamErrorAfter: opts.streamErrorAfter,
    resendEvents: opts.resendEvents,
    dropEvents: opts.dropEvents,
    creditLimit: opts.creditLimit,
    streamLifetimeMs: duration('--stream-lifetime', opts.streamLifetime),
    responseDelayMs: opts.responseDelay === undefined ? undefined : duration('--response-delay', opts.responseDelay),
    seed: opts.seed,
    log: verbose ? (l) => ctx.warn(`emulator: ${l}`) : undefined,
  }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EADDRINUSE') throw usageError(`port ${opts.port} is in use`, 'Pick another with --port, or --port 0 for any free port.');
    throw e;
  });
  ctx.io.stdout.write(
    ctx.global.json ? JSON.stringify({ listening: handle.url, stats: `${handle.url}/__emulator/stats` }) + '\n' : `listening on ${handle.url}\n`,
  );
  const extra = settings(opts);
  ctx.info(
    `tg emulator: rate limit ${opts.rateLimit} (${opts.rateLimitUnit}), latency ${opts.latency}${extra ? `, ${extra}` : ''}; counters at ${handle.url}/__emulator/stats; Ctrl-C stops it`,
  );
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await handle.close();
  ctx.info('tg emulator: stopped');
  return 0;
}
