// api/retry.ts: the one give-up rule of every retrying path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, NetworkError } from '../../src/errors';
import { Outage, withRetries } from '../../src/api/retry';

const clock = (t = { now: 0 }) => ({ t, clock: { now: () => t.now } });

test('Outage: backoff while the outage is younger than the give-up, then the error itself', () => {
  const { t, clock: c } = clock();
  const o = new Outage({ giveUpMs: 10_000, clock: c, random: () => 0 });
  const e = new NetworkError('down', true);
  assert.equal(o.next(e, 'GET /x'), 500);
  t.now = 5_000;
  assert.equal(o.next(e, 'GET /x'), 1_000);
  t.now = 10_000;
  assert.throws(
    () => o.next(e, 'GET /x'),
    (x) => x === e,
  );
  o.ok();
  assert.equal(o.active, false);
  assert.equal(o.next(e, 'GET /x'), 500, 'a success ends the outage');
});

test('Outage: a retry-after past the give-up ends it at once with when to come back (exit 4)', () => {
  const { clock: c } = clock({ now: Date.UTC(2026, 11, 7, 12) });
  const o = new Outage({ giveUpMs: 600_000, clock: c, random: () => 0 });
  const e429 = new ApiError('rate_limited', 'POST /runs → 429', { status: 429, retryAfterMs: 86_400_000 });
  assert.throws(
    () => o.next(e429, 'POST /v1/tasks/groups/g/runs'),
    (x: ApiError) =>
      x.code === 'retry_later' &&
      x.exitCode === 4 &&
      /asked to wait 86400 s \(retry-after\), longer than the outage give-up of 600 s/.test(x.message) &&
      /Come back after 2026-12-08T12:00:00Z/.test(x.hint ?? '') &&
      x.cause === e429,
  );
  const short = new ApiError('rate_limited', '429', { status: 429, retryAfterMs: 30_000 });
  assert.equal(new Outage({ giveUpMs: 600_000, clock: c, random: () => 0 }).next(short, 'x'), 30_000);
});

test('Outage: a stream silent since its last event has been out since then', () => {
  const { clock: c } = clock({ now: 100_000 });
  const o = new Outage({ giveUpMs: 5_000, clock: c, random: () => 0 });
  const e = Object.assign(new NetworkError('silent', true), { silentMs: 5_000 });
  assert.throws(
    () => o.next(e, 'GET /events', e.silentMs),
    (x) => x === e,
  );
});

test('withRetries: transient failures retried, others thrown at once', async () => {
  const { clock: c } = clock();
  let n = 0;
  const waits: string[] = [];
  const ok = await withRetries(
    async () => {
      if (n++ < 2) throw new ApiError('server_error', '503', { status: 503 });
      return 'done';
    },
    { giveUpMs: 60_000, clock: c, random: () => 0, backoff: { baseMs: 1 }, retries: 5, what: 'GET /x', onWait: (_ms, why) => waits.push(why) },
  );
  assert.equal(ok, 'done');
  assert.deepEqual(waits, ['API answered 503, retrying', 'API answered 503, retrying']);
  const e404 = new ApiError('not_found', '404', { status: 404 });
  await assert.rejects(
    withRetries(
      async () => {
        throw e404;
      },
      { giveUpMs: 60_000, clock: c, random: () => 0, retries: 5, what: 'GET /x' },
    ),
    (x) => x === e404,
  );
});
