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

type Slot<T> = { state: 'pending' } | { state: 'ok'; value: T } | { state: 'err'; error: unknown };

export class OrderedWindow<T> {
  private readonly slots: Slot<T>[] = [];
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

  /** Add an item; resolves once there is room for the next one. Rejects with the window's error. */
  push(item: T | Promise<T>): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.stopped) return Promise.reject(new Error('the window is stopped'));
    const slot: { state: string; value?: T; error?: unknown } = { state: 'pending' };
    this.slots.push(slot as Slot<T>);
    if (item instanceof Promise) {
      item.then(
        (value) => this.settleSlot(slot, { state: 'ok', value }),
        (error) => this.settleSlot(slot, { state: 'err', error }),
      );
    } else {
      this.settleSlot(slot, { state: 'ok', value: item });
    }
    return this.waitFor(() => this.slots.length < this.o.size);
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

  private settleSlot(slot: { state: string; value?: T; error?: unknown }, to: Slot<T>) {
    Object.assign(slot, to);
    this.pump();
  }

  /** Write every settled item at the head, then flush if the window ran empty or it is time. */
  private pump() {
    if (this.failure || this.stopped) return;
    while (this.slots.length && this.slots[0].state !== 'pending') {
      const s = this.slots.shift() as Exclude<Slot<T>, { state: 'pending' }>;
      if (s.state === 'err') return this.fail(s.error);
      try {
        this.sink.write(s.value);
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
