import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Peer, parseEndpoint, type Endpoint } from '../../../src/gossip/index.js';
import { WirelabProcess } from '../../helpers/process.js';
import { untilTrue } from './helpers.js';

test('a seed killed: peers keep gossiping and new peers still join through the other seeds', async (t) => {
  const seedProcs = [0, 1, 2].map(() => WirelabProcess.start(['gossip', 'seed', '--port', '0', '--json']));
  const peers: Peer[] = [];
  t.after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await Promise.all(seedProcs.map((p) => p.stop('SIGKILL')));
  });
  const listening = await Promise.all(seedProcs.map((p) => p.waitFor((e) => e.event === 'listening', 30_000, 'seed listening')));
  const seeds: Endpoint[] = listening.map((e) => parseEndpoint(e.seed as string));
  const options = { seeds, livenessIntervalMs: 300, gossipIntervalMs: 50, messages: 5, autoGossip: false };
  const seen = new Map<string, Set<string>>();
  const addPeer = async (): Promise<Peer> => {
    const peer = new Peer(options);
    peers.push(peer);
    // Gossip may come during start(): a late peer catches up on link-up.
    const mine = new Set<string>();
    peer.on('gossip', (g) => mine.add(g.text));
    await peer.start();
    seen.set(peer.key, mine);
    return peer;
  };
  for (let i = 0; i < 6; i++) await addPeer();

  await seedProcs[0]!.stop('SIGKILL');
  // Old peers keep working: gossip still reaches everyone.
  for (const p of peers) p.startGossip();
  await untilTrue(() => peers.every((p) => seen.get(p.key)!.size === 6 * 5), 20_000, 'gossip among the old peers');

  // New peers join through the two live seeds, link up, and their messages reach everyone.
  const late = [await addPeer(), await addPeer()];
  for (const p of late) {
    assert.equal(p.seeds().length, 2, 'registered with a majority, all of it among the live seeds');
    assert.ok(!p.seeds().some((s) => s.port === seeds[0]!.port), 'not with the dead seed');
    assert.ok(p.neighbours().length >= 1, 'linked into the overlay');
    p.startGossip();
  }
  // Every peer sees the late peers' messages (the old ones were sent before the late peers came).
  const lateOrigins = late.map((p) => p.key);
  const lateSeen = (p: Peer): number => [...seen.get(p.key)!].filter((text) => lateOrigins.some((o) => text.includes(`:${o}:`))).length;
  await untilTrue(() => peers.every((p) => lateSeen(p) === 2 * 5), 20_000, 'the late peers\' gossip everywhere');
  const registered = [seedProcs[1]!, seedProcs[2]!].flatMap((p) => p.events.filter((e) => e.event === 'registered').map((e) => e.peer));
  for (const p of late) assert.ok(registered.includes(p.key), `${p.key} registered at a live seed`);
});
