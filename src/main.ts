// The CLI bundle's entry (bin/tg and the single executable): only the command table; each
// command, the HTTP client and the emulator load when a command needs them.
export { run, VERSION } from './cli';
