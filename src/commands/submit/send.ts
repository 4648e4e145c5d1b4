// Pass 2: read the rows again, check each chunk against what pass 1 validated, and send the rows
// the group lacks — one POST per chunk, each journalled "sending" before and "sent" after, up to
// --concurrency POSTs in flight, paced by the adaptive rate budget.
import type { ApiClient } from '../../api/client';
import type { TaskGroupRunResponse } from '../../core/wire';
import { ApiError, InterruptedError, NetworkError, TgError, UnknownOutcomeError } from '../../errors';
import type { AppendLog } from '../../io/durable';
import { AdaptiveBudget, type Reservation } from '../../core/rateBudget';
import { runOptionsJson } from '../../core/runOptions';
import { backoffDelay } from '../../core/backoff';
import { rowIdent, runIdent, type Ledger } from '../../core/ledger';
import { count, sleep } from '../../core/util';
import { formatDuration } from '../../core/plan';
import type { Replay } from '../../io/journal';
import { ChunkHasher, itemOf, ledgerState, shaOf, type Validation } from './validate';
import { rowsOf } from './input';
import type { PreparedRow, Job } from './job';

/**
 * Whether a failed POST is tried again: an unknown outcome (after reconciling), a 429, a
 * connection that never reached the server, or an answer whose x-should-retry says so; never
 * one whose x-should-retry says false.
 */
function retryAfterFailure(e: unknown): boolean {
  if (e instanceof ApiError && e.shouldRetry !== undefined) return e.shouldRetry;
  return e instanceof UnknownOutcomeError || (e instanceof ApiError && e.status === 429) || (e instanceof NetworkError && !e.sent);
}

/** How pass 2 decides what a chunk still needs: the group's ledger, or (fast path) the journal. */
export interface SendPlan {
  ledger: Ledger | null;
  replay: Replay;
}

/** The input changed between the validation pass and this one: nothing unvalidated is sent. */
export function inputChanged(job: Job, sent: number) {
  const what = `${job.shown} changed while tg was sending it`;
  if (sent === 0)
    return new TgError('input_changed', `${what}; nothing was sent`, {
      hint: 'Rerun the command when the file is complete: it validates and sends the rows the group lacks.',
    });
  return new TgError('input_changed_midway', `${what}: ${sent} rows were sent, the rest were not`, {
    hint: 'Rerun the same command to resume: it validates the input again and sends only the rows the group lacks.',
  });
}

/**
 * What a chunk still needs: the offsets to send, those the group holds already, and those that
 * repeat an earlier row's content (answered by its run: never sent).
 */
function decide(job: Job, v: Validation, plan: SendPlan, c: number, digest: string, items: PreparedRow[]): { send: number[]; held: number[]; same: number[] } {
  const base = c * job.batchSize;
  const same: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < items.length; i++) (v.repeatAt.has(base + i) ? same : rest).push(i);
  if (plan.ledger) {
    const ledger = plan.ledger;
    const send: number[] = [];
    const held: number[] = [];
    for (const i of rest) {
      const s = ledgerState(job, ledger, items[i]);
      if (s === 'present') held.push(i);
      else if (s === 'new' || job.o.onConflict === 'resend') send.push(i);
    }
    return { send, held, same };
  }
  const st = plan.replay.chunks.get(c);
  if (!st || st.h !== digest || st.n !== items.length) return { send: rest, held: [], same };
  if (st.covered === 'all') return { send: [], held: [], same: [] };
  const covered = st.covered;
  return { send: rest.filter((i) => !covered.has(i)), held: [], same: same.filter((i) => !covered.has(i)) };
}

/** Fast path: the journal shows every chunk wholly in the group; nothing to read again. */
function allCovered(v: Validation, plan: SendPlan): boolean {
  if (plan.ledger) return false;
  return v.chunks.every((h, c) => {
    const st = plan.replay.chunks.get(c);
    return st !== undefined && st.h === h && st.covered === 'all';
  });
}

/** A retry's attempt in a reconcile key (a first attempt has none): a retry is not its failed run. */
const attemptTag = (n: unknown) => (Number(n) > 1 ? `\0${Number(n)}` : '');

/** The offsets of chunk c among the first --limit valid rows. */
function limited(job: Job, c: number, offsets: number[]): number[] {
  const limit = job.o.limit;
  return limit === undefined ? offsets : offsets.filter((i) => c * job.batchSize + i < limit);
}

/**
 * The POSTs in flight: at most `max`; the first failure is kept and thrown once every other POST
 * has settled, so each of them has its "sent" (or stays pending) before the command ends.
 */
class InFlight {
  private readonly running = new Set<Promise<void>>();
  private failure: { e: unknown } | null = null;
  constructor(private readonly max: number) {}

