// `tg emulator`: run the local API until SIGINT/SIGTERM. Its flags, their parsers and defaults are
// the emulator's table (src/emulator/options.ts); commander has parsed every value already.
import type { Context } from '../context';
import { usageError } from '../errors';
import type { EmulatorCommandValues } from '../options';
import { EMULATOR_FLAGS, fromCommandLine, givenBehaviours, withDefaults } from '../emulator/options';

export async function emulator(values: EmulatorCommandValues, ctx: Context): Promise<number> {
  const opts = fromCommandLine(values);
  const { startEmulator } = await import('../emulator/server');
  const verbose = ctx.global.verbose || ctx.io.env.TG_VERBOSE === '1';
  const handle = await startEmulator({
    ...opts,
    apiKey: opts.apiKey ?? ctx.global.apiKey,
    log: verbose ? (l) => ctx.warn(`emulator: ${l}`) : undefined,
  }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EADDRINUSE') throw usageError(`port ${opts.port} is in use`, 'Pick another with --port, or --port 0 for any free port.');
    throw e;
  });
  ctx.io.stdout.write(
    ctx.global.json
      ? JSON.stringify({ listening: handle.url, stats: `${handle.url}/__emulator/stats`, seed: handle.seed }) + '\n'
      : `listening on ${handle.url}\n`,
  );
  ctx.info(`tg emulator: ${banner(opts, handle.seed)}; counters at ${handle.url}/__emulator/stats; Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await handle.close();
  ctx.info('tg emulator: stopped');
  return 0;
}

/** "rate limit 2000/1m (requests), latency 1s..5s, --fail-rate 0.05, --seed 7": what it runs with. */
function banner(given: ReturnType<typeof fromCommandLine>, seed: number): string {
  const o = withDefaults(given);
  const rate = EMULATOR_FLAGS.rateLimit.show!(o.rateLimit);
  const latency = EMULATOR_FLAGS.latencyMs.show!(o.latencyMs);
  const extra = givenBehaviours({ ...given, seed });
  return `rate limit ${rate} (${o.rateLimitUnit}), latency ${latency}${extra ? `, ${extra}` : ''}`;
}
