// The submit job: everything decided before the first row is read, passed to each stage as one
// object instead of long parameter lists.
import type { Context } from '../../context';
import type { Format } from '../../io/rows';
import type { LoadedSpec, PrepareConfig } from '../../core/spec';
import type { SubmitOptions } from '../../options';
import type { Rate } from '../../core/rateBudget';
import type { RunOptions } from '../../core/runOptions';

export type { SubmitOptions } from '../../options';

export type ConflictPolicy = 'error' | 'resend' | 'skip';

export interface Job {
  o: SubmitOptions;
  ctx: Context;
  /** The file read: the input's real path, or the stdin spool. */
  file: string;
  /** How the input is named in messages: as the user typed it, or <stdin>. */
  shown: string;
  format: Format;
  cfg: PrepareConfig;
  spec: LoadedSpec | null;
  specSha: string | null;
  processor: string;
  userMeta: Record<string, string>;
  batchSize: number;
  rate: Rate | null;
  rateText: string;
  /** add-runs POSTs in flight at once. */
  concurrency: number;
  /** Run options sent with every run, and the parallel-beta values sent with every POST. */
  runOptions: RunOptions;
  betas: string[];
  /** What the row digest covers of them ('' for none). */
  optionsKey: string;
  onConflict: ConflictPolicy;
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

/** A valid row ready to send. */
export interface Item {
  key: string;
  /** The row's digest (tg_sha), computed when first needed: see shaOf(). */
  sha?: string;
  /** The run input as JSON text (sent as is). */
  inputJson: string;
  line: number;
  /** A retry (--retry-failed): its attempt number (tg_try) and the run it replaces (tg_prev). */
  retry?: { attempt: number; prev: string };
}
