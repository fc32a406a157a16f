/**
 * The overlay stays one component at scale. 300 peers join 3 seeds in batches of 20 (as the bench
 * and `gossip swarm` start them): every peer must end in one connected overlay, each within its
 * capacity, and the links must not fill the network. Before the fix, parallel dials while alone kept
 * every welcome up to the capacity (not the target): late joiners took the slots the power-law
 * policy keeps for later peers, the network filled (degree sum 1942 of capacity 1954) and split
 * into 5-7 components at 300 peers, 12 at 1,000.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Peer, Seed, countComponents } from '../../../src/gossip/index.js';
import { mulberry32 } from './helpers.js';

const PEERS = 300;
const BATCH = 20;
/** ms without a new link before the overlay counts as settled */
const QUIET_MS = 1500;
/** ms the whole build may take at most */
const BUILD_LIMIT_MS = 90_000;

test(`${PEERS} peers joining in batches of ${BATCH} form one overlay within their capacities`, async (t) => {
  const seeds = [0, 1, 2].map(() => new Seed({ port: 0 }));
  const peers: Peer[] = [];
  t.after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await Promise.all(seeds.map((s) => s.close()));
  });
  await Promise.all(seeds.map((s) => s.start()));
  const endpoints = seeds.map((s) => s.address());
  const random = mulberry32(2026);
  let lastLink = Date.now();
  let settle: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  // settled: no link made for QUIET_MS (each new link restarts the wait)
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(settle, QUIET_MS);
  };
  const started = Date.now();
  for (let i = 0; i < PEERS; i += BATCH) {
    const batch = Array.from({ length: BATCH }, () => {
      const p = new Peer({ seeds: endpoints, livenessIntervalMs: 1000, autoGossip: false, random, retryJoin: true });
      p.on('neighbour', () => {
        lastLink = Date.now();
        arm();
      });
      return p;
    });
    peers.push(...batch);
    await Promise.all(batch.map((p) => p.start()));
  }
  arm();
  const limit = setTimeout(settle, BUILD_LIMIT_MS - (Date.now() - started));
  await settled;
  clearTimeout(limit);
  clearTimeout(timer);
  assert.ok(Date.now() - lastLink >= QUIET_MS, `the overlay settled within ${BUILD_LIMIT_MS} ms`);

  const graph = new Map(peers.map((p) => [p.key, p.neighbours()]));
  assert.equal(countComponents(graph), 1, 'one connected overlay');
  let degrees = 0;
  let capacities = 0;
  for (const p of peers) {
    const degree = p.neighbours().length;
    const capacity = p.policy!.capacity;
    assert.ok(degree >= 1 && degree <= capacity, `${p.key}: degree ${degree} within 1..${capacity}`);
    degrees += degree;
    capacities += capacity;
  }
  // peers dial out to their target (half their capacity): the links use well under all the slots
  assert.ok(degrees < 0.85 * capacities, `links use ${degrees} of ${capacities} slots: room is left for later peers`);
});
