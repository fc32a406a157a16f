import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WirelabError } from '../../../src/common/errors.js';
import { MAX_DURATION_MS, formatDuration, parseDuration } from '../../../src/cli/duration.js';

const usage = (pattern: RegExp) => (err: unknown) => err instanceof WirelabError && err.code === 'E_USAGE' && pattern.test(err.message);

test('durations take a unit: ms, s, m, h, with fractions', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration(' 3s '), 3000);
});

test('a bare number is refused with a hint naming the flag', () => {
  assert.throws(() => parseDuration('10', '--duration'), usage(/^--duration: '10' has no unit; write 10s or 10ms$/));
  assert.throws(() => parseDuration('2.5'), usage(/has no unit; write 2\.5s or 2\.5ms/));
});

test('as a commander argParser, the previous value (not a string) is not taken for a flag name', () => {
  assert.throws(() => parseDuration('10', 1000), usage(/^'10' has no unit/));
});

test('zero, negative, unknown units and overlong durations are refused', () => {
  assert.throws(() => parseDuration('0s'), usage(/at least 1ms/));
  assert.throws(() => parseDuration('0.1ms'), usage(/at least 1ms/));
  assert.throws(() => parseDuration('-1s'), usage(/not a duration/));
  assert.throws(() => parseDuration('10 s'), usage(/not a duration/));
  assert.throws(() => parseDuration('1d'), usage(/not a duration/));
  assert.throws(() => parseDuration('1e3ms'), usage(/not a duration/));
  assert.throws(() => parseDuration(''), usage(/not a duration/));
  assert.throws(() => parseDuration('1000h'), usage(/too long/));
  assert.equal(parseDuration(`${MAX_DURATION_MS}ms`), MAX_DURATION_MS);
});

test('a default is shown in the syntax it is read back in', () => {
  for (const ms of [1, 500, 1000, 1500, 13_000, 60_000, 120_000, 3_600_000, 1234]) {
    assert.equal(parseDuration(formatDuration(ms)), ms, String(ms));
  }
  assert.equal(formatDuration(1000), '1s');
  assert.equal(formatDuration(120_000), '2m');
});
