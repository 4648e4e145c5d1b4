// Issue I.6: the terminal display seen through a real terminal (tmux), during a rate-limited
// submit --watch with --verbose log lines: no line is mangled (a log line never lands on the bar
// line), and the bar shows the wait counting down. Skipped, saying why, when tmux is absent.
// Polls the screen for content (never sleeps a fixed time); its own tmux server (-L) only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, KEY, emulator, tmp, waitFor } from './helpers.mjs';

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;

/** One screen line is sound: a log line, the bar (alone), the prompt, or nothing. @param {string} l */
function sound(l) {
  if (l === '' || /^\$( |$)/.test(l) || /^EXIT=\d+$/.test(l)) return true;
  if (/^tg: /.test(l)) return !/.tg: /.test(l) && !/[█░]{3}/.test(l); // no second log line or bar on it
  return /^(submit|results) [█░]{20} \d+\/\d+ (rows|runs) \| \d+\/min( of \d+)? \| ETA [^|]+( \| [^|]+)*$/.test(l) && !/tg: /.test(l);
}

test(
  'tmux: during a rate-limited run the screen has no mangled line and the wait counts down',
  { skip: hasTmux ? false : 'tmux is not installed' },
  async () => {
    const e = await emulator({ rateLimit: { limit: 3, windowMs: 5000 }, latencyMs: [200, 1000], seed: 3 });
    const d = tmp();
    const sock = `tg-test-${process.pid}`;
    const tmux = (/** @type {string[]} */ ...a) => spawnSync('tmux', ['-L', sock, ...a], { encoding: 'utf8' });
    try {
      const rows = ['name,website', ...Array.from({ length: 100 }, (_, i) => `Company ${i + 1},https://c${i + 1}.example`)];
      writeFileSync(path.join(d, 'rows.csv'), rows.join('\n') + '\n');
      const env = `env -u NO_COLOR TERM=xterm-256color PARALLEL_API_KEY=${KEY} TG_STATE_DIR=${path.join(d, 'state')}`;
      const cmd = `${env} ${process.execPath} ${BIN} submit rows.csv --base-url ${e.url} --batch-size 20 --rate off --verbose --watch -o r.jsonl; echo EXIT=$?`;
      const started = tmux('new-session', '-d', '-x', '160', '-y', '40', '-c', d, 'env', 'PS1=$ ', 'bash', '--norc', '--noprofile');
      assert.equal(started.status, 0, started.stderr);
      tmux('send-keys', '-t', '0', cmd, 'Enter');
      /** @type {string[]} */
      const screens = [];
      let counted = '';
      await waitFor(
        () => {
          const shot = tmux('capture-pane', '-p', '-J', '-t', '0').stdout; // -J: a long line wrapped by the terminal is one line
          screens.push(shot);
          counted ||= /\| waiting \d+ s: rate limit/.exec(shot)?.[0] ?? '';
          return /^EXIT=\d+$/m.test(shot);
        },
        { what: 'the submit in tmux to finish', everyMs: 100 },
      );
      const last = /** @type {string} */ (screens.at(-1));
      console.log(`the last of ${screens.length} screens:\n${last}`);
      assert.match(last, /^EXIT=0$/m);
      for (const shot of screens) {
        // The command typed (longer than a line): its first line, or what is left of it at the top
        // once the first line has scrolled off (-J cannot join it to a line no longer on screen).
        const lines = shot.split('\n').filter((l) => !l.startsWith('$ env -u') && !cmd.includes(l.trim()));
        for (const l of lines.map((x) => x.trimEnd())) assert.ok(sound(l), `a mangled line on screen:\n${l}\n--- screen ---\n${shot}`);
      }
      assert.ok(counted, 'the bar showed the rate-limit wait counting down');
      assert.ok(e.stats.rateLimited > 0, 'the run was rate-limited');
    } finally {
      tmux('kill-server');
      await e.close();
    }
  },
);
