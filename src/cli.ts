// The command-line table: wires commander to the command functions, and the one exit point that
// maps typed errors to messages and exit codes. Importing this module has no side effects.
import { setMaxListeners } from 'node:events';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { TgError, EXIT, InterruptedError, isTgError } from './errors';
import { createContext, type Context, type GlobalOptions, type Io } from './context';
import { redact } from './core/util';

declare const __TG_VERSION__: string;
export const VERSION = typeof __TG_VERSION__ === 'string' ? __TG_VERSION__ : '0.0.0-dev';

const int = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
};
const prob = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
};
const collect = (v: string, prev: string[] = []) => [...prev, v];

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

export interface RunResult {
  exitCode: number;
}

type Action = (ctx: Context, args: unknown[], opts: Record<string, unknown>) => Promise<number>;

export function buildProgram(
  onAction: (global: GlobalOptions, action: Action, args: unknown[], opts: Record<string, unknown>) => Promise<void>,
  out: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } } = { stdout: process.stdout, stderr: process.stderr },
): Command {
  const program = new Command('tg');
  // Set before the subcommands are added, so they inherit it: errors throw (never process.exit)
  // and usage errors read "tg: …" like every other error.
  program.exitOverride().configureOutput({
    writeOut: (s) => void out.stdout.write(s),
    writeErr: (s) => void out.stderr.write(s),
    outputError: (s, write) => write(s.replace(/^error: /, 'tg: ')),
  });
  program.configureHelp({ showGlobalOptions: true }); // each command's --help lists --api-key, --emulator, …
  program
    .description('Batch runner for the Parallel Task Group API: every row exactly once, at the rate limit, resumable.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addOption(new Option('--api-key <key>', 'API key (env PARALLEL_API_KEY)'))
    .addOption(new Option('--base-url <url>', 'API root (env PARALLEL_BASE_URL)').default(undefined, 'https://api.parallel.ai'))
    .addOption(new Option('--api-version <v>', 'group path version (env TG_API_VERSION)').choices(['v1', 'v1beta']))
    .option('--emulator', 'use the built-in emulator in-process (no key, no network)')
    .option('--json', 'machine-readable JSON on stdout (and errors as JSON on stderr)')
    .option('-q, --quiet', 'no progress output')
    .option('--verbose', 'request log on stderr (env TG_VERBOSE=1); the key is never shown')
    .option('--progress-interval <s>', 'seconds between plain progress lines when stderr is not a terminal', '10')
    .option('--insecure-http', 'allow plain http:// to a non-loopback --base-url')
    .showSuggestionAfterError(true)
    .enablePositionalOptions(false)
    .addHelpText(
      'after',
      examples([
        'tg submit companies.csv --spec spec.json --watch -o results.jsonl',
        'tg submit companies.csv --emulator --watch -o results.jsonl   # offline demo',
        'tg watch tgrp_123 -o results.jsonl',
        'tg fetch tgrp_123 --format csv --join companies.csv -o enriched.csv',
      ]) + '\nExit codes: 0 done, 1 some runs failed, 2 bad usage/input, 3 auth refused, 4 API/network error (resumable), 5 timed out (resumable), 130 interrupted (resumable).\n',
    );

  const act = (action: Action) =>
    async function (this: Command, ...args: unknown[]) {
      const cmd = args[args.length - 1] as Command;
      const opts = cmd.opts();
      await onAction(program.opts() as GlobalOptions, action, args.slice(0, -2), opts);
    };

  program
    .command('create')
    .description('Create a task group and print its taskgroup_id.')
    .option('--metadata <key=value>', 'group metadata (repeatable)', collect)
    .addHelpText('after', examples(['tg create', 'tg create --metadata project=q3 --json', 'GROUP=$(tg create) && tg submit rows.csv --group "$GROUP"']))
    .action(
      act(async (ctx, _a, o) => {
        const { create } = await import('./commands/create');
        return create(o as never, ctx);
      }),
    );

  program
    .command('submit')
    .description('Validate every row of a CSV/JSON/JSONL file (or stdin) and add the rows as runs, exactly once, at the rate limit. Rerunning the same command resumes.')
    .argument('<input>', 'input file (.csv, .json, .jsonl, optionally .gz) or - for stdin')
    .option('--group <id>', 'add to an existing group (default: create one)')
    .option('--spec <file>', 'TaskSpec JSON (input_schema, output_schema), sent as default_task_spec')
    .option('--processor <name>', 'processor for every run', 'base')
    .addOption(new Option('--format <fmt>', 'input format (default: by extension; required for stdin)').choices(['csv', 'json', 'jsonl']))
    .option('--key <column>', 'unique row key column (default: row number)')
    .option('--input-column <column>', "send this column's text as the input instead of the row object")
    .option('--metadata <key=value>', 'metadata added to every run (repeatable)', collect)
    .option('--batch-size <n>', 'inputs per POST (1-1000)', int('--batch-size', 1, 1000), 1000)
    .option('--rate <n>', 'run creates per minute, client-side budget ("2000", "2000/60s" or "off")', '2000')
    .option('--state <file>', 'journal that makes a rerun resume (default .tg/<input-name>-<hash>.json)')
    .option('--dry-run', 'parse, validate and print the batch plan; send nothing')
    .option('--skip-invalid', 'send valid rows; write rejected rows with reasons to <state>.rejects.jsonl')
    .option('--restart', 'discard the journal and start over (a new group unless --group)')
    .option('--watch', 'keep going as `tg watch` while and after submitting')
    .option('-o, --output <file>', 'with --watch: results file (JSONL)')
    .option('--timeout <s>', 'with --watch: give up waiting after this many seconds (exit 5)')
    .addHelpText(
      'after',
      examples([
        'tg submit companies.csv --spec company-spec.json',
        'tg submit companies.csv --spec company-spec.json --watch -o results.jsonl',
        'cat rows.jsonl | tg submit - --format jsonl --state rows.state.json --json',
        'tg submit companies.csv --key company_website --dry-run',
      ]),
    )
    .action(
      act(async (ctx, a, o) => {
        const { submit } = await import('./commands/submit');
        return submit({ ...(o as object), input: a[0] as string } as never, ctx);
      }),
    );

  program
    .command('watch')
    .description("Stream a group's results: one JSON line per run that finished, exactly once, resumable with -o.")
    .argument('<group>', 'taskgroup_id')
    .option('-o, --output <file>', 'results file (JSONL); a rerun resumes from it')
    .option('--timeout <s>', 'give up after this many seconds (exit 5; the same command resumes)')
    .option('--follow', 'keep listening for runs added later')
    .addHelpText('after', examples(['tg watch tgrp_123 -o results.jsonl', 'tg watch tgrp_123 | jq -c .output.content', 'tg watch tgrp_123 -o results.jsonl --timeout 3600']))
    .action(
      act(async (ctx, a, o) => {
        const { watch } = await import('./commands/watch');
        return watch({ ...(o as object), group: a[0] as string } as never, ctx);
      }),
    );

  program
    .command('fetch')
    .description(
      "Fetch a group's runs with inputs and outputs as JSONL or CSV; --join writes your input rows with output columns. " +
        'With -o only finished runs are written and unfinished ones counted (exit 5; rerun later to add them); to stdout every run is shown with its status.',
    )
    .argument('[group]', 'taskgroup_id')
    .option('-o, --output <file>', 'output file; a rerun resumes from it')
    .addOption(new Option('--format <fmt>', 'output format (default jsonl; with --join, that of the input)').choices(['jsonl', 'csv']))
    .addOption(new Option('--status <s>', 'only runs with this status').choices(['queued', 'running', 'completed', 'failed', 'cancelled', 'action_required', 'cancelling']))
    .option('--join <input>', 'write the original input rows, in order, with output columns appended (matched by tg_key)')
    .option('--key <column>', 'with --join: the --key column used at submit')
    .option('--force', 'with --join -o: replace a file tg did not write (never the input)')
    .option('--raw-csv', 'CSV cells verbatim: no apostrophe before a leading = + - @ (formula guard)')
    .option('--run <run_id>', "print one run's result")
    .addHelpText('after', examples(['tg fetch tgrp_123 -o results.jsonl', 'tg fetch tgrp_123 --format csv -o results.csv', 'tg fetch tgrp_123 --join companies.csv -o enriched.csv', 'tg fetch --run trun_abc']))
    .action(
      act(async (ctx, a, o) => {
        const { fetch } = await import('./commands/fetch');
        return fetch({ ...(o as object), group: a[0] as string | undefined } as never, ctx);
      }),
    );

  program
    .command('status')
    .description("Print a group's run counts by status; --wait blocks until it is inactive.")
    .argument('<group>', 'taskgroup_id')
    .option('--wait', 'wait until the group is inactive')
    .option('--timeout <s>', 'with --wait: give up after this many seconds (exit 5)')
    .addHelpText('after', examples(['tg status tgrp_123', 'tg status tgrp_123 --json | jq .task_run_status_counts', 'tg status tgrp_123 --wait --timeout 600']))
    .action(
      act(async (ctx, a, o) => {
        const { status } = await import('./commands/status');
        return status({ ...(o as object), group: a[0] as string } as never, ctx);
      }),
    );

  program
    .command('emulator')
    .description('Run a local emulator of the Task Group and Task Run API (for demos, tests and your CI).')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', int('--port', 0, 65535), 8787)
    .option('--api-key <key>', 'require exactly this key (default: any non-empty key)')
    .option('--rate-limit <n/window>', 'run creates per window per key ("2000/60s", "2500/5s", "off")', '2000/60s')
    .option('--latency <min..max>', 'simulated run duration, uniform ("200ms..6s")', '1s..5s')
    .option('--fail-rate <p>', 'share of runs that end failed', prob, 0)
    .option('--error-rate <p>', 'share of requests answered 500/503', prob, 0)
    .option('--drop-streams-after <n>', 'cut every SSE connection after n events', int('--drop-streams-after', 1, 1e9))
    .option('--lose-responses <p>', 'share of add-runs POSTs carried out whose response is lost', prob, 0)
    .option('--seed <n>', 'make outputs, latencies and faults reproducible', int('--seed', 0, 2 ** 31 - 1))
    .addHelpText('after', examples(['tg emulator', 'tg emulator --port 0 --latency 200ms..2s --fail-rate 0.05', 'tg emulator --rate-limit 2000/6s --lose-responses 0.2 --seed 7']))
    .action(
      act(async (ctx, _a, o) => {
        const { emulator } = await import('./commands/emulator');
        return emulator(o as never, ctx);
      }),
    );

  program
    .command('completion')
    .description('Print a shell completion script.')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText('after', examples(['tg completion bash > /etc/bash_completion.d/tg', 'tg completion zsh > "${fpath[1]}/_tg"', 'tg completion fish > ~/.config/fish/completions/tg.fish']))
    .action(
      act(async (ctx, a) => {
        const { completion } = await import('./commands/completion');
        return completion(a[0] as string, ctx, program);
      }),
    );

  return program;
}

function errorPayload(e: TgError) {
  return { error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } };
}

