/**
 * Issue 13, item 13, against the real CLI in namespaces: seeds and peers share a network key
 * (--secret-file). A stranger without it cannot register (even its own live listeners), link (even
 * with a proved address), gossip or report, and a peer holding another key cannot join; the members
 * still deliver every message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PEER_PORT, alive, labSkip, scene } from './gossip-lab.js';
import { WirelabProcess } from '../../helpers/process.js';

test('with a network key, a stranger cannot register, link, gossip or report', { skip: labSkip, timeout: 120_000 }, async (t) => {
  const s = await scene(t, ['a', 'b', 'c'], [], `${randomBytes(32).toString('base64')}\n`);
  const args = ['--gossip-interval', '500ms', '--messages', '3', '--liveness-interval', '1000ms'];
  const a = s.peer('a', args);
  await a.waitFor((e) => e.event === 'joined', 30_000, 'a joined');
  const b = s.peer('b', args);
  await b.waitFor((e) => e.event === 'joined', 30_000, 'b joined');
  const aKey = `${s.lab.host('a').address}:${PEER_PORT}`;

  const [flood, reports, link] = await Promise.all([
    s.attack('registerFlood', { seed: s.seedKey, count: 200 }).result('register-flood'),
    s.attack('reportFlood', { seed: s.seedKey, fakes: 20, maxMs: 8_000 }).result('report-flood'),
    s.attack('gossipFlood', { peer: aKey, count: 100 }).result('gossip-flood'),
  ]);
  t.diagnostic(JSON.stringify({ flood, reports, link }));
  assert.equal(flood.registered, 0);
  assert.equal(reports.registered, 0, 'not even live listeners of the stranger');
  assert.equal(reports.noted, 0, 'no report was read');
  assert.equal(link.linked, false);

  // A peer with another key cannot join.
  const otherKey = join(s.dir, 'other');
  await writeFile(otherKey, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const stranger = WirelabProcess.start(
    ['gossip', 'peer', '--host', s.lab.host('c').address, '--port', String(PEER_PORT), '--config', s.config, '--json', '--secret-file', otherKey],
    { lab: s.lab, host: 'c', label: 'peer with another key' },
  );
  s.procs.push(stranger);
  const exit = await stranger.exited;
  assert.equal(exit.code, 1);
  assert.match(stranger.stderr, /no seed answered/);

  // The members deliver everything to each other.
  await a.waitForCount((e) => e.event === 'gossip', 6, 30_000);
  await b.waitForCount((e) => e.event === 'gossip', 6, 30_000);
  const registered = s.seed.events.filter((e) => e.event === 'registered').map((e) => e.peer);
  assert.equal(registered.length, 2);
  assert.ok(alive(s.seed) && alive(a) && alive(b));
});
