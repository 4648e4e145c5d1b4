// Progress on stderr: a cli-progress bar on a terminal, a plain line every N seconds otherwise,
// nothing with --quiet. Counts start from what was already done (correct after a resume).
import type { Context } from '../context';
import { formatDuration, progressStats } from '../core/plan';

export interface ProgressOptions {
  label: string;
  unit: string;
  total: number;
  done: number;
  budgetPerMin?: number;
}

export class Progress {
  private bar: { start(total: number, v: number, p?: object): void; update(v: number, p?: object): void; setTotal(t: number): void; stop(): void } | null =
    null;
  private timer: NodeJS.Timeout | null = null;
  private readonly t0: number;
  private readonly startDone: number;
  private done: number;
  private total: number;
  private extra = '';
  private stopped = false;

  constructor(
    private readonly ctx: Context,
    private readonly o: ProgressOptions,
  ) {
    this.t0 = ctx.clock.now();
    this.startDone = o.done;
    this.done = o.done;
    this.total = o.total;
  }

  static async start(ctx: Context, o: ProgressOptions): Promise<Progress> {
    const p = new Progress(ctx, o);
    if (ctx.global.quiet) return p;
    if (ctx.io.stderrIsTTY) {
      const cp = await import('cli-progress');
      const color = !ctx.io.env.NO_COLOR;
      p.bar = new cp.SingleBar(
        {
          stream: ctx.io.stderr as NodeJS.WriteStream,
          format: `${o.label} {bar} {value}/{total} ${o.unit} | {rate} | ETA {etaText}{extra}`,
          barCompleteChar: color ? '\u2588' : '#',
          barIncompleteChar: color ? '\u2591' : '-',
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
          fps: 5,
        },
        cp.Presets.shades_classic,
      );
      p.bar.start(o.total, o.done, p.payload());
    } else {
      const every = Math.max(0.1, Number(ctx.global.progressInterval ?? 10)) * 1000;
      p.timer = setInterval(() => ctx.warn(p.line()), every);
      p.timer.unref();
    }
    return p;
  }

  private stats() {
    return progressStats(this.done, this.total, this.startDone, this.ctx.clock.now() - this.t0, this.o.budgetPerMin);
  }

  private payload() {
    const s = this.stats();
    const rate = `${Math.round(s.perMin)}/min${this.o.budgetPerMin ? ` of ${this.o.budgetPerMin}` : ''}`;
    return { rate, etaText: formatDuration(s.etaMs), extra: this.extra };
  }

  line(): string {
    const s = this.stats();
    const rate = `${Math.round(s.perMin)}/min${this.o.budgetPerMin ? ` (budget ${this.o.budgetPerMin}/min)` : ''}`;
    return `tg: ${this.o.label} ${this.done}/${this.total} ${this.o.unit} (${s.pct.toFixed(1)}%), ${rate}, ETA ${formatDuration(s.etaMs)}${this.extra}`;
  }

  update(done: number, extra?: string) {
    this.done = done;
    if (extra !== undefined) this.extra = extra;
    this.bar?.update(done, this.payload());
  }

  setTotal(total: number) {
    this.total = total;
    this.bar?.setTotal(total);
  }

  stop(final = true) {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.bar) this.bar.stop();
    else if (final && !this.ctx.global.quiet && this.done !== this.startDone) this.ctx.warn(this.line());
  }
}
