// errors.ts: the exit status follows from the code (one table); hints are added to an error
// without losing it; the exit tables users read (README, tg --help) say what the table says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TgError, ApiError, EXIT, EXIT_MEANING, EXIT_OF, withHint, withResumeHint, usageError } from '../../src/errors';
import { buildProgram } from '../../src/cli';

test('withHint keeps the error and its cause; withResumeHint adds only one resume instruction', () => {
  const cause = new Error('root');
  const e = new TgError('network', 'boom', { hint: 'Check the network.', cause });
  assert.equal(e.exitCode, EXIT.API);
  assert.equal(withHint(e, 'Rerun.'), e);
  assert.equal(e.hint, 'Check the network, then rerun.', 'one instruction');
  assert.equal(e.cause, cause);
  const u = usageError('bad', 'Rerun the same command to resume.');
  withResumeHint(u, 'Rerun the same command: it resumes.');
  assert.equal(u.hint, 'Rerun the same command to resume.');
  const r = new TgError('unknown_outcome', 'x', { hint: 'Rerun the same command: it reconciles.' });
  withResumeHint(r, 'Rerun the same command to resume: it resumes.');
  assert.equal(r.hint, 'Rerun the same command: it reconciles.', 'one instruction, not two glued together');
  // A refused key mid-submit (exit 3): what to check, then how to resume, as one instruction.
  const k = new TgError('unauthorized', 'x', { hint: 'The API key was refused: check PARALLEL_API_KEY (or --api-key) and --base-url.' });
  withResumeHint(k, 'Rerun the same command to resume: it resumes.');
  assert.equal(k.hint, 'The API key was refused: check PARALLEL_API_KEY (or --api-key) and --base-url, then rerun the same command to resume: it resumes.');
});

test('every code has one exit status, and every status one meaning', () => {
  for (const [code, status] of Object.entries(EXIT_OF)) {
    assert.ok(Object.values(EXIT).includes(status), `${code} → ${status}`);
    assert.equal(new TgError(code as keyof typeof EXIT_OF, 'm').exitCode, status);
  }
  assert.equal(new ApiError('payment_required', 'm', { status: 402 }).exitCode, EXIT.AUTH);
  assert.equal(EXIT_OF.locked, EXIT.BUSY, 'the busy case has its own status');
  assert.equal(EXIT_OF.local_io, EXIT.API);
  assert.equal(EXIT_OF.local_io_unsent, EXIT.USAGE);
  assert.deepEqual(
    Object.keys(EXIT_MEANING)
      .map(Number)
      .sort((a, b) => a - b),
    [...new Set(Object.values(EXIT))].sort((a, b) => a - b),
  );
});

test("README's exit table and tg --help say what EXIT_MEANING says", () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Exit codes'));
  const rows = new Map([...table.matchAll(/^\| (\d+) \| (.*) \|$/gm)].map((m) => [Number(m[1]), m[2].replaceAll('\\|', '|')]));
  for (const [code, meaning] of Object.entries(EXIT_MEANING)) {
    assert.ok(rows.get(Number(code))?.startsWith(meaning), `README row ${code}: ${rows.get(Number(code))} should start with "${meaning}"`);
  }
  assert.deepEqual(
    [...rows.keys()].sort((a, b) => a - b),
    Object.keys(EXIT_MEANING).map(Number),
  );
  let help = '';
  const program = buildProgram(async () => undefined, { stdout: { write: (s: string) => (help += s) }, stderr: { write: () => undefined } });
  program.outputHelp();
  for (const [code, meaning] of Object.entries(EXIT_MEANING)) assert.ok(help.includes(`${code.padStart(3)}  ${meaning}`), `tg --help lacks ${code}`);
});
