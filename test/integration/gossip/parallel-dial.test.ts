/**
 * Issue 13, item 8: candidates that accept a connection but never answer `hello` (each costs a dial
 * timeout) must not hide the live ones behind them: a peer dials up to 8 candidates at once. Before,
 * it dialled them one by one, 3 s each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server } from 'node:net';
import { FrameDecoder, Peer, encodeFrame, formatMessage, parseMessage, type Seed } from '../../../src/gossip/index.js';
import { seedWithPeers } from './helpers.js';

/** A listener that answers liveness requests (so a seed lists it) but never answers hello. */
async function silentPeer(t: { after(fn: () => void): void }): Promise<Server> {
  const srv = createServer((s) => {
    const decoder = new FrameDecoder();
    s.on('error', () => undefined);
    s.on('data', (chunk: Buffer) => {
      for (const text of decoder.push(chunk)) {
        const m = parseMessage(text);
        const port = (srv.address() as { port: number }).port;
        if (m.type === 'liveness-request') s.write(encodeFrame(formatMessage({ type: 'liveness-reply', timestamp: m.timestamp, peer: m.peer, replier: { host: '127.0.0.1', port } })));
      }
    });
  });
  t.after(() => srv.close());
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return srv;
}

/** `count` silent listeners registered with `seed` (each proved by its liveness answer). */
async function registerSilent(t: { after(fn: () => void): void }, seed: Seed, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const srv = await silentPeer(t);
    const sock = connect(seed.address().port, '127.0.0.1');
    const registered = once(sock, 'data');
    sock.write(encodeFrame(formatMessage({ type: 'register', peer: { host: '127.0.0.1', port: (srv.address() as { port: number }).port } })));
    await registered;
    sock.destroy();
  }
  assert.equal(seed.stats().peers, count);
}

test('candidates that never answer do not delay the link to a live one', async (t) => {
  const { seed, peers } = await seedWithPeers(t);
  // Six silent candidates register first (the lowest ids: the power-law policy favours them).
  await registerSilent(t, seed, 6);
  const a = new Peer({ seeds: [seed.address()], autoGossip: false });
  peers.push(a);
  const b = new Peer({ seeds: [seed.address()], autoGossip: false });
  peers.push(b);
  await a.start().catch(() => undefined); // a finds only silent candidates: it stays alone, listening
  const started = Date.now();
  let took = Infinity;
  b.once('neighbour', () => (took = Date.now() - started));
  await b.start();
  t.diagnostic(`b linked to ${b.neighbours().join(',')} in ${took} ms`);
  assert.deepEqual(b.neighbours(), [a.key]);
  assert.ok(took < 2_500, `linked before one dial timeout (3 s) passed: ${took} ms`);
});

test('a peer that wants a single link is not held back by silent candidates one after another', async (t) => {
  const { seed, peers } = await seedWithPeers(t);
  await registerSilent(t, seed, 6);
  const a = new Peer({ seeds: [seed.address()], autoGossip: false });
  peers.push(a);
  // target 1: a dial whose hello goes to a silent candidate holds the only hello slot (hello-slots.ts)
  // until the lease ends, not for a whole dial timeout per silent candidate
  const b = new Peer({ seeds: [seed.address()], autoGossip: false, policy: 'preferential', links: 1, floor: 1 });
  peers.push(b);
  await a.start().catch(() => undefined);
  const started = Date.now();
  let took = Infinity;
  b.once('neighbour', () => (took = Date.now() - started));
  await b.start();
  t.diagnostic(`b (target ${b.policy?.target}) linked to ${b.neighbours().join(',')} in ${took} ms`);
  assert.equal(b.policy?.target, 1);
  assert.deepEqual(b.neighbours(), [a.key]);
  assert.ok(took < 2_500, `linked before one dial timeout (3 s) passed: ${took} ms`);
});
