// The submit job: everything decided before the first row is read, passed to each stage as one
// object. `o` holds every option as the parser gave it (values already parsed, once); the other
// fields are what follows from the options, the input and the state directory, none a copy of an
// option.
import type { Context } from '../../context';
import type { PrepareConfig } from '../../core/spec';
import type { SubmitOptions } from '../../options';
import type { Rate } from '../../core/rateBudget';
import type { RunOptions } from '../../core/runOptions';
import type { Format } from '../../io/formats';

export type { SubmitOptions } from '../../options';

export type ConflictPolicy = 'error' | 'resend' | 'skip';

export interface Job {
  o: SubmitOptions;
  ctx: Context;
  /** The file read: the input's real path, or the stdin spool. */
  file: string;
  /** How the input is named in messages: as the user typed it, or <stdin>. */
  shown: string;
  /** The input's format: --format, else the extension, else (stdin) its content. */
  format: Format;
  /** How a row becomes a run input: text cells or typed, --key, --input-column and the spec. */
  cfg: PrepareConfig;
  specSha: string | null;
  /** --processor, or the one the API suggests for --intent. */
  processor: string;
  /** --batch-size, lowered to fit a --rate counted in runs. */
  batchSize: number;
  /** --rate in --rate-unit (null: off), and as messages show it. */
  rate: Rate | null;
  rateText: string;
  /** Run options sent with every run (the flags and --run-options), and the parallel-beta values sent with every POST. */
  runOptions: RunOptions;
  betas: string[];
  /** What the row digest covers of them ('' for none). */
  optionsKey: string;
  /** Source namespace of row-number keys (tg_src): a digest of the real path, or "stdin". */
  src: string;
  /** What identifies the input for its default journal: real path, or stdin's content digest. */
  identity: string;
  /** Where journals and locks live ($TG_STATE_DIR, or a temporary one for --emulator). */
  stateDir: string;
  /** The API origin journals and group locks are keyed by. */
  origin: string;
  statePath: string;
  rejectsPath: string;
}

/** A valid row, prepared to be sent. */
export interface PreparedRow {
  key: string;
  /** The row's digest (tg_sha), computed when first needed: see shaOf(). */
  sha?: string;
  /** The run input as JSON text (sent as is). */
  inputJson: string;
  line: number;
  /**
   * A retry (--retry-failed) or an escalation (--escalate): its attempt number (tg_try) and the run
   * it replaces (tg_prev); an escalation's level (tg_esc) and processor (else the job's).
   */
  retry?: { attempt: number; prev: string; esc?: string; processor?: string };
}
