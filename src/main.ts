// The CLI bundle's entry (bin/tg and the single executable): only the command table; each
// command, the HTTP client and the emulator load when a command needs them.
import { run } from './cli';

export { run, VERSION } from './cli';

/** Run as the process: set the exit code; a signal arriving after the command finished exits with that code at once. */
export function main(argv: string[]): Promise<void> {
  return run(argv).then((code) => {
    process.exitCode = code;
    const now = () => process.exit(code);
    process.on('SIGINT', now);
    process.on('SIGTERM', now);
  });
}
