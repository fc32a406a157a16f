/**
 * The reference session (chat-seed-wire.md, every record of the original server.py talking to
 * client.py) replayed against the real `wirelab chat server` process by a client that speaks the
 * seed's protocol. Every record a client gets is checked byte for byte against the reference, except
 * where the original misbehaved (noted at each step): a private message goes to its recipient only,
 * `café` is counted in bytes, a short quiz answer does not drop the connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeedClient, ServerProcess, referenceSession, workDir, type ReferenceRecord } from './helpers.js';

const session = referenceSession();

/** The reference record the server sent to `to` with this text (it must exist). */
function ref(to: string, text: string): ReferenceRecord {
  const found = session.find((r) => r.to === to && r.from === 'server' && r.text === text);
  assert.ok(found, `the reference has no record to ${to}: ${JSON.stringify(text)}`);
  return found;
}

/** The client's next record is, byte for byte, the reference's record to `to` with this text. */
async function expectRef(client: SeedClient, to: string, text: string): Promise<void> {
  const want = ref(to, text);
  const got = await client.record();
  assert.equal(got.header, want.header, `header of ${JSON.stringify(text)}`);
  assert.equal(got.payload.toString('hex'), want.payload_hex, `payload of ${JSON.stringify(text)}`);
  assert.equal(6 + Buffer.byteLength(got.header) + got.payload.length, want.bytes, 'record size');
}

async function expectRecord(client: SeedClient, header: string, text: string): Promise<void> {
  const got = await client.record();
  assert.deepEqual({ header: got.header, text: got.payload.toString() }, { header, text });
}

/** The client sends what the reference says it sent (kind 'record'), by index-free lookup. */
function replay(client: SeedClient, from: string, text: string): void {
  const r = session.find((x) => x.from === from && x.kind === 'record' && x.text === text);
  assert.ok(r?.header, `the reference has no record from ${from}: ${text}`);
  client.send(r.header, Buffer.from(r.payload_hex, 'hex'));
}

async function register(port: number, name: string, password: string): Promise<SeedClient> {
  const c = await SeedClient.connect(port);
  await expectRef(c, 'alice', 'Are you already registered? (yes/no):');
  c.send('info', 'no');
  c.send('info', name);
  await expectRef(c, 'alice', 'Username registered successfully.');
  c.send('info', password);
  await expectRef(c, 'alice', 'Server: You joined the server.\n');
  return c;
}

/** A marker announced by the operator: each client's next record must be it (so nothing else came before). */
async function sync(server: ServerProcess, clients: SeedClient[], n: number): Promise<void> {
  server.type(`sync ${n}`);
  for (const c of clients) await expectRecord(c, 'info', `Server: sync ${n}\n`);
}

