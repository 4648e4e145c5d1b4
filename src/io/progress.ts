// Progress on stderr through the context's Display: a bar drawn in place on a terminal, a plain
// line every N seconds otherwise, a JSON event with --json, nothing with --quiet. Counts start
// from what was already done (correct after a resume); the ETA is shown once it means something.
import type { Clock } from '../core/clock';
import type { Display } from './display';

/** What a progress display needs of a command's context (a Context has all of it). */
export interface ProgressHost {
  clock: Clock;
  global: { quiet?: boolean };
  display: Display;
  io: { stdoutIsTTY?: boolean; env: NodeJS.ProcessEnv };
}
import { estimateEta, formatDuration } from '../core/plan';
import type { StatusSource } from './display';

export interface ProgressOptions {
  label: string;
  unit: string;
  total: number;
  done: number;
  /** The client-side budget (shown, and bounding the ETA), in `unit`s unless `units` says otherwise. */
  budget?: {
    limit: number;
    windowMs: number;
    units?: (remaining: number) => number;
    /** How the line shows it: as given (`--rate 2000 requests/60s`), not at all (null: for the ETA only), or in units a minute (absent). */
    shown?: string | null;
  };
  /** Results go to stdout: on a terminal they would cross a live line, so plain lines instead. */
  toStdout?: boolean;
}

const BAR_WIDTH = 20;

export class Progress implements StatusSource {
  private readonly t0: number;
  private readonly startDone: number;
  private done: number;
  private total: number;
  private extra = '';
  /** Counted as done without work (rows the group held): not part of the rate. */
  private skipped = 0;
  private stopped = false;
  private attached = false;

  constructor(
    private readonly ctx: ProgressHost,
    private readonly o: ProgressOptions,
  ) {
    this.t0 = ctx.clock.now();
    this.startDone = o.done;
    this.done = o.done;
    this.total = o.total;
  }

  static async start(ctx: ProgressHost, o: ProgressOptions): Promise<Progress> {
    const p = new Progress(ctx, o);
    if (ctx.global.quiet) return p;
    p.attached = true;
    ctx.display.attach(p, !(o.toStdout && ctx.io.stdoutIsTTY));
    return p;
  }

  private stats(now: number) {
    const b = this.o.budget;
    const remaining = Math.max(0, this.total - this.done);
    return estimateEta({
      done: this.done,
      total: this.total,
      startDone: this.startDone + this.skipped,
      elapsedMs: now - this.t0,
      budget: b ? { limit: b.limit, windowMs: b.windowMs, remainingUnits: b.units ? b.units(remaining) : remaining } : undefined,
      waitMs: this.ctx.display.waitLeft(now),
    });
  }

  /** The budget as the line shows it, or undefined. */
  private budgetText(): { text: string; given: boolean } | undefined {
    const b = this.o.budget;
    if (!b || b.shown === null) return undefined;
    return b.shown !== undefined ? { text: b.shown, given: true } : { text: `${Math.round((b.limit * 60_000) / b.windowMs)}/min`, given: false };
  }

  private eta(etaMs: number | null) {
    return etaMs === null ? '--' : formatDuration(etaMs);
  }

  /** The live line; narrower than its full text when `width` says so: the bar's blocks go first, then its tail. */
  bar(now: number, width = Infinity): string {
    const s = this.stats(now);
    const color = !this.ctx.io.env.NO_COLOR;
    const full = Math.round((s.pct / 100) * BAR_WIDTH);
    const bar = (color ? '\u2588' : '#').repeat(full) + (color ? '\u2591' : '-').repeat(BAR_WIDTH - full);
    const b = this.budgetText();
    const rate = `${Math.round(s.perMin)}/min${b ? (b.given ? ` (--rate ${b.text})` : ` of ${b.text}`) : ''}`;
    const rest = `${this.done}/${this.total} ${this.o.unit} | ${rate} | ETA ${this.eta(s.etaMs)}${this.extra}`;
    const whole = `${this.o.label} ${bar} ${rest}`;
    return whole.length <= width ? whole : `${this.o.label} ${rest}`;
  }

  line(now = this.ctx.clock.now()): string {
    const s = this.stats(now);
    const b = this.budgetText();
    const rate = `${Math.round(s.perMin)}/min${b ? (b.given ? ` (--rate ${b.text})` : ` (budget ${b.text})`) : ''}`;
    return `tg: ${this.o.label} ${this.done}/${this.total} ${this.o.unit} (${s.pct.toFixed(1)}%), ${rate}, ETA ${this.eta(s.etaMs)}${this.extra}`;
  }

  event(now: number): Record<string, unknown> {
    const s = this.stats(now);
    return {
      what: this.o.label,
      done: this.done,
      total: this.total,
      unit: this.o.unit,
      per_min: Math.round(s.perMin),
      eta_s: s.etaMs === null ? null : Math.round(s.etaMs / 1000),
    };
  }

  /** `skipped`: how many of `done` took no work (they are left out of the rate). */
  update(done: number, extra?: string, skipped = 0) {
    this.done = done;
    this.skipped = skipped;
    if (extra !== undefined) this.extra = extra;
  }

  setTotal(total: number) {
    this.total = total;
  }

  /** `final`: leave the last state as a line (only if anything moved). */
  stop(final = true) {
    if (this.stopped) return;
    this.stopped = true;
    if (this.attached) this.ctx.display.detach(this, final && this.done !== this.startDone);
  }
}