  /** Start tracking p; resolves when another may start (throws the first failure, after draining). */
  async add(p: Promise<void>): Promise<void> {
    const tracked: Promise<void> = p.then(
      () => void this.running.delete(tracked),
      (e) => {
        this.failure ??= { e };
        this.running.delete(tracked);
      },
    );
    this.running.add(tracked);
    while (this.running.size >= this.max && !this.failure) await Promise.race(this.running);
    if (this.failure) await this.drain();
  }

  /** Wait for every POST in flight; throw the first failure, if any. */
  async drain(): Promise<void> {
    while (this.running.size) await Promise.race(this.running);
    if (this.failure) throw this.failure.e;
  }

  /** drain(), then throw a POST's failure, or else `e` (what stopped the reading). */
  async fail(e: unknown): Promise<never> {
    await this.drain();
    throw e;
  }
}

export async function sendPass(job: Job, v: Validation, plan: SendPlan, sender: Sender): Promise<void> {
  if (allCovered(v, plan)) return sender.skip(v.valid);
  const rows = rowsOf(job).batches;
  const hasher = new ChunkHasher(job);
  let items: PreparedRow[] = [];
  let c = 0;
  let read = 0;
  // Up to --concurrency POSTs in flight while the next chunks are read; each chunk is journalled
  // "sending" before its POST and "sent" after, whatever the order the answers come back in.
  const posts = new InFlight(job.o.concurrency);
  // A POST in flight is not abandoned on Ctrl-C: its answer tells which rows the group holds.
  // Waiting for it can take up to the request timeout, so say what is awaited.
  const onAbort = () => {
    const reason: unknown = job.ctx.signal.reason;
    if (sender.awaiting && !(reason instanceof TgError && reason.code === 'closed_pipe'))
      job.ctx.info(
        `tg: stopping: waiting for the answer to ${count(sender.awaiting, 'add-runs request')} in flight, so the journal records what the group holds (Ctrl-C again to exit now)`,
      );
  };
  job.ctx.signal.addEventListener('abort', onAbort, { once: true });
  const flush = async (digest: string | null) => {
    if (digest === null || digest !== v.chunks[c]) {
      await posts.drain(); // the count of rows sent is final only then
      throw inputChanged(job, sender.sentRows);
    }
    const { send: all, held, same: repeats } = decide(job, v, plan, c, digest, items);
    const send = limited(job, c, all); // --limit: rows past it wait for a run without
    const same = limited(job, c, repeats);
    if (held.length) sender.hold(c, digest, items.length, held);
    if (same.length) sender.hold(c, digest, items.length, same, true);
    const notNow = all.length - send.length + repeats.length - same.length;
    if (items.length > held.length + all.length + repeats.length) sender.skip(items.length - held.length - all.length - repeats.length);
    if (notNow) sender.limitedRows += notNow;
    if (send.length) await posts.add(sender.send(c, digest, items, send));
    c++;
    items = [];
  };
  try {
    reading: for await (const batch of rows) {
      for (const row of batch) {
        if (read === v.valid) {
          // Rows added after validation were not validated: they wait for the next run.
          if (itemOf(job, row))
            job.ctx.warn(`tg: rows were added to ${job.shown} while tg was sending it; they were not sent: rerun the same command to send them`);
          break reading;
        }
        const it = itemOf(job, row);
        if (!it) continue;
        read++;
        items.push(it);
        const d = hasher.add(it);
        if (d) await flush(d);
        if (job.ctx.signal.aborted) {
          await posts.drain();
          throw new InterruptedError();
        }
      }
    }
    if (items.length) await flush(hasher.close());
    await posts.drain();
  } catch (e) {
    await posts.fail(e);
  } finally {
    job.ctx.signal.removeEventListener('abort', onAbort);
  }
  if (read !== v.valid) throw inputChanged(job, sender.sentRows);
}

/** What a wait before re-sending is for, as the progress line shows it. */
function waitReason(e: unknown): string {
  if (e instanceof ApiError && e.status === 429) return 'rate limit (429)';
  if (e instanceof UnknownOutcomeError) return 'unknown outcome, then reconcile';
  return 'network error, retrying';
}

export class Sender {
  sentRows = 0;
  skippedRows = 0;
  /** Rows that repeat an earlier row's content: answered by its run, never sent. */
  sameRows = 0;
  /** Rows not sent because of --limit. */
  limitedRows = 0;
  /** POSTs the server accepted. */
  posts = 0;
  /** POSTs sent whose answer has not come yet. */
  awaiting = 0;
  onProgress: () => void = () => undefined;
  readonly budget: AdaptiveBudget | null;
  private lastSentCursor: string | null;
  private readonly specJson: string | null;
  private readonly metaJson: string;
  private readonly processorJson: string;
  private readonly optionsJson: string;
  /** Time some POST waited on the rate limit (overlapping waits counted once). */
  private waited = 0;
  private waiters = 0;
  private waitingSince = 0;

