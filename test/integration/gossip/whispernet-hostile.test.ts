/**
 * WhisperNet mode against hostile and clumsy senders over real sockets: junk, endless padding, records
 * a byte at a time or merged in one write, someone else's address, silence. Nothing may crash; the
 * offender's connection closes; everyone else is served.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { WhispernetPeer, WhispernetSeed, encodeRecord, type WhisperEndpoint } from '../../../src/gossip/whispernet/index.js';
import { mulberry32, randomBytes } from '../../helpers/random.js';
import { untilTrue } from './helpers.js';

async function open(t: TestContext, to: WhisperEndpoint): Promise<{ socket: Socket; received: () => string; closed: Promise<unknown> }> {
  const socket = connect({ host: '127.0.0.1', port: to.port });
  t.after(() => socket.destroy());
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  return { socket, received: () => text, closed };
}

/** Resolves once the socket has received `expected` (all of it), or rejects after `ms`. */
async function receives(conn: { socket: Socket; received: () => string }, expected: string, ms = 5_000): Promise<void> {
  const deadline = AbortSignal.timeout(ms);
  while (!conn.received().includes(expected)) {
    await once(conn.socket, 'data', { signal: deadline }).catch(() => {
      throw new Error(`no '${expected}' in ${ms} ms; got '${conn.received().slice(0, 200)}'`);
    });
  }
}

test('a wirelab seed in WhisperNet mode: bad senders lose their connection, good ones are served', async (t) => {
  const seed = new WhispernetSeed({ handshakeIdleMs: 400, quietMs: 50 });
  t.after(() => seed.close());
  await seed.start();
  const at = seed.address();

  const junk = await open(t, at);
  junk.socket.write(randomBytes(mulberry32(7), 4096));
  await junk.closed;

  const spaces = await open(t, at);
  spaces.socket.write(Buffer.alloc(70 * 1024, ' '));
  await spaces.closed;

  const spoof = await open(t, at);
  spoof.socket.write('register:10.1.2.3:5000');
  await spoof.closed;
  assert.equal(seed.has('10.1.2.3:5000'), false, 'an address not the connection\'s is not registered');

  const silent = await open(t, at);
  await silent.closed; // closed by the registration deadline

  // One byte at a time, then two records merged in one write: both answered, in order.
  const slow = await open(t, at);
  for (const byte of Buffer.from('register:localhost:5001')) {
    slow.socket.write(Buffer.of(byte));
    await new Promise((r) => setImmediate(r));
  }
  await receives(slow, 'registered successfully');
  const merged = await open(t, at);
  merged.socket.write('register:localhost:5002peer list');
  await receives(merged, 'registered successfully');
  await receives(merged, 'peer list::localhost#5001:localhost#5002');
  assert.equal(merged.received(), 'registered successfully' + 'peer list::localhost#5001:localhost#5002');

  // A second address on one connection is refused.
  merged.socket.write('register:localhost:5003');
  await merged.closed;
  assert.equal(seed.has('localhost:5003'), false);
  await new Promise((r) => setTimeout(r, 500)); // longer than the registration deadline: registered connections stay
  assert.equal(slow.socket.destroyed, false, 'a registered connection stays open for its Dead Node reports');
  const stats = seed.stats();
  assert.equal(stats.peers, 2);
  assert.ok(stats.malformed >= 4, `malformed ${stats.malformed}`);
});

test('a wirelab peer in WhisperNet mode: junk closes that connection only; a probe first record is answered', async (t) => {
  const seed = new WhispernetSeed();
  t.after(() => seed.close());
  await seed.start();
  const peer = new WhispernetPeer({ seeds: [seed.address()], autoGossip: false, requestTimeoutMs: 1_000 });
  t.after(() => peer.close());
  await peer.start();

  const junk = await open(t, peer.endpoint);
  junk.socket.write(Buffer.concat([Buffer.from('Connection with Peer:localhost:'), randomBytes(mulberry32(9), 2000)]));
  await junk.closed;
  assert.equal(peer.stats().degree, 0);

  const probe = await open(t, peer.endpoint);
  probe.socket.write(encodeRecord({ type: 'liveness-request', ts: '1764630627.5', peer: { host: 'localhost', port: 9 } }));
  await receives(probe, `Liveness Reply:1764630627.5:localhost:9:127.0.0.1:${peer.endpoint.port}`);
  assert.ok(probe.received().startsWith(`Connection with Peer:127.0.0.1:${peer.endpoint.port}`), 'a peer speaks first');
  assert.equal(probe.received().length, 2048, 'two records of 1024 bytes');

  const silent = await open(t, peer.endpoint);
  await silent.closed; // no Connection with Peer within the request timeout
  // after all that, a real link still forms
  const other = new WhispernetPeer({ seeds: [seed.address()], autoGossip: false });
  t.after(() => other.close());
  await other.start();
  assert.deepEqual(other.neighbours(), [peer.key]);
});

test('a second connection from a linked peer is kept as a spare (not closed) and takes over when the link closes', async (t) => {
  const seed = new WhispernetSeed();
  t.after(() => seed.close());
  await seed.start();
  const peer = new WhispernetPeer({ seeds: [seed.address()], autoGossip: false });
  t.after(() => peer.close());
  await peer.start();
  const changes: string[] = [];
  peer.on('neighbour', (n) => changes.push(`${n.change} ${n.peer} ${n.degree}`));

  // An original-style peer at 127.0.0.1:4999 connects twice (both sides dialled, as peers that join
  // together do): an original takes a closed connection for a dead peer, so neither may be closed.
  const hello = Buffer.from('Connection with Peer:localhost:4999'.padEnd(1024, ' '));
  const ping = encodeRecord({ type: 'liveness-request', ts: '1.5', peer: { host: 'localhost', port: 4999 } });
  const reply = `Liveness Reply:1.5:localhost:4999:127.0.0.1:${peer.endpoint.port}`;
  const first = await open(t, peer.endpoint);
  first.socket.write(Buffer.concat([hello, ping]));
  await receives(first, reply);
  const second = await open(t, peer.endpoint);
  second.socket.write(Buffer.concat([hello, ping]));
  await receives(second, reply); // answered: kept open, as the link or as its spare
  assert.deepEqual(changes, ['added 127.0.0.1:4999 1']);
  assert.deepEqual(peer.neighbours(), ['127.0.0.1:4999']);

  assert.equal(peer.stats().spares, 1);
  first.socket.destroy();
  // whichever it was, the link or the spare, the peer is left with one connection and no spare
  await untilTrue(() => peer.stats().spares === 0, 5_000, 'the spare gone');
  assert.deepEqual(changes, ['added 127.0.0.1:4999 1'], 'still linked through the other connection');
  second.socket.destroy();
  await untilTrue(() => changes.length === 2, 5_000, 'the link lost');
  assert.deepEqual(changes, ['added 127.0.0.1:4999 1', 'removed 127.0.0.1:4999 0']);
});
