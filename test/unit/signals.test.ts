// core/signals.ts: what each SIGINT/SIGTERM does, with the event loop's turns driven by the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignalPolicy } from '../../src/core/signals';

/** A policy whose "next turn" the test runs by hand. */
function policy() {
  let queued: (() => void)[] = [];
  const p = new SignalPolicy((f) => queued.push(f));
  const turn = () => {
    const q = queued;
    queued = [];
    for (const f of q) f();
  };
  return { p, turn };
}

test('the same signal twice in one turn (timeout signals the process and its group) is one event', () => {
  const { p, turn } = policy();
  assert.deepEqual(p.on('SIGTERM'), { act: 'stop' });
  assert.deepEqual(p.on('SIGTERM'), { act: 'ignore' });
  turn();
  assert.deepEqual(p.on('SIGTERM'), { act: 'exit', code: 130, say: 'SIGTERM again: exiting now' }, 'a later one is a second event');
});

test('a second Ctrl-C after tg has reacted exits at once; another kind says what happened', () => {
  const { p, turn } = policy();
  assert.deepEqual(p.on('SIGINT'), { act: 'stop' });
  turn();
  assert.deepEqual(p.on('SIGINT'), { act: 'exit', code: 130, say: 'SIGINT again: exiting now' });
  const q = policy();
  q.p.on('SIGINT');
  assert.deepEqual(q.p.on('SIGTERM'), { act: 'exit', code: 130, say: 'SIGTERM after SIGINT: exiting now' }, 'two kinds are two senders');
});

test('after the command finished: the first signal exits with its code, silently; a duplicate is still one', () => {
  const { p, turn } = policy();
  p.finished = true;
  assert.deepEqual(p.on('SIGTERM'), { act: 'exit' });
  assert.deepEqual(p.on('SIGTERM'), { act: 'ignore' });
  turn();
  const q = policy();
  q.p.on('SIGINT');
  q.turn();
  q.p.finished = true;
  assert.deepEqual(q.p.on('SIGINT'), { act: 'exit', code: 130, say: 'SIGINT again: exiting now' });
});
