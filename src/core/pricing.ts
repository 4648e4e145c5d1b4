// What a job costs before it is paid: USD per 1,000 runs by processor (price is per run, not per
// field; each -fast variant costs what its base does). Pure; `--price-per-1k` overrides the table.
import { PROCESSOR_BASES } from './processors';

/** When the table was read, and where: docs.parallel.ai/getting-started/pricing. */
export const PRICES_AS_OF = '2026';
export const PRICES_SOURCE = 'docs.parallel.ai/getting-started/pricing';

export const PRICE_PER_1K: Readonly<Record<(typeof PROCESSOR_BASES)[number], number>> = {
  lite: 5,
  base: 10,
  core: 25,
  core2x: 50,
  pro: 100,
  ultra: 300,
  ultra2x: 600,
  ultra4x: 1200,
  ultra8x: 2400,
};

/** How long one run takes (the same pricing page; -fast variants are 2-5x faster). */
export const LATENCY: Readonly<Record<(typeof PROCESSOR_BASES)[number], string>> = {
  lite: '10s-60s',
  base: '15s-100s',
  core: '60s-5min',
  core2x: '60s-10min',
  pro: '2-10 min',
  ultra: '5-25 min',
  ultra2x: '5-50 min',
  ultra4x: '5-90 min',
  ultra8x: '5 min-2 h',
};

/** Above this estimate a job on a terminal asks before it sends (unless --yes or a --max-cost covers it). */
export const CONFIRM_ABOVE_USD = 50;

/** USD per 1,000 runs of a processor (a -fast variant costs what its base does); null if the table does not know it. */
export function pricePer1k(processor: string, override?: number): number | null {
  if (override !== undefined) return override;
  const base = processor.replace(/-fast$/, '');
  return Object.prototype.hasOwnProperty.call(PRICE_PER_1K, base) ? PRICE_PER_1K[base as keyof typeof PRICE_PER_1K] : null;
}

/** The cost of `runs` runs at a price per 1,000, in USD (exact to the cent's fraction). */
export function estimateUsd(runs: number, per1k: number): number {
  return (runs * per1k) / 1000;
}

/** "$0.60", "$5,000.00", "$0.005" (sub-cent amounts keep their digits). */
export function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.01) return `$${usd.toPrecision(1)}`;
  // Not toLocaleString: its first call loads ICU's number formats, ~40 ms of every submit.
  // Cents rounded half up on the decimal value (0.015 → 0.02), not on its binary approximation.
  const [whole, cents] = (Math.round(Number((Math.abs(usd) * 100).toPrecision(12))) / 100).toFixed(2).split('.');
  return `${usd < 0 ? '-' : ''}$${whole.replace(/\B(?=(\d{3})+$)/g, ',')}.${cents}`;
}

/** A --price-per-1k / --max-cost value: a finite number ≥ 0 (a leading $ is allowed). */
export function parseUsd(v: string, flag: string): number {
  const n = Number(String(v).trim().replace(/^\$/, '').replace(/,/g, ''));
  if (String(v).trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`${flag} must be an amount in USD, 0 or more (e.g. 25 or 12.50), not "${v}"`);
  return n;
}
