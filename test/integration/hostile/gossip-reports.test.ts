/**
 * Issue 13, item 9, replayed against the real CLI in namespaces: a stranger registers 300 listeners
 * of its own (they answer the seed's connect-back, then fall silent) and reports them all dead, to
 * occupy the seed's confirmation slots for the whole confirmation timeout. A peer then dies; its
 * neighbours' report must still be confirmed and the dead peer removed. Before the fix the stranger
 * took all 256 slots, the honest report was dropped and never repeated, and the dead peer stayed listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PEER_PORT, alive, labSkip, rssMiB, scene } from './gossip-lab.js';

const CONFIRM_MS = 15_000;

test('a stranger cannot occupy the Dead Node confirmation slots: a real death is still confirmed', { skip: labSkip, timeout: 120_000 }, async (t) => {
  const s = await scene(t, ['a', 'b', 'c'], ['--confirm-timeout', `${CONFIRM_MS}ms`]);
  const peerArgs = ['--gossip-interval', '60000ms', '--liveness-interval', '300ms', '--misses', '3'];
  const peers = ['a', 'b', 'c'].map((h) => s.peer(h, peerArgs));
  for (const p of peers) await p.waitFor((e) => e.event === 'joined', 30_000, 'joined');
  const c = peers[2]!;
  await c.waitFor((e) => e.event === 'neighbour' && e.change === 'added', 30_000, 'c linked');

  const flood = s.attack('reportFlood', { seed: s.seedKey, fakes: 300, maxMs: 30_000 });
  const flooded = await flood.seen('report-flood', 60_000);
  t.diagnostic(`report flood: ${JSON.stringify(flooded)}`);
  assert.ok(Number(flooded.registered) >= 200, 'the stranger registered its listeners (they answered the connect-back)');
  // Reports about peers the seed does not hold are noted at once; of the others, one reporter gets 16 slots.
  assert.ok(Number(flooded.noted) <= Number(flooded.reported) - Number(flooded.registered) + 16, 'at most 16 confirmations run for one reporter');

  const cKey = `${s.lab.host('c').address}:${PEER_PORT}`;
  const killedAt = Date.now();
  await c.stop('SIGKILL');
  const removed = await s.seed.waitFor((e) => e.event === 'removed' && e.peer === cKey, CONFIRM_MS - 2_000, 'c removed while the flood holds its slots');
  t.diagnostic(`SIGKILL to removal under the flood: ${Date.now() - killedAt} ms; reporter ${String(removed.reporter)}`);
  assert.ok(alive(s.seed));
  t.diagnostic(`seed RSS: ${(await rssMiB(s.seed)).toFixed(0)} MiB`);
});