  constructor(
    private readonly job: Job,
    private readonly client: ApiClient,
    private readonly journal: AppendLog,
    private readonly group: string,
    lastSentCursor: string | null,
  ) {
    this.budget = job.rate ? new AdaptiveBudget(job.rate) : null;
    this.lastSentCursor = lastSentCursor;
    this.specJson = job.cfg.spec ? JSON.stringify(job.cfg.spec.spec) : null;
    this.metaJson = JSON.stringify(job.o.metadata ?? {}).slice(1, -1);
    this.processorJson = JSON.stringify(job.processor);
    this.optionsJson = runOptionsJson(job.runOptions);
  }

  skip(n: number) {
    this.skippedRows += n;
    this.onProgress();
  }

  /** Record that the group holds these rows of chunk c already (the journal accounts for them). */
  /**
   * Record that the group holds these rows of chunk c already (the journal accounts for them);
   * `same`: they repeat an earlier row's content, whose run answers them (they add no run).
   */
  hold(c: number, h: string, n: number, offsets: number[], same = false) {
    this.journal.append({ t: 'held', g: this.group, c, h, n, ...(offsets.length === n ? {} : { offsets }), ...(same ? { same: true } : {}) });
    if (same) this.sameRows += offsets.length;
    else this.skippedRows += offsets.length;
    this.onProgress();
  }

  /** Milliseconds waited on the rate limit so far. */
  waitedMs(now = this.job.ctx.clock.now()): number {
    return this.waited + (this.waiters ? now - this.waitingSince : 0);
  }

  private body(items: PreparedRow[], offsets: number[]): string {
    const kc = this.job.cfg.keyColumn !== undefined ? `,"tg_kc":${JSON.stringify(this.job.cfg.keyColumn)}` : '';
    const src = JSON.stringify(this.job.src);
    const parts: string[] = [];
    for (const off of offsets) {
      const it = items[off];
      const r = it.retry;
      const again = r ? `,"tg_try":${r.attempt},"tg_prev":${JSON.stringify(r.prev)}${r.esc ? `,"tg_esc":${JSON.stringify(r.esc)}` : ''}` : '';
      const meta = `{${this.metaJson ? this.metaJson + ',' : ''}"tg_key":${JSON.stringify(it.key)},"tg_src":${src}${kc},"tg_sha":"${shaOf(this.job, it)}"${again}}`;
      const processor = r?.processor ? JSON.stringify(r.processor) : this.processorJson; // an escalation: its own; tg_sha stays the row's
      parts.push(`{"input":${it.inputJson},"processor":${processor},"metadata":${meta}${this.optionsJson}}`);
    }
    return `{"inputs":[${parts.join(',')}]${this.specJson ? `,"default_task_spec":${this.specJson}` : ''}}`;
  }

  /** Send these rows of chunk c until every one is known to exist as a run. */
  async send(c: number, h: string, items: PreparedRow[], offsets: number[]): Promise<void> {
    let attempt = 0;
    let failingSince = 0;
    while (offsets.length) {
      if (this.job.ctx.signal.aborted) throw new InterruptedError();
      const res = await this.acquire(offsets.length);
      const all = offsets.length === items.length;
      const scanFrom = this.lastSentCursor;
      await this.journal.appendDurable({ t: 'sending', g: this.group, c, h, n: items.length, ...(all ? {} : { offsets }) });
      let answer: TaskGroupRunResponse;
      try {
        this.job.ctx.sending = 'started';
        this.awaiting++;
        answer = await this.client.addRuns(this.group, this.body(items, offsets), null, undefined, this.job.betas).finally(() => this.awaiting--);
      } catch (e) {
        const now = this.job.ctx.clock.now();
        failingSince ||= now;
        const unknown = e instanceof UnknownOutcomeError;
        const wait = this.settle(res, e, now, attempt);
        if (now - failingSince > this.job.ctx.giveUpMs || !retryAfterFailure(e)) throw e;
        attempt++;
        if (wait > 0) {
          this.job.ctx.display.waiting(wait, waitReason(e));
          await sleep(wait, this.job.ctx.signal);
        }
        if (unknown) offsets = await this.reconcile(c, items, offsets, scanFrom);
        continue;
      }
      if (res) this.budget!.accepted(res, this.job.ctx.clock.now());
      if (!Array.isArray(answer.run_ids) || answer.run_ids.length !== offsets.length) {
        throw new TgError('bad_response', `add-runs answered ${answer.run_ids?.length ?? 'no'} run ids for ${offsets.length} inputs`, {
          hint: 'Rerun the same command: it reconciles the batch against the group.',
        });
      }
      const sent = this.journal.appendDurable({
        t: 'sent',
        g: this.group,
        c,
        ...(all ? {} : { offsets }),
        run_ids: answer.run_ids,
        run_cursor: answer.run_cursor ?? null,
      });
      if (answer.run_cursor) this.lastSentCursor = answer.run_cursor;
      await sent;
      this.sentRows += offsets.length;
      this.posts++;
      offsets = [];
    }
    this.onProgress();
  }

