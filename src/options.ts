// The command-line table: every command's arguments and options, declared once with commander's
// typed options (@commander-js/extra-typings). The option types each command function receives are
// derived from these declarations, so renaming or retyping a flag here breaks the build where the
// option is used. src/cli.ts adds the actions; importing this module has no side effects.
import { Command, InvalidArgumentError, Option, type CommandUnknownOpts, type OptionValues } from '@commander-js/extra-typings';
import { EXIT_MEANING } from './errors';
import { parseKeyValues } from './core/kv';
import { parseUsd } from './core/pricing';
import { parseRate } from './core/rateBudget';
import { parseSeconds, parseTimeout } from './core/util';
import { formatNames, WRITABLE } from './io/formats';
import { parseDelimiter } from './io/formats/delimiter';
import { PARSED_NULL, defaultText, emulatorFlags } from './emulator/options';

const int = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
};
const collect = (v: string, prev: string[] = []) => [...prev, v];

/** A value parser of src/core as commander's: its error becomes commander's "argument … is invalid. <why>". */
const parsed =
  <T>(f: (v: string) => T) =>
  (v: string): T => {
    try {
      return f(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
const timeout = parsed((v) => parseTimeout(v) as number);
const delimiter = parsed(parseDelimiter);

/** How delimited text, encodings and workbooks are read: the input options of submit, spec and fetch --join. */
function readingOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(c: Command<A, O, G>) {
  return c
    .option('--delimiter <d>', 'field delimiter of CSV input (and of an enriched CSV): , ; | or tab (default: detected from the header)', delimiter)
    .option('--encoding <enc>', 'encoding of a text input without a byte-order mark (default utf-8; e.g. latin1, windows-1252, utf-16le)')
    .option('--sheet <name|n>', 'the sheet of an .xlsx input, by name or 1-based number (default: the first)');
}
const usd = (flag: string) => parsed((v) => parseUsd(v, flag));
/** --rate: the budget, or false for "off" (commander keeps no null). */
const rate = parsed((v) => {
  try {
    return parseRate(v) ?? false;
  } catch (e) {
    throw new Error(`--rate: ${(e as Error).message}`);
  }
});
/** Repeated key=value options into one object, each checked against the API's limits as it comes. */
const metadata = (v: string, prev: Record<string, string> = {}) => parsed((x) => ({ ...prev, ...parseKeyValues([x], '--metadata') }))(v);

const EMULATOR_GROUPS = { server: 'Server:', service: 'How the service behaves:', faults: 'Faults (shares are seeded by --seed):' };

/** The `tg emulator` options, from the emulator's table (src/emulator/options.ts). */
function emulatorOptions(): Option[] {
  return emulatorFlags().map((d) => {
    const o = new Option(d.flag, d.help).helpGroup(EMULATOR_GROUPS[d.group]);
    if (d.choices) o.choices(d.choices);
    else
      o.argParser((text: string) => {
        try {
          return d.parse(text) ?? PARSED_NULL;
        } catch (e) {
          throw new InvalidArgumentError((e as Error).message);
        }
      });
    const dflt = defaultText(d);
    return dflt === undefined ? o : o.default(d.default, dflt);
  });
}

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

/** The options every command accepts (`tg --json submit …` and `tg submit … --json` alike). */
export function globalOptions(program: Command, version: string) {
  return program
    .description('Batch runner for the Parallel Task Group API: every row exactly once, at the rate limit, resumable.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addOption(new Option('--api-key <key>', 'API key (env PARALLEL_API_KEY)'))
    .addOption(new Option('--base-url <url>', 'API root (env PARALLEL_BASE_URL)').default(undefined, 'https://api.parallel.ai'))
    .addOption(new Option('--api-version <v>', 'group path version (env TG_API_VERSION)').choices(['v1', 'v1beta']))
    .option('--emulator', 'use the built-in emulator in-process (no key, no network)')
    .option('--json', 'machine-readable JSON on stdout (and errors as JSON on stderr)')
    .option('-q, --quiet', 'no progress output')
    .option('--verbose', 'request log on stderr (env TG_VERBOSE=1); the key is never shown')
    .option(
      '--progress-interval <s>',
      'seconds between plain progress lines when stderr is not a terminal',
      parsed((v) => parseSeconds(v, '--progress-interval') / 1000),
      10,
    )
    .option('--insecure-http', 'allow plain http:// to a non-loopback --base-url')
    .addHelpText(
      'after',
      examples([
        'tg submit companies.csv --spec spec.json --watch -o results.jsonl',
        'tg submit companies.csv --emulator --watch -o results.jsonl   # offline demo',
        'tg watch tgrp_123 -o results.jsonl',
        'tg fetch tgrp_123 --format csv --join companies.csv -o enriched.csv',
      ]) +
        `\nExit codes:\n${Object.entries(EXIT_MEANING)
          .map(([code, meaning]) => `  ${code.padStart(3)}  ${meaning}`)
          .join('\n')}\n`,
    );
}

/** Each command's declaration, in the order `tg --help` lists them. */
export const commands = {
  create: (program: CommandUnknownOpts) =>
    program
      .command('create')
      .description('Create a task group and print its taskgroup_id.')
      .option('--metadata <key=value>', 'group metadata (repeatable)', metadata)
      .addHelpText('after', examples(['tg create', 'tg create --metadata project=q3 --json', 'GROUP=$(tg create) && tg submit rows.csv --group "$GROUP"'])),

  submit: (program: CommandUnknownOpts) =>
    readingOptions(
      program
        .command('submit')
        .description(
          'Validate every row of a CSV, TSV, JSON, JSONL, Excel or Parquet file (or stdin) and add the rows as runs, exactly once, at the rate limit. Rerunning the same command resumes.',
        )
        .argument('<input>', 'input file (.csv, .tsv, .json, .jsonl (text formats optionally .gz), .xlsx, .parquet) or - for stdin'),
    )
      .option('--group <id>', 'add to an existing group (default: create one)')
      .option(
        '--group-file <file>',
        "the job's group in a file: read when it exists, written when tg creates the group (commit it: reruns anywhere continue the same group)",
      )
      .option('--spec <file>', 'TaskSpec JSON (input_schema, output_schema), sent as default_task_spec')
      .option('--processor <name>', 'processor for every run (lite, base, core, core2x, pro, ultra, ultra2x, ultra4x, ultra8x, each also -fast)', 'base')
      .option('--unlisted-processor', 'send a --processor name tg does not know yet')
      .addOption(new Option('--format <fmt>', 'input format (default: by extension; stdin: by its content)').choices(formatNames()))
      .option('--key <column>', 'unique row key column (default: row number)')
      .option('--input-column <column>', "send this column's text as the input instead of the row object")
      .option('--metadata <key=value>', 'metadata added to every run (repeatable)', metadata)
      .option('--batch-size <n>', 'inputs per POST (1-1000)', int('--batch-size', 1, 1000), 1000)
      .option(
        '--rate <n>',
        'client-side budget per minute in --rate-unit ("2000", "2000/60s" or "off"); the server\'s 429s steer it lower',
        rate,
        parseRate('2000') ?? false,
      )
      .addOption(
        new Option('--rate-unit <unit>', "what --rate counts: add-runs POSTs (the API's documented unit) or runs created")
          .choices(['requests', 'runs'])
          .default('requests'),
      )
      .option('--concurrency <n>', 'add-runs POSTs in flight at once (1-8)', int('--concurrency', 1, 8), 3)
      .option('--include-domains <list>', 'run option: only sources from these domains (comma-separated; example.com or .gov)')
      .option('--exclude-domains <list>', 'run option: never sources from these domains (comma-separated)')
      .option('--after-date <YYYY-MM-DD>', 'run option: only sources published on or after this date')
      .option('--mcp-servers <file>', 'run option: JSON list of MCP servers ({"url", "name", "headers"?, "allowed_tools"?}); adds its beta')
      .option('--enable-events', 'run option: record progress events for each run')
      .option('--webhook-url <url>', 'run option: URL the API POSTs to when each run finishes; adds its beta')
      .option('--webhook-events <list>', 'with --webhook-url: event types (task_run.status)')
      .option('--previous-interaction-id <id>', 'run option: interaction id to use as context')
      .option('--memory-scope-key <key>', 'run option: memory scope to use (default: personal memory)')
      .option('--beta <value>', 'parallel-beta header value (repeatable or comma-separated)', collect)
      .option(
        '--run-options <file>',
        'JSON object of run options (source_policy, mcp_servers, enable_events, webhook, previous_interaction_id, memory_scope_key, advanced_settings, betas); flags override it',
      )
      .option('--no-dedupe', 'send one run per row even when rows repeat another row exactly (default: identical inputs are sent once)')
      .option('--state <file>', 'journal that makes a rerun resume (default: in $TG_STATE_DIR, one per input and API)')
      .option('--dry-run', 'parse, validate and print the batch plan; send nothing')
      .option('--skip-invalid', 'send valid rows; write rejected rows with reasons to <state>.rejects.jsonl')
      .addOption(
        new Option('--on-conflict <policy>', 'rows whose key the group holds with other content: error (exit 2, nothing sent), resend, or skip')
          .choices(['error', 'resend', 'skip'])
          .default('error'),
      )
      .option('--restart', 'forget the journal and send every row again into a new group: rows are paid again (never needed to resume)')
      .option('--watch', 'keep going as `tg watch` while and after submitting')
      .option('-o, --output <file>', 'with --watch: results file: an enriched CSV if it ends in .csv, else JSONL')
      .option('--timeout <s>', 'with --watch: give up waiting after this many seconds (exit 5)', timeout)
      // Specs from --field options; the bill before the work; enriched CSV; retries.
      .option('--field <NAME[:TYPE]: DESCRIPTION>', 'an output field (repeatable; types text, int, number, bool, date, url, list) instead of --spec', collect)
      .addOption(
        new Option(
          '--output-format <fmt>',
          'with --watch: the enriched table (csv, tsv, xlsx, parquet, json) or the JSONL results (default: by the -o extension)',
        ).choices(WRITABLE),
      )
      .option('--bom', 'enriched CSV/TSV: start with a UTF-8 byte-order mark (Excel then reads the text right)')
      .option('--reasoning', "enriched CSV: add each field's reasoning (<field>_reasoning)")
      .option('--raw-csv', 'enriched CSV: cells verbatim, no apostrophe before a leading = + - @ (formula guard)')
      .option('--force', 'with --watch -o x.csv: replace a file tg did not write (never the input)')
      .option('--limit <n>', 'send only the first n rows (a canary); the same command without --limit sends the rest', int('--limit', 1, 2 ** 53 - 1))
      .option('--max-cost <usd>', 'refuse (exit 2, nothing sent) if the rows to send would cost more', usd('--max-cost'))
      .option('--price-per-1k <usd>', 'price per 1,000 runs for the estimate (default: the built-in table)', usd('--price-per-1k'))
      .option('-y, --yes', 'do not ask before an expensive job on a terminal')
      .option('--retry-failed', 'send again the rows whose latest run failed (once each, see --max-attempts)')
      .option('--retry-cancelled', 'send again the rows whose latest run was cancelled')
      .option('--max-attempts <n>', 'with --retry-*: runs per row at most, the first included', int('--max-attempts', 2, 100), 2)
      // --escalate (issue L4): rows answered at low confidence asked again, once, on a stronger processor.
      .option('--escalate <processor>', 'ask again, once, on this processor each row whose answer has a field at low confidence')
      .addOption(
        new Option('--escalate-on <level>', 'with --escalate: the confidence that escalates: low, or medium (low and medium) (default: low)').choices([
          'low',
          'medium',
        ]),
      )
      // --intent (issue L7): the API suggests the fields and the processor; --processor still wins.
      .option(
        '--intent <text>',
        'ask the API for output fields and a processor for this request (instead of --field/--spec); kept, so reruns send the same rows',
      )
      .hook('preAction', (cmd) => void cmd.setOptionValue('processorGiven', ![undefined, 'default'].includes(cmd.getOptionValueSource('processor'))))
      .addHelpText(
        'after',
        examples([
          "tg submit companies.csv --field 'ceo_name: full name of the CEO' --watch -o enriched.csv",
          "tg submit companies.csv --field 'ceo_name: full name of the CEO' --limit 10 --dry-run",
          'tg submit companies.csv --intent "the CEO and the founding year" --dry-run   # the suggested fields and processor, priced',
          'tg submit companies.csv --spec company-spec.json',
          'tg submit companies.csv --spec company-spec.json --watch -o results.jsonl',
          'cat rows.jsonl | tg submit - --format jsonl --state rows.state.json --json',
          'tg submit companies.csv --key company_website --dry-run',
          'tg submit companies.csv --include-domains sec.gov,.edu --after-date 2024-01-01 --processor core',
          'tg submit big.csv --rate 2000 --rate-unit runs   # an account limited in runs per minute',
          "tg submit companies.csv --field 'ceo_name: full name of the CEO' --escalate core --watch -o enriched.csv   # low-confidence rows again on core",
        ]),
      ),

  spec: (program: CommandUnknownOpts) =>
    program
      .command('spec')
      .description(
        "Print the TaskSpec JSON that --field options (or the API's suggestion for --intent) and an input's columns imply, to edit and pass as --spec.",
      )
      .option('--field <NAME[:TYPE]: DESCRIPTION>', 'an output field (repeatable; types text, int, number, bool, date, url, list)', collect)
      .option('--intent <text>', 'ask the API for the output fields (and a processor, on stderr) instead of --field')
      .option('--input <file>', "infer input_schema from this file's header or first JSON row (- for stdin)")
      .addOption(new Option('--format <fmt>', 'format of --input (default: by extension; stdin: by its content)').choices(formatNames()))
      .option('--delimiter <d>', 'field delimiter of a CSV --input: , ; | or tab (default: detected from the header)', delimiter)
      .option('--encoding <enc>', 'encoding of a text --input without a byte-order mark (default utf-8)')
      .option('--sheet <name|n>', 'the sheet of an .xlsx --input (default: the first)')
      .addHelpText(
        'after',
        examples([
          "tg spec --field 'ceo_name: full name of the CEO' --field 'founded_year:int: year founded' --input companies.csv > spec.json",
          'tg spec --intent "find the CEO and founding year" --input companies.csv > spec.json',
          'tg submit companies.csv --spec spec.json --watch -o enriched.csv',
        ]),
      ),

  watch: (program: CommandUnknownOpts) =>
    program
      .command('watch')
      .description("Stream a group's results: one JSON line per run that finished, exactly once, resumable with -o.")
      .argument('<group>', 'taskgroup_id')
      .option('-o, --output <file>', 'results file (JSONL); a rerun resumes from it')
      .option('--timeout <s>', 'give up after this many seconds (exit 5; the same command resumes)', timeout)
      .option('--follow', 'keep listening for runs added later')
      .addHelpText(
        'after',
        examples(['tg watch tgrp_123 -o results.jsonl', 'tg watch tgrp_123 | jq -c .output.content', 'tg watch tgrp_123 -o results.jsonl --timeout 3600']),
      ),

  fetch: (program: CommandUnknownOpts) =>
    readingOptions(program.command('fetch'))
      .description(
        "Fetch a group's runs with inputs and outputs as JSONL or CSV; --join writes your input rows with output columns. " +
          'With -o only finished runs are written and unfinished ones counted (exit 5; rerun later to add them); to stdout every run is shown with its status.',
      )
      .argument('[group]', 'taskgroup_id')
      .option('-o, --output <file>', 'output file; a rerun resumes from it')
      .addOption(
        new Option(
          '--format <fmt>',
          'output format: jsonl or csv; with --join also tsv, xlsx, parquet, json (default: by the -o extension, else jsonl; with --join that of the input)',
        ).choices(WRITABLE),
      )
      .option('--bom', 'CSV/TSV output: start with a UTF-8 byte-order mark (Excel then reads the text right)')
      .addOption(
        new Option('--status <s>', 'only runs with this status').choices([
          'queued',
          'running',
          'completed',
          'failed',
          'cancelled',
          'action_required',
          'cancelling',
        ]),
      )
      .option('--join <input>', 'write the original input rows, in order, with output columns appended (matched by tg_key)')
      .option('--key <column>', 'with --join: the --key column used at submit')
      .option('--force', 'with --join -o: replace a file tg did not write (never the input)')
      .option('--raw-csv', 'CSV cells verbatim: no apostrophe before a leading = + - @ (formula guard)')
      .option('--run <run_id>', "print one run's result")
      .addHelpText(
        'after',
        examples([
          'tg fetch tgrp_123 -o results.jsonl',
          'tg fetch tgrp_123 --format csv -o results.csv',
          'tg fetch tgrp_123 --join companies.csv -o enriched.csv',
          'tg fetch --run trun_abc',
        ]),
      ),

  status: (program: CommandUnknownOpts) =>
    program
      .command('status')
      .description("Print a group's run counts by status; --wait blocks until it is inactive.")
      .argument('<group>', 'taskgroup_id')
      .option('--wait', 'wait until the group is inactive')
      .option('--timeout <s>', 'with --wait: give up after this many seconds (exit 5)', timeout)
      .addHelpText(
        'after',
        examples(['tg status tgrp_123', 'tg status tgrp_123 --json | jq .task_run_status_counts', 'tg status tgrp_123 --wait --timeout 600']),
      ),

  jobs: (program: CommandUnknownOpts) =>
    program
      .command('jobs')
      .description("List the submits this machine knows (its journals in $TG_STATE_DIR), newest activity first, with each group's progress and cost so far.")
      .option('--limit <n>', 'show the n jobs with the newest activity', int('--limit', 1, 2 ** 31 - 1), 20)
      .addHelpText(
        'after',
        examples([
          'tg jobs',
          'tg jobs --limit 5',
          'tg jobs --json | jq -r \'select(.state == "interrupted") | .input\'   # JSON Lines: one object per job',
          'tg jobs | cut -f1,3   # piped: tab-separated, no header; the input and the state',
        ]) +
          '\nColumns: INPUT GROUP STATE ROWS SENT COMPLETED FAILED CANCELLED COST ACTIVITY NOTE.\n' +
          "COST is the cost so far: completed runs × the price per run of the job's processor; failed and\n" +
          'cancelled runs are counted apart, not priced. A journal of another API (--base-url), a group that\n' +
          'is gone and a damaged journal are lines that say so. Exit 0; 4 when every group request failed\n' +
          '(network), 3 when the key was refused for every one.\n',
      ),

  emulator: (program: CommandUnknownOpts) => {
    const cmd = program.command('emulator').description('Run a local emulator of the Task Group and Task Run API (for demos, tests and your CI).');
    for (const o of emulatorOptions()) cmd.addOption(o);
    return cmd.addHelpText(
      'after',
      examples([
        'tg emulator',
        'tg emulator --port 0 --latency 200ms..2s --fail-rate 0.05',
        'tg emulator --rate-limit 2000/6s --lose-responses 0.2 --seed 7',
        'tg emulator --cancel-rate 0.05 --action-required 0.02 --credit-limit 5000 --stream-lifetime 30s',
        'tg emulator --resend-events 0.1 --drop-events 0.02 --auth-fault 0.01 --seed 7',
      ]) + '\nEvery flag is also a startEmulator() option: see "The emulator in your own tests" in the README.\n',
    );
  },

  completion: (program: CommandUnknownOpts) =>
    program
      .command('completion')
      .description('Print a shell completion script.')
      .argument('<shell>', 'bash, zsh or fish')
      .addHelpText(
        'after',
        examples([
          'tg completion bash > /etc/bash_completion.d/tg',
          'tg completion zsh > "${fpath[1]}/_tg"',
          'tg completion fish > ~/.config/fish/completions/tg.fish',
        ]),
      ),
};

/**
 * The options object commander builds for a declaration above. A flag without a value is `true`
 * or absent there; it is widened to boolean so that callers other than commander may pass false.
 */
type OptionsOf<Declare extends (...a: never[]) => { opts(): object }> = Flags<ReturnType<ReturnType<Declare>['opts']>>;
type Flags<T> = { [K in keyof T]: Exclude<T[K], undefined> extends true ? boolean : T[K] };

export type GlobalOptions = OptionsOf<typeof globalOptions>;
export type CreateOptions = OptionsOf<typeof commands.create>;
/** `processorGiven`: --processor was on the command line (set by the declaration's hook; --intent's suggestion yields to it). */
export type SubmitOptions = OptionsOf<typeof commands.submit> & { input: string; processorGiven?: boolean };
export type WatchOptions = OptionsOf<typeof commands.watch> & { group: string };
export type FetchOptions = OptionsOf<typeof commands.fetch> & { group?: string };
export type SpecOptions = OptionsOf<typeof commands.spec>;
export type JobsOptions = OptionsOf<typeof commands.jobs>;
export type StatusOptions = OptionsOf<typeof commands.status> & { group: string };
/** commander's values for `tg emulator`, by attribute name; emulator/options.ts fromCommandLine types them. */
export type EmulatorCommandValues = Record<string, unknown>;
