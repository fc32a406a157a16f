/**
 * Issue 13, item 13: with a network key every frame is sealed (AES-256-GCM); keyed peers join, link
 * and gossip, a peer rotating to a new key still talks to one that has it as a secondary, and a
 * stranger (no key, or another key) cannot register, link, gossip or report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Peer, Seed, encodeFrame, formatMessage, type Keyring } from '../../../src/gossip/index.js';
import { untilTrue } from './helpers.js';

const ring = (...keys: Buffer[]): Keyring => ({ primary: keys[0]!, keys });

test('keyed network: members gossip (across a key rotation); strangers get nowhere', async (t) => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const seed = new Seed({ port: 0, keyring: ring(oldKey, newKey), confirmTimeoutMs: 500 });
  const peers: Peer[] = [];
  t.after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await seed.close();
  });
  await seed.start();
  const seen = new Map<Peer, Set<string>>();
  const add = async (keyring: Keyring | undefined): Promise<Peer> => {
    const p = new Peer({ seeds: [seed.address()], keyring, autoGossip: false, livenessIntervalMs: 300, requestTimeoutMs: 1000 });
    const mine = new Set<string>();
    p.on('gossip', (g) => mine.add(g.text));
    seen.set(p, mine);
    peers.push(p);
    await p.start();
    return p;
  };
  // Mid-rotation: one peer already sends with the new key, the others still with the old one.
  const members = [await add(ring(oldKey, newKey)), await add(ring(newKey, oldKey)), await add(ring(oldKey, newKey))];
  const texts = members.map((p) => p.publish());
  await untilTrue(() => members.every((p) => seen.get(p)!.size === texts.length), 10_000, 'gossip among members');

  // A peer without the key, and one with another key, cannot register.
  await assert.rejects(add(undefined), /no seed answered/);
  await assert.rejects(add(ring(randomBytes(32))), /no seed answered/);
  assert.equal(seed.stats().peers, 3);

  // A stranger's plain hello, gossip and Dead Node report are refused before they are read as messages.
  const target = members[0]!;
  const before = { gossip: seen.get(target)!.size, malformed: target.stats().malformed };
  const sock = connect({ port: target.endpoint.port, host: '127.0.0.1' });
  t.after(() => sock.destroy());
  sock.on('error', () => undefined);
  sock.resume(); // read (and drop) its preamble, so that 'close' can come
  await once(sock, 'connect');
  sock.write(encodeFrame(formatMessage({ type: 'hello', peer: { host: '127.0.0.1', port: 1 }, id: 0 })));
  sock.write(encodeFrame(formatMessage({ type: 'gossip', text: `${Date.now()}:127.0.0.1:1:1`, timestamp: Date.now(), origin: { host: '127.0.0.1', port: 1 }, seq: 1 })));
  await once(sock, 'close', { signal: AbortSignal.timeout(5_000) });
  assert.equal(seen.get(target)!.size, before.gossip);
  assert.equal(target.neighbours().length, members.length - 1);
  const report = connect({ port: seed.address().port, host: '127.0.0.1' });
  report.on('error', () => undefined);
  report.resume();
  t.after(() => report.destroy());
  await once(report, 'connect');
  report.write(encodeFrame(formatMessage({ type: 'dead-node', peer: target.endpoint, timestamp: Date.now(), reporter: '127.0.0.1' })));
  await once(report, 'close', { signal: AbortSignal.timeout(5_000) });
  assert.equal(seed.stats().reports, 0, 'the report was never read');
  assert.ok(seed.has(target.key));
});
