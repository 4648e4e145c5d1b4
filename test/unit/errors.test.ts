// errors.ts: hints are added to an error without losing it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TgError, EXIT, withHint, withResumeHint, usageError } from '../../src/errors';

test('withHint keeps the error and its cause; withResumeHint adds only one resume instruction', () => {
  const cause = new Error('root');
  const e = new TgError('network', 'boom', { hint: 'Check the network.', cause });
  assert.equal(e.exitCode, EXIT.API);
  assert.equal(withHint(e, 'Then rerun.'), e);
  assert.equal(e.hint, 'Check the network. Then rerun.');
  assert.equal(e.cause, cause);
  const u = usageError('bad', 'Rerun the same command to resume.');
  withResumeHint(u, 'Rerun the same command: it resumes.');
  assert.equal(u.hint, 'Rerun the same command to resume.');
});
