/**
 * `wirelab chat server --log FILE`: the server's events reach the file as JSON lines (a connection, a
 * registration, a failed login, a login, a message, a leave), and no password ever does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestUser } from './clients.js';
import { ServerProcess, workDir } from './helpers.js';

test('--log FILE gets every server event as a JSON line, and never a password', { timeout: 60_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const log = join(work.dir, 'chat.log');
  const { server, port } = await ServerProcess.start(work.dir, work.data, ['--log', log]);
  t.after(() => server.stop('SIGKILL'));
  const passwords = ['alice-secret-9f3b', 'bob-secret-77ac', 'wrong-guess-31d0'];
  const alice = await TestUser.join(port, 'alice', { downloads: work.dir, password: passwords[0] });
  t.after(() => alice.close());
  const bob = await TestUser.join(port, 'bob', { downloads: work.dir, password: passwords[1] });
  t.after(() => bob.close());
  await assert.rejects(TestUser.join(port, 'bob', { register: false, downloads: work.dir, password: passwords[2] }), /Invalid username or password/);
  alice.client.write('msg', 'hello log');
  await bob.waitText((e) => e.text === 'Client alice: hello log\n');
  await alice.client.quit();
  await server.waitFor((e) => e.event === 'left' && e.name === 'alice');
  // a clean stop, so that the last lines are written
  server.type('shutdown');
  assert.equal((await server.exited).code, 0);

  const text = readFileSync(log, 'utf8');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const events = lines.map((l) => l.event);
  for (const e of ['listening', 'connected', 'registered', 'joined', 'login-failed', 'message', 'left', 'shutdown']) assert.ok(events.includes(e), `${e} in ${JSON.stringify(events)}`);
  for (const l of lines) {
    assert.equal(typeof l.time, 'number');
    assert.equal(typeof l.msg, 'string');
    assert.equal(l.name, 'chat-server');
  }
  assert.deepEqual(lines.filter((l) => l.event === 'joined').map((l) => [l.msg, l.user]), [['alice logged in', 'alice'], ['bob logged in', 'bob']]);
  const message = lines.find((l) => l.event === 'message')!;
  assert.deepEqual([message.from, message.to, message.bytes], ['alice', null, 9]);
  const failed = lines.find((l) => l.event === 'login-failed')!;
  assert.deepEqual([failed.level, failed.user, failed.reason], [40, 'bob', 'invalid']);
  for (const secret of passwords) assert.ok(!text.includes(secret), 'no password in the log');
  assert.ok(!text.includes('hello log'), 'chat texts are not logged');
});
