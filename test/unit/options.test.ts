// options.ts: values are parsed where commander reads them, once, with the flag named in errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { buildProgram } from '../../src/cli';

/** The options a command's action would receive for argv (the action itself does not run). */
async function parse(argv: string[]): Promise<{ opts: Record<string, unknown>; err: string }> {
  let err = '';
  let opts: Record<string, unknown> = {};
  const program = buildProgram(async () => undefined, { stdout: { write: () => undefined }, stderr: { write: (s: string) => (err += s) } });
  for (const c of program.commands) c.action((...a: unknown[]) => void (opts = (a[a.length - 1] as { opts(): Record<string, unknown> }).opts()));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError) && !(e as { code?: string }).code?.startsWith('commander')) throw e;
  }
  return { opts, err };
}

test('submit: --rate, --timeout, --max-cost, --price-per-1k and --metadata arrive parsed', async () => {
  const { opts } = await parse([
    'submit',
    'x.csv',
    '--rate',
    '20/10s',
    '--watch',
    '--timeout',
    '1.5',
    '--max-cost',
    '$1,200.50',
    '--metadata',
    'a=1',
    '--metadata',
    'b=2',
  ]);
  assert.deepEqual(opts.rate, { limit: 20, windowMs: 10_000 });
  assert.equal(opts.timeout, 1500);
  assert.equal(opts.maxCost, 1200.5);
  assert.deepEqual(opts.metadata, { a: '1', b: '2' });
  assert.deepEqual((await parse(['submit', 'x.csv'])).opts.rate, { limit: 2000, windowMs: 60_000 }, 'the default, parsed too');
  assert.equal((await parse(['submit', 'x.csv', '--rate', 'off'])).opts.rate, false);
});

test('a bad value names the flag and the rule, as commander does', async () => {
  assert.match((await parse(['submit', 'x.csv', '--rate', 'fast'])).err, /argument 'fast' is invalid\. --rate: not a rate: "fast"/);
  assert.match((await parse(['submit', 'x.csv', '--max-cost', '-1'])).err, /--max-cost must be an amount in USD/);
  assert.match((await parse(['status', 'g', '--timeout', 'soon'])).err, /--timeout must be a positive number of seconds, not "soon"/);
  assert.match((await parse(['submit', 'x.csv', '--metadata', 'tg_key=1'])).err, /keys starting with "tg_" are reserved/);
  assert.match((await parse(['create', '--metadata', 'novalue'])).err, /--metadata takes key=value, got "novalue"/);
});
