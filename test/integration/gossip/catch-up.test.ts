/**
 * Issue 14: every message reaches every peer, whenever it joined. Peers that speak while they are
 * still alone (started one after another, each publishing at once), and a peer that joins 5 s after
 * every message was sent, catch up from their neighbours' cache window on link-up (IHAVE digest,
 * then IWANT). Before the catch-up, messages sent before a peer linked never reached it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Peer } from '../../../src/gossip/index.js';
import { mulberry32, seedWithPeers, untilTrue } from './helpers.js';

test('staggered starts and a peer joining 5 s later: every message reaches every peer', async (t) => {
  const { seed, peers } = await seedWithPeers(t);
  const random = mulberry32(14);
  const seen = new Map<Peer, Set<string>>();
  const add = async (): Promise<Peer> => {
    const p = new Peer({ seeds: [seed.address()], autoGossip: false, livenessIntervalMs: 1000, random });
    const mine = new Set<string>();
    p.on('gossip', (g) => mine.add(g.text));
    seen.set(p, mine);
    peers.push(p);
    await p.start();
    return p;
  };
  // Each peer speaks the moment it has joined: the first while it is alone, later ones while the
  // peers after them do not exist yet.
  const texts: string[] = [];
  for (let i = 0; i < 6; i++) {
    const p = await add();
    texts.push(p.publish(), p.publish());
  }
  await untilTrue(() => peers.every((p) => seen.get(p)!.size === texts.length), 10_000, 'every message at every early peer');

  // A peer that joins 5 s after the last message was sent.
  await new Promise((r) => setTimeout(r, 5_000));
  const late = await add();
  await untilTrue(() => seen.get(late)!.size === texts.length, 10_000, 'every message at the late peer');
  assert.deepEqual(new Set(seen.get(late)), new Set(texts));
  assert.ok(late.stats().duplicates <= texts.length, 'catch-up pulls each message about once');
  const announced = peers.reduce((sum, p) => sum + p.stats().catchUpAnnounced, 0);
  t.diagnostic(`catch-up IHAVEs sent: ${announced}; late peer's duplicates: ${late.stats().duplicates}`);
});
