// The CLI bundle's entry (bin/tg and the single executable): the process wiring, and only here
// (signals, the exit code, process.exit). Everything else is the library's `run(argv, io, signal)`.
import { run } from './cli';
import { ClosedPipeError, EXIT, InterruptedError, errorReport } from './errors';
import { SignalPolicy } from './core/signals';

export { run, VERSION } from './cli';

/**
 * Run tg as the process. The first SIGINT/SIGTERM aborts the command (it stops cleanly and exits
 * 130, resumable); a second one exits 130 at once; the same signal delivered twice at once by one
 * sender (timeout(1)) is one (core/signals.ts). A signal after the command has finished (while the
 * process winds down) exits at once with the command's code.
 */
export async function main(argv: string[]): Promise<void> {
  const ac = new AbortController();
  // With --json, stderr carries only JSON objects, these last words included.
  const json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json');
  // On a terminal, first clear a progress line that may still be drawn.
  const clear = process.stderr.isTTY && process.env.TERM !== 'dumb' ? '\r\x1b[K' : '';
  const say = (e: { code: string; message: string; hint?: string }) => {
    const r = errorReport(e);
    process.stderr.write(json ? JSON.stringify(r.json) + '\n' : clear + r.lines.join('\n') + '\n');
  };
  const signals = new SignalPolicy((f) => setImmediate(f));
  const onSignal = (sig: NodeJS.Signals) => {
    const a = signals.on(sig);
    if (a.act === 'ignore') return;
    if (a.act === 'stop') return ac.abort(new InterruptedError());
    if (a.say) say({ code: 'interrupted', message: a.say });
    process.exit(a.code ?? process.exitCode ?? EXIT.OK);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that closes stdout (`tg fetch G | head -1`) ends the command quietly, as a shell
  // expects of a closed pipe: the command stops cleanly (its state durable) and tg exits 141.
  let pipeClosed = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    pipeClosed = true;
    if (signals.finished) process.exit(EXIT.CLOSED_PIPE);
    ac.abort(new ClosedPipeError());
  });
  // If the event loop empties while the command is still pending, that is a bug (a promise nobody
  // will settle): say so and fail instead of exiting 0 silently.
  const onBeforeExit = () => {
    say({
      code: 'internal',
      message: 'internal error: the command stopped without finishing',
      hint: 'This is a bug in tg; please report it with the command you ran.',
    });
    process.exit(EXIT.API);
  };
  process.on('beforeExit', onBeforeExit);
  const code = await run(argv, {}, ac.signal);
  process.off('beforeExit', onBeforeExit);
  process.exitCode = pipeClosed ? EXIT.CLOSED_PIPE : code;
  signals.finished = true;
}
