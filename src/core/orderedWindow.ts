// An ordered window: items are pushed in order, each possibly still being computed (a promise),
// and written to a sink strictly in push order as soon as every earlier item is written. The
// window is bounded (`push` waits while it is full) and flushes the sink when it runs empty or
// at most every `flushMs` while busy. `watch` uses it so results are fetched concurrently but
// written — and the cursor saved — in event order.
//
// There is no drainer loop: every settled item "pumps" the window (writes the settled head) and
// waiters (a producer waiting for room, `settle`) are woken after each pump or flush.

export interface WindowSink<T> {
  /** Write one item (synchronously: items are written in push order). */
  write(item: T): void;
  /** Make what was written durable. */
  flush(): Promise<void>;
}

export interface WindowOptions {
  /** Most items held at once (pending or not yet written). */
  size: number;
  /** While busy, flush at most this often; always flush when the window runs empty. */
  flushMs: number;
  now: () => number;
  /** Called after each flush (e.g. to update a progress line). */
  onFlush?: () => void;
}

const PENDING = 0;
const OK = 1;
const ERR = 2;

/** One pushed item: pending, or settled with its value or error (one shape for all: cheap to test). */
class Slot<T> {
  state: typeof PENDING | typeof OK | typeof ERR = PENDING;
  value: T | undefined = undefined;
  error: unknown = undefined;
}

const ROOM: Promise<void> = Promise.resolve();
const ignore = () => undefined;

export class OrderedWindow<T> {
  private readonly slots: Slot<T>[] = [];
  private readonly hasRoom = () => this.slots.length < this.o.size;
  private waiters: (() => void)[] = [];
  private flushing: Promise<void> | null = null;
  private dirty = false;
  private again = false;
  private lastFlush: number;
  private failure: { error: unknown } | null = null;
  private stopped = false;
  private idle: NodeJS.Immediate | null = null;

  constructor(
    private readonly sink: WindowSink<T>,
    private readonly o: WindowOptions,
  ) {
    if (!(o.size >= 1)) throw new RangeError('window size must be at least 1');
    this.lastFlush = o.now();
  }

  /** Items held (pending or settled but not yet written). */
  get length(): number {
    return this.slots.length;
  }

  /** The first error (of an item or of the sink), if any. */
  get error(): unknown {
    return this.failure?.error;
  }

  /**
   * Add an item; resolves once there is room for the next one. Rejects with the window's error
   * (an item pushed then is dropped; its own rejection, if any, is handled).
   */
  push(item: T | Promise<T>): Promise<void> {
    if (this.failure || this.stopped) {
      if (item instanceof Promise) item.catch(ignore);
      return Promise.reject(this.failure ? this.failure.error : new Error('the window is stopped'));
    }
    const slot = new Slot<T>();
    this.slots.push(slot);
    if (item instanceof Promise) {
      item.then(
        (value) => this.settleSlot(slot, OK, value),
        (error) => this.settleSlot(slot, ERR, error),
      );
    } else {
      this.settleSlot(slot, OK, item);
    }
    // (Writing a settled item may have failed the window just now: waitFor says so.)
    return this.hasRoom() && this.failure === null ? ROOM : this.waitFor(this.hasRoom);
  }

  /** Resolves when every pushed item is written and flushed; rejects with the window's error. */
  settle(): Promise<void> {
    if (this.dirty && !this.flushing) this.startFlush();
    return this.waitFor(() => this.slots.length === 0 && !this.dirty && !this.flushing);
  }

  /**
   * Stop: items that settle from now on are not written (an error path keeps only what was
   * complete, in order). Waits for a flush in progress; the caller then closes the sink.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.idle) clearImmediate(this.idle);
    this.idle = null;
    this.slots.length = 0; // settled items at the head were written already: the rest wait on others
    this.wake();
    await this.flushing?.catch(() => undefined);
  }

  private settleSlot(slot: Slot<T>, state: typeof OK | typeof ERR, v: unknown) {
    slot.state = state;
    if (state === OK) slot.value = v as T;
    else slot.error = v;
    // Behind a pending head nothing can be written: only a flush may be due.
    if (slot === this.slots[0]) this.pump();
    else if (this.dirty && !this.failure && !this.stopped && this.o.now() - this.lastFlush >= this.o.flushMs) this.startFlush();
  }

  /** Write every settled item at the head, then flush if the window ran empty or it is time. */
  private pump() {
    if (this.failure || this.stopped) return;
    while (this.slots.length && this.slots[0].state !== PENDING) {
      const s = this.slots.shift()!;
      if (s.state === ERR) return this.fail(s.error);
      try {
        this.sink.write(s.value as T);
      } catch (e) {
        return this.fail(e);
      }
      this.dirty = true;
    }
    if (this.dirty && this.o.now() - this.lastFlush >= this.o.flushMs) this.startFlush();
    else if (this.dirty && !this.slots.length) this.flushWhenIdle();
    this.wake();
  }

  /**
   * Ran empty: flush after the events already received are taken in (setImmediate), not at once —
   * a burst of events that each empty the window would otherwise cost one fsync each.
   */
  private flushWhenIdle() {
    if (this.idle) return;
    this.idle = setImmediate(() => {
      this.idle = null;
      if (this.dirty && !this.slots.length && !this.failure && !this.stopped) this.startFlush();
    });
  }

  private startFlush() {
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.dirty = false;
    this.again = false;
    this.flushing = this.sink.flush().then(
      () => {
        this.flushing = null;
        this.lastFlush = this.o.now();
        this.o.onFlush?.();
        if (this.again || (this.dirty && !this.slots.length)) this.startFlush();
        this.wake();
      },
      (e) => {
        this.flushing = null;
        this.fail(e);
      },
    );
  }

  private fail(error: unknown) {
    if (!this.failure) this.failure = { error };
    this.wake();
  }

  private wake() {
    if (!this.waiters.length) return;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  private async waitFor(ready: () => boolean): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      if (ready() || this.stopped) return;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}
