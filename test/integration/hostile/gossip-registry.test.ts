/**
 * Issue 13, item 8, replayed against the real CLI in namespaces: a flood of fake registrations
 * (addresses that do not answer, and addresses of other hosts) must not enter the seed's registry,
 * a stranger's `peer list` request gets no more bytes than it sent, and honest peers started after
 * the flood still join, link and deliver every message. Before the fix every fake was listed and a
 * 13-byte request returned the whole registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PEER_PORT, alive, labSkip, rssMiB, scene } from './gossip-lab.js';

/** Resident memory the seed may use after the flood (MiB): Node's own baseline is ~60-90. */
const SEED_RSS_BOUND_MIB = 160;

test('fake registrations are never listed; a stranger is not amplified; honest peers still join and deliver', { skip: labSkip, timeout: 120_000 }, async (t) => {
  const s = await scene(t, ['a', 'b', 'c']);
  const flood = s.attack('registerFlood', { seed: s.seedKey, count: 3000, maxMs: 25_000 });
  const flooded = await flood.result('register-flood', 40_000);
  t.diagnostic(`register flood: ${JSON.stringify(flooded)}`);
  assert.equal(flooded.registered, 0, 'no fake address was registered');

  const list = await s.attack('peerList', { seed: s.seedKey }).result('peer-list');
  t.diagnostic(`stranger's peer list: ${JSON.stringify(list)}`);
  assert.ok(Number(list.received) <= Number(list.sent), 'a stranger gets no more bytes than it sent');

  // Honest peers, started one after another after the flood.
  const hosts = ['a', 'b', 'c'];
  const peers = hosts.map((h) => s.peer(h, ['--gossip-interval', '300ms', '--messages', '2', '--liveness-interval', '1000ms']));
  for (const p of peers) await p.waitFor((e) => e.event === 'joined', 30_000, 'joined');
  const keys = hosts.map((h) => `${s.lab.host(h).address}:${PEER_PORT}`);
  // Every peer logs all 6 messages (2 from each), its own included, whatever the join order.
  for (const p of peers) await p.waitForCount((e) => e.event === 'gossip', keys.length * 2, 30_000);
  const registered = s.seed.events.filter((e) => e.event === 'registered').map((e) => e.peer as string);
  assert.deepEqual(new Set(registered), new Set(keys), 'the seed lists exactly the honest peers');
  assert.ok(alive(s.seed), 'the seed is alive');
  const rss = await rssMiB(s.seed);
  t.diagnostic(`seed RSS after the flood: ${rss.toFixed(0)} MiB (bound ${SEED_RSS_BOUND_MIB})`);
  assert.ok(rss < SEED_RSS_BOUND_MIB);
});