/** Parse argv, run the command, and map any outcome to an exit code. Never throws. */
export async function run(argv: string[], ioIn?: Partial<Io>): Promise<number> {
  const io: Io = {
    stdout: ioIn?.stdout ?? process.stdout,
    stderr: ioIn?.stderr ?? process.stderr,
    stdin: ioIn?.stdin ?? process.stdin,
    stderrIsTTY: ioIn?.stderrIsTTY ?? Boolean((process.stderr as { isTTY?: boolean }).isTTY),
    env: ioIn?.env ?? process.env,
    cwd: ioIn?.cwd ?? process.cwd(),
  };
  const ac = new AbortController();
  setMaxListeners(0, ac.signal); // requests and sleeps each listen for the interrupt
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      io.stderr.write(`tg: ${sig} again: exiting now\n`);
      process.exit(EXIT.INTERRUPTED);
    }
    ac.abort(new InterruptedError());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let exitCode = 0;
  let json = false;
  let apiKey: string | undefined;
  let ctx: Context | undefined;
  const program = buildProgram(async (global, action, args, opts) => {
    json = Boolean(global.json);
    apiKey = global.apiKey ?? io.env.PARALLEL_API_KEY;
    ctx = createContext(global, io, ac.signal);
    exitCode = await action(ctx, args, opts);
  }, io);
  // If the event loop ever empties while the command is still pending, that is a bug (a promise
  // nobody will settle); say so and fail instead of exiting 0 silently.
  const onBeforeExit = () => {
    io.stderr.write('tg: internal error: the command stopped without finishing\ntg: hint: This is a bug in tg; please report it with the command you ran.\n');
    process.exit(EXIT.API);
  };
  process.on('beforeExit', onBeforeExit);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    exitCode = report(e);
  } finally {
    if (interrupts === 0) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    } // else keep them: a second signal while exiting still means "exit 130 now"
    process.off('beforeExit', onBeforeExit);
    await ctx?.close();
  }
  return exitCode;

  function report(e: unknown): number {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      // commander already printed its message
      return EXIT.USAGE;
    }
    let err: TgError;
    if (isTgError(e)) err = e;
    else if (ac.signal.aborted) err = new InterruptedError();
    else {
      const msg = String((e as Error)?.stack ?? e);
      err = new TgError('internal', `internal error: ${msg}`, EXIT.API, 'This is a bug in tg; please report it with the command you ran.');
    }
    const safe = (s: string) => redact(s, apiKey);
    io.stderr.write(`tg: ${safe(err.message)}\n`);
    if (err.hint) io.stderr.write(`tg: hint: ${safe(err.hint)}\n`);
    if (json) io.stderr.write(safe(JSON.stringify(errorPayload(err))) + '\n');
    return err.exitCode;
  }
}
