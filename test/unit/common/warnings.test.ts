/** The warning digest (issue 13, broadcast 5): a few lines as they come, then one summary per source per interval. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeClock } from '../../helpers/clock.js';
import { WarningDigest } from '../../../src/common/warnings.js';

test('2,000 invalid datagrams from one address: five lines as they come, then one summary', () => {
  const clock = fakeClock();
  const lines: string[] = [];
  const digest = new WarningDigest((line) => lines.push(line), clock, { intervalMs: 10_000, immediate: 5 });
  for (let i = 0; i < 2005; i++) digest.note('invalid datagram', `198.19.99.7:${1000 + i}`, 'not text nor an envelope (4 bytes)');
  assert.equal(lines.length, 5);
  assert.equal(lines[0], 'invalid datagram from 198.19.99.7:1000: not text nor an envelope (4 bytes)');
  clock.advance(10_000);
  assert.deepEqual(lines.slice(5), ['2,000 invalid datagrams from 198.19.99.7 in the last 10 s']);
  clock.advance(60_000);
  assert.equal(lines.length, 6, 'a quiet interval logs nothing');
  digest.note('invalid datagram', '198.19.99.7:1', 'again');
  assert.equal(lines.length, 7, 'a new interval logs as they come again');
});

test('many sources: the loudest named, the rest added up; reasons escaped; close flushes', () => {
  const clock = fakeClock();
  const lines: string[] = [];
  const digest = new WarningDigest((line) => lines.push(line), clock, { immediate: 1, summarySources: 2, maxSources: 3 });
  digest.note('rejected datagram', '10.0.0.9:1', "unknown kind '\x1b[2J'");
  assert.equal(lines[0], "rejected datagram from 10.0.0.9:1: unknown kind '\\x1b[2J'");
  for (let i = 0; i < 30; i++) digest.note('rejected datagram', '10.0.0.1:5', 'bad');
  for (let i = 0; i < 20; i++) digest.note('rejected datagram', '10.0.0.2:5', 'bad');
  for (let i = 0; i < 10; i++) digest.note('rejected datagram', '10.0.0.3:5', 'bad');
  for (let i = 0; i < 5; i++) digest.note('invalid datagram', `10.0.1.${i}:5`, 'bad'); // over maxSources: only added up
  clock.advance(3_000);
  digest.close();
  assert.deepEqual(lines.slice(1), [
    '30 rejected datagrams from 10.0.0.1 in the last 3 s',
    '20 rejected datagrams from 10.0.0.2 in the last 3 s',
    '15 warnings from 1+ other sources in the last 3 s',
  ]);
});
