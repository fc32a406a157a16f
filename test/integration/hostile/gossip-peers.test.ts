/**
 * Issue 13, items 11 and 12, replayed against the real CLI in namespaces.
 * - hello claims: a stranger says hello as another host, as 0.0.0.0, broadcast, multicast, or as the
 *   peer itself; every claim is refused (before the fix the first was welcomed as a neighbour).
 * - forged gossip: a stranger links honestly (a real listener proves its address), then sends 40,000
 *   forged messages: stale, from the future, invented origins, one origin flooding. Stale and future
 *   ones never spread, the rest is held to the per-neighbour and per-origin rates, and the honest
 *   peers keep delivering to each other without declaring anyone dead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PEER_PORT, alive, labSkip, rssMiB, scene } from './gossip-lab.js';

const RSS_BOUND_MIB = 250;

test('hello claims are proved: impersonation and addresses nobody may claim are refused', { skip: labSkip, timeout: 90_000 }, async (t) => {
  const s = await scene(t, ['a']);
  const a = s.peer('a', ['--gossip-interval', '60000ms']);
  await a.waitFor((e) => e.event === 'joined', 30_000, 'a joined');
  const aKey = `${s.lab.host('a').address}:${PEER_PORT}`;
  const spoof = await s.attack('helloSpoof', { peer: aKey, claim: `${s.lab.host('s').address}:${PEER_PORT}` }).result('hello-spoof');
  t.diagnostic(JSON.stringify(spoof));
  for (const [claim, answer] of Object.entries(spoof.results as Record<string, string>)) {
    assert.notEqual(answer, 'welcome', `hello as ${claim} must not be welcomed`);
  }
  assert.equal(a.events.filter((e) => e.event === 'neighbour').length, 0, 'a linked to nobody');
  assert.ok(alive(a));
});

test('forged gossip from a linked stranger is checked and rate-limited; honest peers keep delivering', { skip: labSkip, timeout: 120_000 }, async (t) => {
  const s = await scene(t, ['a', 'b']);
  const args = ['--gossip-interval', '1500ms', '--messages', '4', '--liveness-interval', '1000ms', '--misses', '3'];
  const a = s.peer('a', args);
  await a.waitFor((e) => e.event === 'joined', 30_000, 'a joined');
  const b = s.peer('b', args);
  await b.waitFor((e) => e.event === 'neighbour' && e.change === 'added', 30_000, 'b linked');
  const aKey = `${s.lab.host('a').address}:${PEER_PORT}`;
  const bKey = `${s.lab.host('b').address}:${PEER_PORT}`;
  const startedAt = Date.now();
  const flood = await s.attack('gossipFlood', { peer: aKey, count: 40_000, maxMs: 20_000 }).result('gossip-flood', 60_000);
  const floodSeconds = (Date.now() - startedAt) / 1000;
  t.diagnostic(`flood: ${JSON.stringify(flood)} in ${floodSeconds.toFixed(1)} s`);
  assert.equal(flood.linked, true, 'the stranger linked (its address was proved)');

  // The honest peers' messages all arrive on both sides.
  const fromOrigin = (p: typeof a, origin: string): number => p.events.filter((e) => e.event === 'gossip' && e.origin === origin).length;
  await a.waitForCount((e) => e.event === 'gossip' && e.origin === bKey, 4, 30_000);
  await b.waitForCount((e) => e.event === 'gossip' && e.origin === aKey, 4, 30_000);
  const forged = (p: typeof a): { text: string }[] =>
    p.events.filter((e) => e.event === 'gossip' && e.origin !== aKey && e.origin !== bKey).map((e) => ({ text: String(e.text) }));
  const now = Date.now();
  for (const p of [a, b]) {
    for (const { text } of forged(p)) {
      const stamp = Number(text.split(':')[0]);
      assert.ok(Math.abs(now - stamp) < 120_000, `no stale or future message spread: ${text}`);
    }
  }
  const onePerOrigin = a.events.filter((e) => e.event === 'gossip' && e.origin === '198.51.100.7:7000').length;
  // Per origin: a burst of 200 and 100/s; per neighbour: a burst of 2,000 and 1,000/s.
  assert.ok(onePerOrigin <= 200 + 100 * floodSeconds, `one origin held to its rate (${onePerOrigin})`);
  assert.ok(forged(a).length <= 2000 + 1000 * floodSeconds, `the stranger held to its rate (${forged(a).length})`);
  t.diagnostic(`forged messages a logged: ${forged(a).length} (of ${String(flood.sent)}); from the one flooding origin: ${onePerOrigin}; honest: ${fromOrigin(a, bKey)}/${fromOrigin(b, aKey)}`);
  // (The stranger itself, gone after its flood, may rightly be reported.)
  for (const p of [a, b]) assert.equal(p.events.filter((e) => e.event === 'dead-reported' && (e.dead === aKey || e.dead === bKey)).length, 0, 'no honest peer was declared dead');
  const rss = await rssMiB(a);
  t.diagnostic(`victim RSS: ${rss.toFixed(0)} MiB (bound ${RSS_BOUND_MIB})`);
  assert.ok(rss < RSS_BOUND_MIB);
  assert.ok(alive(a) && alive(b) && alive(s.seed));
});