test('the reference session, replayed by a seed-protocol client against the real server', { timeout: 90_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const { server, port } = await ServerProcess.start(work.dir, work.data, ['--quiz-time', '30s']);
  t.after(() => server.stop('SIGKILL'));

  // registration: alice, bob; carol first picks a taken name
  const alice = await register(port, 'alice', 'pw-alice');
  t.after(() => alice.close());
  const bob = await register(port, 'bob', 'pw-bob');
  t.after(() => bob.close());
  await expectRef(alice, 'alice', 'Server: Client bob joined the server.\n');
  const carol = await SeedClient.connect(port);
  t.after(() => carol.close());
  await expectRef(carol, 'carol', 'Are you already registered? (yes/no):');
  replay(carol, 'carol', 'no');
  carol.send('info', 'alice');
  await expectRef(carol, 'carol', 'Username already exists. Please choose another: ');
  carol.send('info', 'carol');
  await expectRef(carol, 'carol', 'Username registered successfully.');
  replay(carol, 'carol', 'pw-carol');
  await expectRef(carol, 'carol', 'Server: You joined the server.\n');
  await expectRef(alice, 'alice', 'Server: Client carol joined the server.\n');
  await expectRef(bob, 'bob', 'Server: Client carol joined the server.\n');

  // group message: to everybody else, not back to the sender
  replay(alice, 'alice', 'hello everyone');
  await expectRef(bob, 'bob', 'Client alice: hello everyone\n');
  await expectRef(carol, 'carol', 'Client alice: hello everyone\n');
  // operator line
  server.type('hello from the operator');
  for (const [c, n] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']] as const) await expectRef(c, n, 'Server: hello from the operator\n');

  // private: the original sent it to every client on bob's IP; ours to bob only
  replay(alice, 'alice', 'bob:hi bob');
  await expectRef(bob, 'bob', 'alice (private): hi bob\n');
  await sync(server, [alice, bob, carol], 1);

  // file to the server: raw bytes, then EOF in its own send
  const sample = readFileSync(join(work.dir, 'client_files', 'sample.txt'));
  replay(alice, 'alice', 'file_to_server:sample.txt');
  await alice.sendFile(sample);
  for (const [c, n] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']] as const) await expectRef(c, n, "Server: File 'sample.txt' uploaded by alice\n");
  assert.deepEqual(readFileSync(join(work.data, 'files', 'alice', 'sample.txt')), sample);

  // file to bob: the announcement (with the original's trailing \n), the raw bytes and EOF, then the confirmation to alice
  replay(alice, 'alice', 'file_to:bob:sample.txt');
  await alice.sendFile(sample);
  await expectRef(bob, 'bob', 'file_to:alice:sample.txt\n');
  const relayed = session.find((r) => r.to === 'bob' && r.kind === 'raw' && r.t < 18)!;
  assert.equal((await bob.raw(sample.length + 3)).toString('hex'), relayed.payload_hex);
  await expectRef(alice, 'alice', "Server: File 'sample.txt' sent to bob\n");

  // operator send_file to bob
  server.type('send_file:bob:sample_dir:sample_file.txt');
  await expectRef(bob, 'bob', 'file from server:sample_file.txt\n');
  const fromServer = session.find((r) => r.to === 'bob' && r.kind === 'raw' && r.t > 19)!;
  assert.equal((await bob.raw(fromServer.bytes)).toString('hex'), fromServer.payload_hex);
  await expectRef(bob, 'bob', "Server: File 'sample_file.txt' sent to bob\n");

  // an invalid header
  replay(alice, 'alice', 'bar');
  await expectRef(alice, 'alice', 'Server: Invalid message format. Please adhere to the message protocol.\n');
  await sync(server, [alice, bob, carol], 2);

  // the quiz: one quiz_question record each, byte for byte
  server.type('Quiz:quiz_dir:quiz_ques.txt:quiz_ans.txt:quiz_score.csv');
  const questions = session.find((r) => r.header === 'quiz_question')!.text;
  for (const [c, n] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']] as const) await expectRef(c, n, questions);
  replay(alice, 'alice', 'a b c');
  await expectRef(alice, 'alice', 'Quiz is over. Thank you for participating!\n');
  replay(bob, 'bob', 'b b c');
  await expectRef(bob, 'bob', 'Quiz is over. Thank you for participating!\n');

  // carol leaves: the others are told; the quiz ends (everybody still online answered): our leaderboard follows
  replay(carol, 'carol', 'disconnect');
  await carol.closed();
  await expectRef(alice, 'alice', 'Server: Client carol left the server.\n');
  await expectRef(bob, 'bob', 'Server: Client carol left the server.\n');
  const board = 'Server: Quiz results:\n1. alice 3/3\n2. bob 2/3\n';
  await expectRecord(alice, 'info', board);
  await expectRecord(bob, 'info', board);
  assert.equal(readFileSync(join(work.data, 'all_quiz_scores', 'quiz_score.csv'), 'utf8'), 'alice,3\nbob,2\n');

  // dave: a wrong password, then the server closes the connection
  const dave = await SeedClient.connect(port);
  t.after(() => dave.close());
  await expectRef(dave, 'dave', 'Are you already registered? (yes/no):');
  replay(dave, 'dave', 'yes');
  dave.send('info', 'alice');
  replay(dave, 'dave', 'wrong-password');
  await expectRef(dave, 'dave', 'Invalid username or password.');
  await dave.closed();
  assert.equal(dave.unread.length, 0);

  // carol logs in again
  const carol2 = await SeedClient.connect(port);
  t.after(() => carol2.close());
  await expectRef(carol2, 'carol#2', 'Are you already registered? (yes/no):');
  carol2.send('info', 'yes');
  carol2.send('info', 'carol');
  carol2.send('info', 'pw-carol');
  await expectRef(carol2, 'carol#2', 'Server: You joined the server.\n');
  await expectRef(alice, 'alice', 'Server: Client carol joined the server.\n');
  await expectRef(bob, 'bob', 'Server: Client carol joined the server.\n');

  // café counted in bytes reaches everybody intact (the original broke here)
  carol2.send('msg', 'café');
  await expectRecord(alice, 'msg', 'Client carol: café\n');
  await expectRecord(bob, 'msg', 'Client carol: café\n');
  // the original client's byte stream (PL counted in characters): an error record, no crash
  const broken = session.find((r) => r.from === 'carol#2' && r.header === 'msg')!;
  carol2.send('msg', Buffer.from(broken.payload_hex, 'hex'));
  await expectRecord(carol2, 'error', 'Server: Message is not valid UTF-8.\n');

  // shutdown: everybody is told, connections close, the server exits 0
  server.type('shutdown');
  for (const [c, n] of [[alice, 'alice'], [bob, 'bob'], [carol2, 'carol#2']] as const) {
    await expectRef(c, n === 'carol#2' ? 'alice' : n, 'Server is shutting down.\n');
    await c.closed();
  }
  const exit = await server.exited;
  assert.equal(exit.code, 0, server.stderr);
});
