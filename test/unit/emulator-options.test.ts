// The emulator's one table of options (src/emulator/options.ts): the `tg emulator` declarations,
// the values startEmulator receives, the defaults, the banner and the README all come from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { commands } from '../../src/options';
import { EMULATOR_FLAGS, attributeOf, emulatorFlagsMarkdown, fromCommandLine, givenBehaviours, withDefaults } from '../../src/emulator/options';

/** `tg emulator` as commander declares it, parsing argv; errors thrown, not printed. */
function parse(argv: string[]) {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  const cmd = commands.emulator(program).exitOverride();
  program.parse(['emulator', ...argv], { from: 'user' });
  return { cmd, values: cmd.opts() as Record<string, unknown> };
}

test('every row of the table is a `tg emulator` flag, under the attribute fromCommandLine reads, listed in --help', () => {
  const { cmd } = parse([]);
  const attrs = cmd.options.map((o) => o.attributeName()).filter((a) => a !== 'help');
  assert.deepEqual(
    attrs,
    Object.values(EMULATOR_FLAGS).map((d) => attributeOf(d.flag)),
  );
  const help = cmd.helpInformation();
  for (const d of Object.values(EMULATOR_FLAGS)) assert.ok(help.includes(d.flag), d.flag);
  assert.match(help, /--latency <min\.\.max>\s+simulated run duration, uniform\s+\("200ms\.\.6s"\) \(default: 1s\.\.5s\)/);
  assert.match(help, /Faults \(shares are seeded by --seed\):\n {2}--error-rate <p>/);
});

test("flags are parsed at the parser into startEmulator options; the defaults are the table's", () => {
  const argv = ['--latency', '200ms..2s', '--rate-limit', 'off', '--fail-rate', '0.5', '--action-required-for', '2s', '--port', '0'];
  argv.push('--auth-fault', '1', '--response-delay', '50ms', '--credit-limit', '10', '--api-key', 'k', '--rate-limit-unit', 'runs');
  const o = fromCommandLine(parse(argv).values);
  assert.deepEqual(o, {
    host: '127.0.0.1',
    port: 0,
    apiKey: 'k',
    rateLimit: null,
    rateLimitUnit: 'runs',
    latencyMs: [200, 2000],
    creditLimit: 10,
    streamLifetimeMs: 600_000,
    responseDelayMs: 50,
    failRate: 0.5,
    actionRequiredRate: 0,
    actionRequiredMs: 2000,
    cancelRate: 0,
    errorRate: 0,
    authFault: 1,
    loseResponses: 0,
    resendEvents: 0,
    dropEvents: 0,
  });
  // What a library caller leaves out is filled the same way; null (off) is a value.
  const lib = withDefaults({ rateLimit: null, seed: 3 });
  assert.equal(lib.rateLimit, null);
  assert.deepEqual(lib.latencyMs, [1000, 5000]);
  assert.equal(lib.streamLifetimeMs, 600_000);
  assert.deepEqual(withDefaults({}).rateLimit, { limit: 2000, windowMs: 60_000 });
});

test('bad values are refused by the parser, naming the flag and the rule', () => {
  const cases: [string[], RegExp][] = [
    [['--latency', '5s..1s'], /'--latency <min\.\.max>' argument '5s\.\.1s' is invalid\. must be <min>\.\.<max>/],
    [['--fail-rate', '2'], /'--fail-rate <p>' argument '2' is invalid\. must be a number from 0 to 1/],
    [['--auth-fault', 'yes'], /--auth-fault <p>.*must be a number from 0 to 1/],
    [['--rate-limit', 'fast'], /--rate-limit <n\/window>.*not a rate/],
    [['--stream-lifetime', 'soon'], /--stream-lifetime <duration>.*not a duration/],
    [['--port', '70000'], /--port <n>.*whole number from 0 to 65535/],
    [['--rate-limit-unit', 'posts'], /Allowed choices are requests, runs/],
  ];
  for (const [argv, re] of cases) assert.throws(() => parse(argv), re, argv.join(' '));
});

test('the banner names what was given other than by default, as flags, in table order', () => {
  const given = fromCommandLine(parse(['--seed', '7', '--cancel-rate', '0.5', '--stream-lifetime', '30s', '--fail-rate', '0', '--latency', '1s']).values);
  assert.equal(givenBehaviours(given), '--stream-lifetime 30s, --cancel-rate 0.5, --seed 7');
  assert.equal(givenBehaviours({ actionRequiredMs: 90_000, creditLimit: 0 }), '--credit-limit 0, --action-required-for 90s');
});

test("README's emulator table is the table's", () => {
  const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const m = /<!-- emulator-flags:[^\n]*-->\n([\s\S]*?)\n<!-- \/emulator-flags -->/.exec(readme);
  assert.ok(m, 'the README marks the table');
  assert.equal(m[1], emulatorFlagsMarkdown(), 'README.md is out of date: paste emulatorFlagsMarkdown() between the markers');
});
