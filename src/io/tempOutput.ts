// An output file tg replaces as a whole (`fetch --join -o`, the enriched output of
// `submit --watch -o`): written to an exclusive temporary file beside it and renamed into place,
// with a marker (`<file>.tg.json`) that proves tg wrote it. tg replaces only a file it wrote
// (unless --force), never its input, never a `watch`/`fetch -o` results file.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { atPath, beforeWork, usageError } from '../errors';
import { namedWriteStream, writeFileAtomic } from './durable';
import { cursorPath } from './output';

/** The marker beside a file written by a join: proof that tg may replace it. */
export interface JoinMarker {
  tg: 'join';
  group: string;
  input: string;
  [k: string]: unknown;
}

/**
 * Where a join's -o may write: never the input itself; an existing non-empty file only if tg
 * wrote it by a join (its marker is beside it) or with --force — never a watch/fetch -o file.
 */
export function checkJoinTarget(dest: string, input: string, force: boolean, by: 'fetch --join' | 'submit --watch'): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw beforeWork(e);
  }
  if (st.isDirectory()) throw usageError(`-o ${dest} is a directory`);
  const inSt = fs.statSync(input, { throwIfNoEntry: false });
  if (inSt && inSt.ino === st.ino && inSt.dev === st.dev)
    throw usageError(`-o ${dest} is the ${by === 'fetch --join' ? '--join ' : ''}input itself; tg never replaces its input`, 'Pick another -o file.');
  let marker: { tg?: string } | null = null;
  try {
    marker = JSON.parse(fs.readFileSync(cursorPath(dest), 'utf8'));
  } catch {
    marker = null;
  }
  if (marker?.tg === 'cursor')
    throw usageError(`-o ${dest} holds \`tg watch\`/\`tg fetch\` results (a cursor is beside it); not replacing it`, 'Pick another -o file.');
  if (marker?.tg === 'join' || force || st.size === 0) return;
  throw usageError(
    `-o ${dest}: the file exists and was not written by tg; not replacing it`,
    `Pick another -o file, or add --force to \`tg ${by}\` to replace it.`,
  );
}

/** An exclusive temporary file beside `dest` (random name, `wx`), renamed into place on commit. */
export class TempOutput {
  private done = false;
  /** The stream's first error (a full disk): its writes reject with it too, and commit throws it. */
  private failed: Error | null = null;
  private constructor(
    readonly dest: string,
    readonly tmp: string,
    readonly stream: fs.WriteStream,
  ) {
    stream.on('error', (e) => (this.failed ??= atPath(e, dest)));
  }

  static create(dest: string): TempOutput {
    const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(8).toString('hex')}.tmp`);
    let fd: number;
    try {
      fd = fs.openSync(tmp, 'wx', 0o644);
    } catch (e) {
      throw atPath(e, dest, true); // the failure is the file's, not its temporary name's
    }
    return new TempOutput(dest, tmp, namedWriteStream(dest, fd));
  }

  async commit(marker: JoinMarker): Promise<void> {
    await new Promise<void>((resolve, reject) => this.stream.end((e?: Error | null) => (e ? reject(atPath(e, this.dest)) : resolve())));
    if (this.failed) throw this.failed;
    const ours = <R>(f: () => R): R => {
      try {
        return f();
      } catch (e) {
        throw atPath(e, this.dest, true); // the temporary name is tg's business: the failure is the file's
      }
    };
    ours(() => {
      const fd = fs.openSync(this.tmp, 'r+');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    });
    writeFileAtomic(cursorPath(this.dest), JSON.stringify(marker) + '\n'); // first: a crash leaves the old file, still ours
    ours(() => fs.renameSync(this.tmp, this.dest));
    this.done = true;
  }

  discard(): void {
    if (this.done) return;
    this.stream.on('error', () => undefined); // writes still queued fail quietly: the file goes
    this.stream.destroy();
    fs.rmSync(this.tmp, { force: true });
  }
}
