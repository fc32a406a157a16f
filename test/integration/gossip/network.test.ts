import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Peer, Seed, countComponents as connectedComponents, endpointKey, powerLawCapacity, type GossipSeen } from '../../../src/gossip/index.js';
import { mulberry32, seedWithPeers, untilTrue } from './helpers.js';

const SEEDS = 3;
const PEERS = 40;
const MESSAGES = 10;

test('3 seeds and 40 peers on loopback: every message reaches every peer exactly once', async (t) => {
  const seeds = Array.from({ length: SEEDS }, () => new Seed({ port: 0 }));
  const peers: Peer[] = [];
  t.after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await Promise.all(seeds.map((s) => s.close()));
  });
  await Promise.all(seeds.map((s) => s.start()));
  const seedList = seeds.map((s) => s.address());
  const seen = new Map<string, GossipSeen[]>();
  const random = mulberry32(4);
  // Peers join one after another, as the seed's PeerRunner started them, so ids follow join order.
  for (let i = 0; i < PEERS; i++) {
    const peer = new Peer({
      seeds: seedList,
      gossipIntervalMs: 50,
      messages: MESSAGES,
      livenessIntervalMs: 500,
      autoGossip: false,
      random,
    });
    peers.push(peer);
    await peer.start();
    seen.set(peer.key, []);
    peer.on('gossip', (g) => seen.get(peer.key)!.push(g));
  }
  // Every peer is registered with a majority of seeds.
  for (const p of peers) assert.equal(p.seeds().length, 2, `${p.key} registered with floor(3/2)+1 seeds`);

  const graph = new Map(peers.map((p) => [p.key, p.neighbours()]));
  assert.equal(connectedComponents(graph), 1, 'the overlay is connected');
  for (const p of peers) {
    const degree = p.neighbours().length;
    assert.ok(degree >= 1, `${p.key} has a neighbour`);
    assert.ok(degree <= powerLawCapacity(p.id), `${p.key} degree ${degree} within capacity ${powerLawCapacity(p.id)}`);
    for (const n of p.neighbours()) assert.ok(graph.get(n)!.includes(p.key), 'links are symmetric');
  }
  const byId = [...peers].sort((a, b) => a.id - b.id);
  const mean = (ps: Peer[]): number => ps.reduce((s, p) => s + p.neighbours().length, 0) / ps.length;
  assert.ok(mean(byId.slice(0, 10)) > mean(byId.slice(-10)), 'early (high-capacity) peers are the hubs');

  for (const p of peers) p.startGossip();
  const total = PEERS * MESSAGES;
  await untilTrue(() => [...seen.values()].every((list) => list.length >= total), 30_000, 'all messages everywhere');

  for (const p of peers) {
    const list = seen.get(p.key)!;
    assert.equal(list.length, total, `${p.key} logged each message once`);
    assert.equal(new Set(list.map((g) => g.text)).size, total, `${p.key} saw ${total} distinct messages`);
    const origins = new Set(list.map((g) => g.origin));
    assert.equal(origins.size, PEERS);
  }
  const sum = (f: (p: Peer) => number): number => peers.reduce((s, p) => s + f(p), 0);
  // Let late bodies land (received counters stop moving), then: every body received was either a
  // first sight (logged once above) or a counted, dropped duplicate.
  let last = -1;
  await untilTrue(() => {
    const now = sum((p) => p.stats().gossipReceived);
    const quiet = now === last;
    last = now;
    return quiet;
  }, 10_000, 'bodies in flight', 500);
  const duplicates = sum((p) => p.stats().duplicates);
  assert.equal(sum((p) => p.stats().gossipReceived), total * (PEERS - 1) + duplicates);
  const perPeerPerMessage = duplicates / PEERS / total;
  t.diagnostic(`duplicates per peer per message: ${perPeerPerMessage.toFixed(3)}`);
  assert.ok(perPeerPerMessage <= 1, 'the tree keeps duplicates under one per peer per message');
  t.diagnostic(`degrees by id: ${byId.map((p) => p.neighbours().length).join(' ')}`);
  assert.ok(seeds.every((s) => s.stats().peers > 0));
  assert.deepEqual(
    new Set(seeds.flatMap((s) => s.peers().map(endpointKey))),
    new Set(peers.map((p) => p.key)),
    'the seeds together know every peer',
  );
});

test('preferential attachment: a connected overlay where early peers gather the most links', async (t) => {
  const { seed, peers } = await seedWithPeers(t);
  const random = mulberry32(7);
  for (let i = 0; i < 30; i++) {
    const peer = new Peer({ seeds: [seed.address()], policy: 'preferential', autoGossip: false, livenessIntervalMs: 500, random });
    peers.push(peer);
    await peer.start();
  }
  const graph = new Map(peers.map((p) => [p.key, p.neighbours()]));
  assert.equal(connectedComponents(graph), 1);
  const degrees = peers.map((p) => p.neighbours().length);
  for (const [i, d] of degrees.entries()) assert.ok(d >= Math.min(2, i), `peer ${i} made its links (degree ${d})`);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(degrees.slice(0, 5)) > mean(degrees.slice(-5)), 'early peers are the hubs');
  t.diagnostic(`degrees in join order: ${degrees.join(' ')}`);
});
