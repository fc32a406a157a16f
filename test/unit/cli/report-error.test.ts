import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WirelabError } from '../../../src/common/errors.js';
import { reportError, signalExitCode } from '../../../src/cli/shared.js';

function captureStderr(fn: () => number): { code: number; text: string } {
  const original = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string) => {
    text += chunk;
    return true;
  });
  try {
    return { code: fn(), text };
  } finally {
    process.stderr.write = original;
  }
}

test('exit codes: 2 for a usage error, 1 for a runtime failure, 70 with the stack for a bug', () => {
  assert.deepEqual(captureStderr(() => reportError(new WirelabError('E_USAGE', 'bad flag'))), { code: 2, text: 'wirelab: bad flag\n' });
  assert.deepEqual(captureStderr(() => reportError(new WirelabError('E_ADDR_IN_USE', 'port taken'))), { code: 1, text: 'wirelab: port taken\n' });
  const bug = captureStderr(() => reportError(new TypeError('x is undefined')));
  assert.equal(bug.code, 70);
  assert.match(bug.text, /^wirelab: internal error \(a bug: please report it\): TypeError: x is undefined\n\s+at /);
});

test('128+N for a stop by signal N', () => {
  assert.equal(signalExitCode('SIGHUP'), 129);
  assert.equal(signalExitCode('SIGINT'), 130);
  assert.equal(signalExitCode('SIGTERM'), 143);
});