  /**
   * A failed POST: tell the budget (a 429 slows it and holds every POST until its retry-after;
   * an unknown outcome counts; another refusal gives the units back). Returns how long this POST
   * still waits itself before it goes again (the budget's hold covers a 429).
   */
  private settle(res: Reservation | null, e: unknown, now: number, attempt: number): number {
    const unknown = e instanceof UnknownOutcomeError;
    const backoff = () => backoffDelay(attempt, Math.random, { baseMs: unknown ? 250 : 1000, capMs: 60_000 });
    if (e instanceof ApiError && e.status === 429) {
      const wait = e.retryAfterMs ?? backoff();
      if (!res) return wait;
      this.budget!.refused(res, now, wait, e.retryAfterMs !== undefined);
      return 0;
    }
    if (res && unknown) this.budget!.accepted(res, now);
    else if (res) this.budget!.released(res);
    return backoff();
  }

  /** Wait until the budget lets `runs` runs go, and reserve them (atomically: no await in between). */
  private async acquire(runs: number): Promise<Reservation | null> {
    const b = this.budget;
    if (!b) return null;
    const cost = b.cost(runs);
    for (;;) {
      const now = this.job.ctx.clock.now();
      const wait = b.waitMs(cost, now);
      if (wait <= 0) return b.reserve(cost, now);
      this.job.ctx.display.waiting(wait, this.waitWhy(b, now));
      if (this.waiters++ === 0) this.waitingSince = now;
      try {
        await sleep(wait, this.job.ctx.signal);
      } finally {
        if (--this.waiters === 0) this.waited += this.job.ctx.clock.now() - this.waitingSince;
      }
    }
  }

  /** Why the budget makes a POST wait, as the progress line says it. */
  private waitWhy(b: AdaptiveBudget, now: number): string {
    if (now < b.pausedUntil) return 'rate limit (429, retry-after)';
    if (b.server && b.server.waitMs(1, now) > 0)
      return `rate limit (paced at ${b.server.limit} per ${formatDuration(b.server.windowMs)}, the server's window by its 429s; --rate ${this.job.rateText})`;
    if (b.pace < b.limit) return `rate limit (paced at ${b.pace} per ${formatDuration(b.windowMs)} after 429s; --rate ${this.job.rateText})`;
    return `rate budget (--rate ${this.job.rateText})`;
  }

  /** After an unknown outcome: list the group's runs after `scanFrom`; return the offsets not found. */
  async reconcile(c: number, items: PreparedRow[], offsets: number[], scanFrom: string | null): Promise<number[]> {
    if (!offsets.length) return [];
    const want = new Map<string, number>();
    for (const off of offsets)
      want.set(
        `${rowIdent(this.job.src, this.job.cfg.keyColumn, items[off].key)}\0${shaOf(this.job, items[off])}${attemptTag(items[off].retry?.attempt)}`,
        off,
      );
    const found: number[] = [];
    const runIds: string[] = [];
    for await (const ev of this.client.streamRuns(this.group, { lastEventId: scanFrom, signal: this.job.ctx.signal, giveUpMs: this.job.ctx.giveUpMs })) {
      if (ev.type !== 'task_run.state') continue;
      const md = ev.run?.metadata as Record<string, unknown> | undefined;
      const ident = runIdent(md);
      if (ident === null) continue;
      const k = `${ident}\0${String(md!.tg_sha)}${attemptTag(md!.tg_try)}`;
      const off = want.get(k);
      if (off === undefined) continue;
      want.delete(k);
      found.push(off);
      runIds.push(ev.run.run_id);
    }
    this.journal.append({ t: 'found', g: this.group, c, offsets: found, run_ids: runIds }); // resolves the pending "sending"
    if (found.length)
      this.job.ctx.info(
        `tg: chunk ${c}: ${found.length} of ${offsets.length} rows already existed after an unknown outcome; ${offsets.length - found.length} to send`,
      );
    this.skippedRows += found.length;
    const f = new Set(found);
    return offsets.filter((x) => !f.has(x));
  }
}
