// The one writer of stderr: every log line, the live status line and the error report go through
// here, so a log line is printed above the status line, never onto it.
//
// Modes: `tty` (stderr is a terminal and TERM is not dumb): one live line, redrawn in place, and
// log lines scroll above it. `plain`: no escape codes; a status line every interval. `json`
// (--json): every line is one JSON object ({"log":…}, {"progress":…}, {"error":…}).
// A wait (rate limit, retry-after, backoff) is announced once with its length; the status line
// counts it down by itself, so it never looks frozen.

export type DisplayMode = 'tty' | 'plain' | 'json';
export type LogLevel = 'info' | 'warning' | 'error';

/** What a live status line shows: its body; the display adds the phase or the wait. */
export interface StatusSource {
  /** The body of the terminal's live line (no escape codes); `width`: the room it has (it may drop parts to fit). */
  bar(now: number, width?: number): string;
  /** The body of a plain status line ("tg: …"). */
  line(now: number): string;
  /** The fields of a progress event (--json). */
  event(now: number): Record<string, unknown>;
}

export interface DisplayOptions {
  out: { write(s: string): unknown; columns?: number };
  mode: DisplayMode;
  /** No status line at all (log lines still go out). */
  quiet: boolean;
  /** Between plain lines or JSON progress events. */
  intervalMs: number;
  now?: () => number;
  /** Applied to every line written (removes the API key). */
  redact?: (s: string) => string;
}

const TTY_TICK_MS = 250;
/** A wait at least this long gets a plain status line at once (not only at the next interval). */
const PLAIN_WAIT_MS = 5_000;

export class Display {
  readonly mode: DisplayMode;
  private readonly now: () => number;
  private source: StatusSource | null = null;
  /** The source's line may be drawn in place (false: plain lines even on a terminal). */
  private live = true;
  private drawn = ''; // the live line on the terminal now ('' = none)
  private phaseText = '';
  private waitUntil = 0;
  private waitReason = '';
  private timer: NodeJS.Timeout | null = null;
  private lastStatus = -Infinity;

  constructor(private readonly o: DisplayOptions) {
    this.mode = o.mode;
    this.now = o.now ?? Date.now;
  }

  private write(s: string) {
    this.o.out.write(this.o.redact ? this.o.redact(s) : s);
  }

  /** A line for people (or, with --json, a {"log":…} object), above the live line. */
  log(line: string, level: LogLevel = 'info') {
    if (this.mode === 'json') {
      let message = line.replace(/^tg: /, '');
      if (/^warning: /.test(message)) {
        message = message.slice('warning: '.length);
        level = 'warning';
      }
      return this.write(JSON.stringify({ log: { level, message } }) + '\n');
    }
    const redraw = this.drawn !== '';
    if (redraw) this.clear();
    this.write(line + '\n');
    if (redraw) this.draw(true);
  }

  /** One JSON object on its own line (--json). */
  json(obj: object) {
    this.clear();
    this.write(JSON.stringify(obj) + '\n');
  }

  /** The error report: text lines, or with --json only the JSON object. */
  error(lines: string[], payload: object) {
    if (this.mode === 'json') return this.write(JSON.stringify(payload) + '\n');
    this.clear();
    for (const l of lines) this.write(l + '\n');
  }

  /** What tg is doing now ("validating", "sending"); '' for nothing. */
  phase(text: string) {
    this.phaseText = text;
    this.changed();
  }

  /** A wait of `ms` starts now, for `reason` ("rate limit"); 0 ends it early. */
  waiting(ms: number, reason: string) {
    this.waitUntil = ms > 0 ? this.now() + ms : 0;
    this.waitReason = reason;
    if (this.o.quiet || !this.source) return this.changed();
    if (ms >= PLAIN_WAIT_MS && !this.isLive() && this.now() - this.lastStatus >= PLAIN_WAIT_MS) this.status();
    else this.changed();
  }

  /** The wait under way, as shown ("waiting 42 s: rate limit"), or '' when there is none. */
  waitText(now = this.now()): string {
    const left = this.waitUntil - now;
    return left > 0 ? `waiting ${Math.ceil(left / 1000)} s: ${this.waitReason}` : '';
  }

