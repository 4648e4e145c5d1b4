// Shared by the ledger tests (issue F): a child tg whose stderr can be awaited, a condition
// poll, and the environment that points tg at a test's emulator and state directory.
import path from 'node:path';
import { spawnTg } from './helpers.mjs';

/**
 * A child tg (helpers' spawnTg) whose stderr can be awaited.
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string>, input?: string }} [opts]
 */
export function startTg(args, opts = {}) {
  const p = spawnTg(args, opts);
  return { child: p.child, done: p.done, stderrMatch: (/** @type {RegExp} */ re) => p.waitForStderr(re) };
}

/**
 * Resolve when pred() holds; polls a condition (never a fixed sleep then assert).
 * @param {() => boolean | Promise<boolean>} pred
 * @param {string} what
 */
export async function until(pred, what) {
  for (let i = 0; i < 6000; i++) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 10, undefined));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** @param {string} d @param {{ url: string }} e */
export const env = (d, e) => ({ TG_STATE_DIR: path.join(d, 'state'), PARALLEL_BASE_URL: e.url });
