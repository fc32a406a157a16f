/**
 * The real server process with our clients and a seed client: messages reach exactly the right
 * people, files go both ways in both modes, path tricks are refused, a quiz with three clients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestUser } from './clients.js';
import { SeedClient, ServerProcess, workDir } from './helpers.js';

async function seedLogin(port: number, name: string): Promise<SeedClient> {
  const c = await SeedClient.connect(port);
  await c.record(); // the prompt
  c.send('info', 'no');
  c.send('info', name);
  await c.record(); // registered
  c.send('info', `pw-${name}`);
  assert.equal((await c.record()).payload.toString(), 'Server: You joined the server.\n');
  return c;
}

/** Read seed records until one with this text (others are returned for checks). */
async function seedUntil(c: SeedClient, text: string): Promise<string[]> {
  const before: string[] = [];
  for (let i = 0; i < 50; i++) {
    const r = await c.record();
    if (r.payload.toString() === text) return before;
    before.push(`${r.header}:${r.payload.toString()}`);
  }
  throw new Error(`no ${text}`);
}

test('messages reach exactly the right people; files in both modes; path tricks refused', { timeout: 90_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const { server, port } = await ServerProcess.start(work.dir, work.data);
  t.after(() => server.stop('SIGKILL'));
  const downloads = join(work.dir, 'downloads');
  const alice = await TestUser.join(port, 'alice', { downloads });
  t.after(() => alice.close());
  const bob = await TestUser.join(port, 'bob', { downloads });
  t.after(() => bob.close());
  const carol = await TestUser.join(port, 'carol', { downloads });
  t.after(() => carol.close());
  const dave = await seedLogin(port, 'dave');
  t.after(() => dave.close());
  assert.ok(alice.client.extended && bob.client.extended);

  alice.client.write('msg', 'to everyone');
  alice.client.write('to', 'bob:just for bob');
  alice.client.write('to', 'dave:just for dave');
  alice.client.write('to', 'nobody:hello?');
  await alice.waitText((e) => e.header === 'error' && e.text === "Server: No user named 'nobody' is online.\n");
  server.type('marker 1');
  for (const u of [alice, bob, carol]) await u.waitText((e) => e.text === 'Server: marker 1\n');
  const shown = (u: TestUser): string[] => u.texts.filter((e) => !e.text.includes('joined the server')).map((e) => e.text);
  assert.deepEqual(shown(alice), ["Server: No user named 'nobody' is online.\n", 'Server: marker 1\n']);
  assert.deepEqual(shown(bob), ['Client alice: to everyone\n', 'alice (private): just for bob\n', 'Server: marker 1\n']);
  assert.deepEqual(shown(carol), ['Client alice: to everyone\n', 'Server: marker 1\n']);
  assert.deepEqual(await seedUntil(dave, 'Server: marker 1\n'), ['msg:Client alice: to everyone\n', 'info:alice (private): just for dave\n']);

  // the operator's users and kick
  server.type('users');
  await server.waitFor((e) => e.event === 'console' && e.text === '4 online: alice, bob, carol, dave');
  server.type('kick carol');
  await carol.waitText((e) => e.text === 'Server: You were disconnected by the operator.\n');
  await alice.waitText((e) => e.text === 'Server: Client carol left the server.\n');
  assert.deepEqual((await seedUntil(dave, 'Server: Client carol left the server.\n')), []);
  await server.waitFor((e) => e.event === 'kicked' && e.name === 'carol');

  // our mode: to the server (stored under files/alice), to bob (verified), to the seed client dave (raw + EOF)
  const payload = Buffer.alloc(300_000, 0);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff;
  const file = join(work.dir, 'data.bin');
  writeFileSync(file, payload);
  assert.deepEqual(await alice.client.sendFile(file, null), { offset: 0, size: payload.length });
  assert.deepEqual(readFileSync(join(work.data, 'files', 'alice', 'data.bin')), payload);
  await alice.client.sendFile(file, 'bob');
  const saved = await bob.waitSaved();
  assert.equal(saved.verified, true);
  assert.deepEqual(readFileSync(saved.path), payload);
  await alice.client.sendFile(file, 'dave');
  assert.ok((await seedUntil(dave, 'file_to:alice:data.bin\n')).every((r) => r.startsWith('info:Server: File')));
  assert.deepEqual(await dave.raw(payload.length + 3), Buffer.concat([payload, Buffer.from('EOF')]));

  // operator to all: each in its own mode
  server.type('send_file:all:sample_dir:sample_file.txt');
  const sample = readFileSync(join(work.dir, 'sample_dir', 'sample_file.txt'));
  for (const u of [alice, bob]) {
    await u.waitText((e) => e.text === `Server: File 'sample_file.txt' sent to ${u.client.name}\n`);
    assert.deepEqual(readFileSync(join(downloads, u.client.name!, 'sample_file.txt')), sample);
  }
  await seedUntil(dave, 'file from server:sample_file.txt\n');
  assert.deepEqual(await dave.raw(sample.length + 3), Buffer.concat([sample, Buffer.from('EOF')]));

  // path tricks: a seed upload and one of ours, and the operator's
  dave.send('file_transfer', 'file_to_server:../../escape.txt');
  await dave.sendFile(Buffer.from('nope'));
  assert.ok((await seedUntil(dave, 'Server: File refused: the file name is not allowed.\n')).length >= 0);
  writeFileSync(join(work.dir, '..evil'), 'x');
  await assert.rejects(alice.client.sendFile(join(work.dir, '..evil'), null), /not allowed/);
  server.type('send_file:bob:sample_dir:../../etc/passwd');
  await server.waitFor((e) => e.event === 'console-error' && String(e.text).includes('not a plain file name'));
  assert.ok(!existsSync(join(work.dir, 'escape.txt')) && !existsSync(join(work.data, 'escape.txt')));
  assert.deepEqual(readdirSync(join(work.data, 'files')).sort(), ['alice']);
  assert.deepEqual(readdirSync(join(work.data, 'files', 'alice')).sort(), ['data.bin']);
  // a seed client's message right after its EOF is not lost in the file
  dave.send('file_transfer', 'file_to_server:second.txt');
  await dave.sendRaw(Buffer.concat([Buffer.from('abc'), Buffer.from('EOF'), Buffer.from([0, 3]), Buffer.from('msg'), Buffer.from([0, 0, 0, 2]), Buffer.from('hi')]));
  await bob.waitText((e) => e.text === 'Client dave: hi\n');
  assert.equal(readFileSync(join(work.data, 'files', 'dave', 'second.txt'), 'utf8'), 'abc');
});

