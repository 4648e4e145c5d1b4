// The command-line actions: attaches the command functions to the table of src/options.ts, and the
// one exit point that maps typed errors to messages and exit codes. No import side effects.
import { isatty } from 'node:tty';
import { Command, CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { TgError, EXIT, InterruptedError, errorReport, fsError, isFsError, isTgError, usageError } from './errors';
import { shownPath } from './core/util';
import { systemClock, systemRandom } from './core/clock';
import { createContext, createDisplay, type Context, type Io } from './context';
import type { Display } from './io/display';
import { commands, globalOptions, type GlobalOptions } from './options';

declare const __TG_VERSION__: string;
export const VERSION = typeof __TG_VERSION__ === 'string' ? __TG_VERSION__ : '0.0.0-dev';

type Action = (ctx: Context) => Promise<number>;

/** The command-line table of src/options.ts with each command's action attached. */
export function buildProgram(
  onAction: (global: GlobalOptions, action: Action) => Promise<void>,
  out: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } } = { stdout: process.stdout, stderr: process.stderr },
  json = false,
) {
  // Set before the subcommands are added, so they inherit it: errors throw (never process.exit)
  // and usage errors read "tg: …" like every other error.
  const root = new Command('tg').exitOverride().configureOutput({
    writeOut: (s) => void out.stdout.write(s),
    writeErr: (s) => void out.stderr.write(s),
    outputError: (s, write) => write(json ? usageJson(s) : s.replace(/^error: /, 'tg: ')),
  });
  const program = globalOptions(root, VERSION).showSuggestionAfterError(true).enablePositionalOptions(false);
  const act = (action: Action) => onAction(program.opts(), action);

  commands.create(program).action((o) => act(async (ctx) => (await import('./commands/create')).create(o, ctx)));
  commands.submit(program).action((input, o) => act(async (ctx) => (await import('./commands/submit')).submit({ ...o, input }, ctx)));
  commands.spec(program).action((o) => act(async (ctx) => (await import('./commands/spec')).spec(o, ctx)));
  commands.watch(program).action((group, o) => act(async (ctx) => (await import('./commands/watch')).watch({ ...o, group }, ctx)));
  commands.fetch(program).action((group, o) => act(async (ctx) => (await import('./commands/fetch')).fetch({ ...o, group }, ctx)));
  commands.status(program).action((group, o) => act(async (ctx) => (await import('./commands/status')).status({ ...o, group }, ctx)));
  commands.jobs(program).action((o) => act(async (ctx) => (await import('./commands/jobs')).jobs(o, ctx)));
  commands.emulator(program).action((o) => act(async (ctx) => (await import('./commands/emulator')).emulator(o, ctx)));
  commands.completion(program).action((shell) => act(async (ctx) => (await import('./commands/completion')).completion(shell, ctx, program)));
  // Each command's --help lists its own options; the global ones are in `tg --help`, once.
  for (const c of program.commands) c.addHelpText('after', GLOBAL_HINT);
  program.hook('preAction', (_root, cmd) => checkSwallowedFlags(program, cmd));
  return program;
}

/**
 * `--base-url $URL --watch` with URL empty in the shell gives --base-url the value "--watch", and
 * --watch is then missing. Before any command runs: an option whose value is one of tg's own
 * flags is a usage error naming both.
 */
function checkSwallowedFlags(root: CommandUnknownOpts, cmd: CommandUnknownOpts): void {
  const flags = new Set([...root.options, ...cmd.options].flatMap((o) => [o.long, o.short]).filter((l) => l !== undefined));
  for (const c of new Set([root, cmd]))
    for (const o of c.options) {
      if (!o.required && !o.optional) continue;
      const v: unknown = c.getOptionValue(o.attributeName());
      for (const x of Array.isArray(v) ? v : [v])
        if (typeof x === 'string' && flags.has(x.split('=')[0]))
          throw usageError(
            `${o.long ?? o.flags} took "${x}" as its value; ${x.split('=')[0]} was not seen as an option`,
            `Give ${o.long ?? o.flags} a value: an empty shell variable leaves it none, and the next flag is taken instead.`,
          );
    }
}

const GLOBAL_HINT = 'Global options (--api-key, --base-url, --emulator, --json, -q, --verbose, …) work with every command: see tg --help.\n';

/** A usage error from commander ("error: unknown option '--x'") as the JSON of --json errors. */
function usageJson(s: string): string {
  return JSON.stringify(errorReport({ code: 'usage', message: s.replace(/^error: /, '').trim() }).json) + '\n';
}

