/**
 * Issue 13, item 10, replayed against the real CLI in namespaces: one host opens hundreds of
 * connections to a seed and to a peer, each holding an unfinished 200 KiB frame and dripping a byte a
 * second. The per-source caps keep all but a few out, the frame deadline (10 s) closes the rest, the
 * memory stays bounded, and an honest peer joins and links in the meantime. Before the fix every
 * connection was accepted and held for as long as the drip went on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PEER_PORT, alive, labSkip, rssMiB, scene } from './gossip-lab.js';

/** Resident memory bound for the seed and the attacked peer under the attack (MiB). */
const RSS_BOUND_MIB = 200;

test('slow, unfinished frames from one host: capped per source, closed at the frame deadline; honest peers unaffected', { skip: labSkip, timeout: 120_000 }, async (t) => {
  const s = await scene(t, ['a', 'b']);
  const a = s.peer('a', ['--gossip-interval', '300ms', '--messages', '2', '--liveness-interval', '1000ms']);
  await a.waitFor((e) => e.event === 'joined', 30_000, 'a joined');
  const aKey = `${s.lab.host('a').address}:${PEER_PORT}`;
  const attack = { count: 600, holdMs: 13_000, maxMs: 40_000 };
  const onSeed = s.attack('slowloris', { target: s.seedKey, ...attack });
  const onPeer = s.attack('slowloris', { target: aKey, ...attack });
  await Promise.all([onSeed.seen('opened'), onPeer.seen('opened')]);

  // Under attack, an honest peer joins through the seed and links to a; messages flow both ways.
  const b = s.peer('b', ['--gossip-interval', '300ms', '--messages', '2', '--liveness-interval', '1000ms']);
  await b.waitFor((e) => e.event === 'joined', 30_000, 'b joined under attack');
  await b.waitFor((e) => e.event === 'neighbour' && e.change === 'added', 30_000, 'b linked');
  await b.waitForCount((e) => e.event === 'gossip', 4, 30_000);
  await a.waitForCount((e) => e.event === 'gossip', 4, 30_000);
  const rss = { seed: await rssMiB(s.seed), peer: await rssMiB(a) };
  t.diagnostic(`RSS under attack: seed ${rss.seed.toFixed(0)} MiB, peer ${rss.peer.toFixed(0)} MiB (bound ${RSS_BOUND_MIB})`);

  const [seedResult, peerResult] = await Promise.all([onSeed.result('slowloris'), onPeer.result('slowloris')]);
  t.diagnostic(`seed: ${JSON.stringify(seedResult)}; peer: ${JSON.stringify(peerResult)}`);
  assert.equal(seedResult.stillOpen, 0, 'the seed closed every unfinished frame at its deadline');
  assert.equal(peerResult.stillOpen, 0, 'the peer closed every unfinished frame at its deadline');
  assert.ok(rss.seed < RSS_BOUND_MIB && rss.peer < RSS_BOUND_MIB);
  assert.ok(alive(s.seed) && alive(a) && alive(b), 'nothing crashed');
});
