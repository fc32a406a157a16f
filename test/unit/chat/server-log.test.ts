/**
 * The chat server's log (server-log.ts): failed logins and protocol errors, which any client can cause
 * as often as it likes, are logged as they come up to a few per interval, then counted and summarised
 * per address; other events are logged one line each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createLogger } from '../../../src/common/log.js';
import { logServerEvents } from '../../../src/chat/server-log.js';
import type { ChatServerEvents } from '../../../src/chat/server-types.js';
import { fakeClock } from '../../helpers/clock.js';

test('a flood of failed logins is a few lines and a summary per address, not a line each', () => {
  const lines: string[] = [];
  const logger = createLogger({ stderr: { write: (text: string) => void lines.push(text) } });
  const clock = fakeClock();
  const server = new EventEmitter<ChatServerEvents>();
  const stop = logServerEvents(server, logger, clock);
  for (let i = 0; i < 1000; i++) server.emit('login-failed', { name: `u${i}`, address: '198.18.0.9:40000', reason: 'invalid' });
  server.emit('protocol-error', { id: 1, address: '198.18.0.7:41000', name: null, reason: 'header too long' });
  assert.equal(lines.length, 6, lines.join(''));
  assert.equal(lines[0], 'wirelab: warning: failed login from 198.18.0.9:40000: invalid (event=login-failed user=u0)\n');
  assert.equal(lines[5], 'wirelab: warning: protocol error from 198.18.0.7:41000: header too long (event=protocol-error id=1 user=null)\n');
  clock.advance(10_000);
  assert.equal(lines.length, 7);
  assert.match(lines[6]!, /^wirelab: warning: 995 failed logins from 198\.18\.0\.9 in the last 10 s/);
  // a new interval logs its first failures as they come again; the stop logs what is still counted
  for (let i = 0; i < 7; i++) server.emit('login-failed', { name: 'late', address: '198.18.0.9:40001', reason: 'invalid' });
  assert.equal(lines.length, 12);
  stop();
  assert.equal(lines.length, 13);
  assert.match(lines[12]!, /^wirelab: warning: 2 failed logins from 198\.18\.0\.9 in the last /);
});