/** The value of `--name v` or `--name=v` in argv (before commander parsed it). */
function argValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return undefined;
    if (argv[i] === name) return argv[i + 1];
    if (argv[i].startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
  }
  return undefined;
}

/**
 * Parse argv, run the command, and map any outcome to an exit code. Never throws, installs no
 * process handlers and never exits the process (src/main.ts does that). Aborting `signal` (main
 * does on SIGINT/SIGTERM) interrupts the command: it stops cleanly and returns 130.
 */
export async function run(argv: string[], ioIn?: Partial<Io>, signal?: AbortSignal): Promise<number> {
  const io: Io = {
    stdout: ioIn?.stdout ?? process.stdout,
    stderr: ioIn?.stderr ?? process.stderr,
    // process.stdin is made on first use (3-7 ms of start-up when it is a pipe or a file): only
    // `submit -` reads it; whether it is a terminal is asked of fd 0 directly.
    get stdin() {
      return ioIn?.stdin ?? process.stdin;
    },
    stderrIsTTY: ioIn?.stderrIsTTY ?? Boolean((process.stderr as { isTTY?: boolean }).isTTY),
    stdinIsTTY: ioIn?.stdinIsTTY ?? (ioIn?.stdin ? false : isatty(0)),
    stdoutIsTTY: ioIn?.stdoutIsTTY ?? (ioIn?.stdout ? false : Boolean((process.stdout as { isTTY?: boolean }).isTTY)),
    env: ioIn?.env ?? process.env,
    cwd: ioIn?.cwd ?? process.cwd(),
    clock: ioIn?.clock ?? systemClock,
    random: ioIn?.random ?? systemRandom,
  };
  // The pending request, sleep or stream and the child controllers of watch and submit --watch
  // listen here: at most 2 at a time in submit (--watch), watch, fetch (--join) and status --wait
  // (measured with a lower limit), so Node's default limit of 10 stands, and still warns of a
  // leak (a listener per row or per batch).
  const ac = new AbortController();
  // The caller's reason when it is one of ours (main passes a ClosedPipeError for a closed stdout).
  const interrupt = () => ac.abort(isTgError(signal?.reason) ? signal.reason : new InterruptedError());
  if (signal?.aborted) interrupt();
  else signal?.addEventListener('abort', interrupt, { once: true });
  let exitCode = 0;
  // --json before `--` (commander has not parsed yet when a usage error is reported)
  const jsonArg = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json');
  let display: Display | undefined;
  let ctx: Context | undefined;
  // commander's own output (help, version) goes out in one write at the end: `tg --help | head -1`
  // then finds the whole text in the pipe and exits 0, not 141 on a second write.
  let ownOut = '';
  const program = buildProgram(
    async (global, action) => {
      display = createDisplay(global, io);
      ctx = createContext(global, io, ac.signal, display);
      exitCode = await action(ctx);
    },
    { stdout: { write: (s: string) => (ownOut += s) }, stderr: io.stderr },
    jsonArg,
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    exitCode = report(e);
  } finally {
    if (ownOut) io.stdout.write(ownOut);
    signal?.removeEventListener('abort', interrupt);
    display?.close();
    await ctx?.close();
  }
  return exitCode;

  function report(e: unknown): number {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      // `tg` alone: the help went to stderr, as for any usage error (`tg help [cmd]` exits 0)
      if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : EXIT.USAGE;
      // commander already printed its message
      return EXIT.USAGE;
    }
    let err: TgError;
    if (isTgError(e)) err = e;
    else if (isFsError(e)) err = fsError(e, ctx?.sending ?? 'none', (p) => shownPath(p, io.cwd, io.env.HOME));
    else if (ac.signal.aborted) err = new InterruptedError();
    else {
      const msg = String((e as Error)?.stack ?? e);
      err = new TgError('internal', `internal error: ${msg}`, { hint: 'This is a bug in tg; please report it with the command you ran.', cause: e });
    }
    // The reader went away (also when the command stopped on the abort that followed): nothing to say.
    if (err.code === 'closed_pipe') return err.exitCode;
    if (err instanceof InterruptedError && isTgError(ac.signal.reason) && ac.signal.reason.code === 'closed_pipe') return ac.signal.reason.exitCode;
    // Before the command started (no display yet): the same display, from the flags in argv.
    display ??= createDisplay({ json: jsonArg, apiKey: argValue(argv, '--api-key') }, io);
    const { lines, json } = errorReport(err);
    display.error(lines, json);
    return err.exitCode;
  }
}