  /** ms left of the wait under way (0: none). */
  waitLeft(now = this.now()): number {
    return Math.max(0, this.waitUntil - now);
  }

  /** Show `src` as the status line until detach(). `live: false` keeps to plain lines. */
  attach(src: StatusSource, live = true) {
    if (this.o.quiet) return;
    this.source = src;
    this.live = live;
    this.lastStatus = this.now();
    this.startTimer();
    if (this.isLive()) this.draw(true);
  }

  /** Stop showing `src`; `final` leaves its last state as a line (in the scrollback on a terminal). */
  detach(src: StatusSource, final: boolean) {
    if (this.source !== src) return;
    if (final) this.status();
    else this.clear();
    this.source = null;
    this.stopTimer();
    if (this.phaseText && this.mode === 'tty') this.startTimer();
  }

  /** The command is over: no more status lines; the live line is removed. */
  close() {
    this.stopTimer();
    this.source = null;
    this.phaseText = '';
    this.clear();
  }

  /** Remove the live line (before the process exits, or an error report). */
  clear() {
    if (this.drawn === '') return;
    this.write('\r\x1b[K');
    this.drawn = '';
  }

  private isLive() {
    return this.mode === 'tty' && (this.source ? this.live : this.phaseText !== '');
  }

  private changed() {
    if (this.o.quiet) return;
    if (this.mode === 'tty' && !this.source) {
      if (this.phaseText) {
        this.startTimer();
        this.draw(false);
      } else {
        this.clear();
        this.stopTimer();
      }
    }
  }

  /** The phase or the wait, whichever applies now. */
  private tail(now: number): string {
    return this.waitText(now) || this.phaseText;
  }

  /** One status line now: redrawn in place, or printed (plain), or a progress event (JSON). */
  private status() {
    const now = this.now();
    this.lastStatus = now;
    const src = this.source;
    if (!src) return;
    if (this.mode === 'json') {
      const wait = this.waitLeft(now);
      const ev = { ...src.event(now), phase: this.phaseText || null, wait: wait ? { reason: this.waitReason, s: Math.ceil(wait / 1000) } : null };
      return this.write(JSON.stringify({ progress: ev }) + '\n');
    }
    if (this.isLive()) {
      this.draw(true);
      this.write('\n'); // the last state stays in the scrollback
      this.drawn = '';
      return;
    }
    const tail = this.tail(now);
    this.log(`${src.line(now)}${tail ? `; ${tail}` : ''}`);
  }

  /** Draw the live line if it changed (or always with force). Never wider than the terminal. */
  private draw(force: boolean) {
    if (!this.isLive()) return;
    const now = this.now();
    const tail = this.tail(now);
    const width = Math.max(20, (this.o.out.columns ?? 80) - 1);
    // Too wide: the bar gives way first, so what tg waits for stays readable.
    const room = Math.max(20, width - (tail ? tail.length + 3 : 0));
    const body = this.source ? this.source.bar(now, room) : `tg: ${tail}`;
    const fit = (s: string, w: number) => (s.length > w ? s.slice(0, Math.max(0, w - 1)) + '…' : s);
    let text = this.source && tail ? `${fit(body, room)} | ${tail}` : body;
    text = fit(text, width);
    if (!force && text === this.drawn) return;
    this.write(`\r${text}\x1b[K`);
    this.drawn = text;
  }

  private startTimer() {
    if (this.timer || this.o.quiet) return;
    const every = this.mode === 'tty' ? TTY_TICK_MS : this.o.intervalMs;
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
  }

  private stopTimer() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick() {
    if (this.isLive()) return this.draw(false);
    if (this.source && this.now() - this.lastStatus >= this.o.intervalMs - TTY_TICK_MS) this.status();
  }
}

/** The display for this process: a live line only on a terminal that can draw one. */
export function displayMode(o: { json?: boolean; stderrIsTTY: boolean; env: NodeJS.ProcessEnv }): DisplayMode {
  if (o.json) return 'json';
  return o.stderrIsTTY && o.env.TERM !== 'dumb' ? 'tty' : 'plain';
}
