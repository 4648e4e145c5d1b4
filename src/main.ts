// The CLI bundle's entry (bin/tg and the single executable): only the command table; each
// command, the HTTP client and the emulator load when a command needs them.
import { setFlagsFromString } from 'node:v8';
import { run } from './cli';

export { run, VERSION } from './cli';

/** Run as the process: set the exit code; a signal arriving after the command finished exits with that code at once. */
export function main(argv: string[]): Promise<void> {
  if (argv[0] !== 'emulator') tuneHeap(); // the emulator holds every run: default heap growth suits it
  return run(argv).then((code) => {
    process.exitCode = code;
    const now = () => process.exit(code);
    process.on('SIGINT', now);
    process.on('SIGTERM', now);
  });
}

/**
 * Memory: tg streams, so its live heap stays small (under 20 MB submitting 100k rows), but V8
 * grows the heap generously and tiers undici's WebAssembly HTTP parser up to optimised code;
 * together that is ~60 MB of peak RSS tg does not need (183 → 125 MB submitting 100k rows, same
 * speed; see bench/). Both flags are read later (heap growth, WebAssembly compile), before undici
 * loads. TG_NO_TUNE_HEAP=1 leaves V8's defaults.
 */
function tuneHeap() {
  if (process.env.TG_NO_TUNE_HEAP) return;
  setFlagsFromString('--liftoff-only');
  setFlagsFromString('--heap-growing-percent=25');
}
