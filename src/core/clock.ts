// Time and chance, injected: the CLI's run(argv, io) passes these down (io.clock, io.random), so
// tests and simulations can give their own. The only readers of the system clock and of
// Math.random in tg are these two defaults.

export interface Clock {
  now(): number;
}

/** A number in [0, 1). */
export type Random = () => number;

export const systemClock: Clock = { now: () => Date.now() };

export const systemRandom: Random = () => Math.random();
