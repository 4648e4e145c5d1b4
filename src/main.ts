// The CLI bundle's entry (bin/tg and the single executable): the process wiring, and only here
// (signals, the exit code, process.exit). Everything else is the library's `run(argv, io, signal)`.
import { setFlagsFromString } from 'node:v8';
import { run } from './cli';
import { EXIT, InterruptedError } from './errors';

export { run, VERSION } from './cli';

/**
 * Run tg as the process. The first SIGINT/SIGTERM aborts the command (it stops cleanly and exits
 * 130, resumable); a second one exits 130 at once. A signal after the command has finished (while
 * the process winds down) exits at once with the command's code.
 */
export async function main(argv: string[]): Promise<void> {
  keepHttpParserOnBaseline();
  const ac = new AbortController();
  let finished = false;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (finished && signals === 0) process.exit(process.exitCode ?? EXIT.OK);
    if (++signals > 1) {
      process.stderr.write(`tg: ${sig} again: exiting now\n`);
      process.exit(EXIT.INTERRUPTED);
    }
    ac.abort(new InterruptedError());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that closes stdout (`tg fetch G | head -1`) ends the command quietly, as a shell
  // expects of a closed pipe: the command stops cleanly (its state durable) and tg exits 141.
  let pipeClosed = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    pipeClosed = true;
    if (finished) process.exit(EXIT.CLOSED_PIPE);
    ac.abort(new InterruptedError());
  });
  // If the event loop empties while the command is still pending, that is a bug (a promise nobody
  // will settle): say so and fail instead of exiting 0 silently.
  const onBeforeExit = () => {
    process.stderr.write(
      'tg: internal error: the command stopped without finishing\ntg: hint: This is a bug in tg; please report it with the command you ran.\n',
    );
    process.exit(EXIT.API);
  };
  process.on('beforeExit', onBeforeExit);
  const code = await run(argv, {}, ac.signal);
  process.off('beforeExit', onBeforeExit);
  process.exitCode = pipeClosed ? EXIT.CLOSED_PIPE : code;
  finished = true;
}

/**
 * The one V8 flag tg sets, and why. undici parses HTTP with a WebAssembly build of llhttp; after
 * the first responses V8 recompiles its large parser function with TurboFan on a background
 * thread, and the process cannot exit until that compile ends. Measured on 2 busy cores (load
 * ~12; medians of 8, against the emulator): `tg status` 0.66 → 0.43 s CPU and 0.87 → 0.11 s from
 * its last line to its exit; `tg submit` of 200 rows 0.90 → 0.58 s CPU, 0.96 → 0.16 s. Every
 * command that talks HTTP pays it (the test suite spawns tg ~150 times). `--liftoff-only`
 * keeps WebAssembly on V8's baseline compiler. It is read when a module is compiled, and undici
 * compiles the parser on its first connection, long after this runs (before any import of it).
 * The CLI process only: the library (`run`) never changes flags of a process it is embedded in.
 */
function keepHttpParserOnBaseline(): void {
  setFlagsFromString('--liftoff-only');
}