test('a quiz with three clients: short and malformed answers scored as they stand, CSV and leaderboard', { timeout: 60_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const { server, port } = await ServerProcess.start(work.dir, work.data, ['--quiz-time', '20s']);
  t.after(() => server.stop('SIGKILL'));
  const downloads = join(work.dir, 'downloads');
  const users = await Promise.all(['alice', 'bob', 'carol'].map((n) => TestUser.join(port, n, { downloads })));
  t.after(() => users.forEach((u) => u.close()));
  const [alice, bob, carol] = users as [TestUser, TestUser, TestUser];
  server.type('Quiz:quiz_dir:quiz_ques.txt:quiz_ans.txt:scores.csv');
  for (const u of users) await u.waitText((e) => e.header === 'quiz_question' && e.text.startsWith('Question 1: What is the capital of France?'));
  alice.client.write('quiz_answer', 'a b c');
  await alice.waitText((e) => e.text === 'Quiz is over. Thank you for participating!\n');
  alice.client.write('quiz_answer', 'a b c');
  await alice.waitText((e) => e.text === 'Server: You already answered this quiz.\n');
  bob.client.write('quiz_answer', 'a');
  await bob.waitText((e) => e.text === 'Quiz is over. Thank you for participating!\n');
  carol.client.write('quiz_answer', 'x y z w v');
  const board = 'Server: Quiz results:\n1. alice 3/3\n2. bob 1/3\n3. carol 0/3\n';
  for (const u of users) await u.waitText((e) => e.text === board);
  assert.equal(readFileSync(join(work.data, 'all_quiz_scores', 'scores.csv'), 'utf8'), 'alice,3\nbob,1\ncarol,0\n');
  const ended = await server.waitFor((e) => e.event === 'quiz-ended');
  assert.deepEqual(ended.scores, [{ user: 'alice', score: 3 }, { user: 'bob', score: 1 }, { user: 'carol', score: 0 }]);
  carol.client.write('quiz_answer', 'a b c');
  await carol.waitText((e) => e.text === 'Server: No quiz is running.\n');
});
