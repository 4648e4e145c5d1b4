// bench/common.mjs fails fast: a benchmark whose emulator dies stops at once, saying how it died
// and what it last wrote on stderr, and ends the child that was talking to it; the wait for
// readiness is bounded. Nothing here waits on a dead port or sleeps: each case waits for a line or
// an exit, and a broken guard shows as the test's own timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { lineTail, runChild, startEmulator, timeTg, TAIL_LINES } from '../bench/common.mjs';
import { BIN, tmp, waitFor } from './helpers.mjs';

const gone = (pid) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

test('lineTail keeps the last lines of a stream, the unfinished one included', () => {
  const s = new PassThrough();
  const tail = lineTail(s, 3);
  s.write('one\ntwo\nthr');
  s.write('ee\nfour\nfi');
  return new Promise((resolve) =>
    setImmediate(() => {
      assert.deepEqual(tail(), ['three', 'four', 'fi']);
      resolve(undefined);
    }),
  );
});

test('the emulator killed mid-bench: the waiting child is ended and the error names the signal and the stderr tail', { timeout: 60_000 }, async () => {
  const emu = await startEmulator(BIN, ['--rate-limit', 'off']);
  await waitFor(() => emu.tail().some((l) => /tg emulator: rate limit/.test(l)), { what: "the emulator's banner on stderr" });
  // A child that would otherwise run for ever, as tg retrying a dead port for 10 minutes does.
  const run = runChild(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { emu });
  emu.child.kill('SIGKILL');
  await assert.rejects(run, (/** @type {any} */ e) => {
    assert.match(e.message, /the emulator \(pid \d+\) exited, killed by SIGKILL/);
    assert.match(e.message, /last 1 stderr line\(s\):\n {2}tg emulator: rate limit off/);
    return true;
  });
  await waitFor(() => gone(run.child.pid), { what: 'the child talking to the dead emulator to be ended' });
  // Anything guarded afterwards fails at once too: a tg run (unguarded, it would retry the dead
  // port for TG_OUTAGE_GIVE_UP_S, 10 minutes, far past this test's timeout), the stats.
  await assert.rejects(timeTg(BIN, ['status', 'tgrp_00000000000000000000000000000000', '--base-url', emu.url], { emu }), /killed by SIGKILL/);
  await assert.rejects(emu.stats(), /killed by SIGKILL/);
});

test('an emulator that exits before it listens: the error quotes its last 20 stderr lines', { timeout: 60_000 }, async () => {
  const fake = path.join(tmp(), 'fake-emulator.mjs');
  writeFileSync(fake, 'for (let i = 1; i <= 30; i++) process.stderr.write(`line ${i}\\n`);\nprocess.exitCode = 3;\n');
  await assert.rejects(startEmulator(fake), (/** @type {any} */ e) => {
    assert.match(e.message, /exited, exit code 3; last 20 stderr line\(s\):/);
    const quoted = e.message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
    assert.equal(quoted.length, TAIL_LINES);
    assert.deepEqual(
      quoted,
      Array.from({ length: 20 }, (_, i) => `line ${i + 11}`),
    );
    return true;
  });
});

test('an emulator that never listens: readiness is bounded and the child is killed', { timeout: 60_000 }, async () => {
  const fake = path.join(tmp(), 'silent-emulator.mjs');
  writeFileSync(fake, "process.stderr.write('starting\\n');\nsetInterval(() => {}, 1000);\n");
  let pid;
  await assert.rejects(
    startEmulator(fake, [], { readyMs: 300 }).catch((e) => {
      pid = Number(/pid (\d+)/.exec(e.message)?.[1]);
      throw e;
    }),
    /was not listening after 0\.3 s/,
  );
  await waitFor(() => gone(pid), { what: 'the silent emulator to be killed' });
});
