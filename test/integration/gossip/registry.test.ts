/**
 * The seed's registry on loopback (issue 13 item 8, issue 14 ids, issue 13 item 9's repeated reports):
 * unreachable peers expire, registrations are bounded per source, ids are unique across the seeds of
 * one process and stable per address, and a Dead Node report is repeated until a seed notes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { IdAllocator, Peer, Seed, endpointKey } from '../../../src/gossip/index.js';
import { freePort } from '../../../src/common/net.js';
import { untilTrue } from './helpers.js';

test('a registered peer that stops answering expires from the seed', async (t) => {
  const seed = new Seed({ port: 0, revalidateMs: 200, confirmTimeoutMs: 300 });
  t.after(() => seed.close());
  await seed.start();
  const p = new Peer({ seeds: [seed.address()], autoGossip: false });
  t.after(() => p.close());
  await p.start();
  assert.ok(seed.has(p.key));
  const expired = once(seed, 'expired', { signal: AbortSignal.timeout(5_000) });
  await p.close();
  const [event] = (await expired) as [{ peer: string }];
  assert.equal(event.peer, p.key);
  assert.equal(seed.has(p.key), false);
  assert.equal(seed.stats().expired, 1);
});

test('registrations are bounded per source address', async (t) => {
  const seed = new Seed({ port: 0, maxPeersPerSource: 2 });
  const peers: Peer[] = [];
  t.after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await seed.close();
  });
  await seed.start();
  const unproved = once(seed, 'unproved', { signal: AbortSignal.timeout(5_000) });
  for (let i = 0; i < 3; i++) peers.push(new Peer({ seeds: [seed.address()], autoGossip: false }));
  await peers[0]!.start();
  await peers[1]!.start();
  await assert.rejects(peers[2]!.start(), /no seed answered/);
  const [event] = (await unproved) as [{ reason: string }];
  assert.match(event.reason, /2 registrations from 127\.0\.0\.1/);
  assert.equal(seed.stats().peers, 2);
});

test('ids are unique across the seeds of one process and stable per address while registered', async (t) => {
  const ids = new IdAllocator();
  const seeds = [0, 1, 2].map(() => new Seed({ port: 0, ids }));
  const peers: Peer[] = [];
  t.after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await Promise.all(seeds.map((s) => s.close()));
  });
  await Promise.all(seeds.map((s) => s.start()));
  for (let i = 0; i < 9; i++) {
    const p = new Peer({ seeds: seeds.map((s) => s.address()), autoGossip: false });
    peers.push(p);
    await p.start();
  }
  assert.equal(new Set(peers.map((p) => p.id)).size, peers.length, 'no two peers share an id');
  for (const p of peers) {
    const given = seeds.map((s) => s.idOf(p.key)).filter((id) => id !== undefined);
    assert.equal(given.length, 2, 'registered with a majority');
    assert.ok(given.every((id) => id === p.id), `${p.key}: the same id at every seed`);
  }
  // Registering again (a rejoin) keeps the id.
  const again = new Peer({ seeds: seeds.map((s) => s.address()), autoGossip: false, port: peers[4]!.endpoint.port });
  const id = peers[4]!.id;
  await peers[4]!.close();
  peers.push(again);
  await again.start();
  assert.equal(again.id, id);
});

test('a Dead Node report is repeated to a seed that did not answer, until it notes it', async (t) => {
  const live = new Seed({ port: 0, confirmTimeoutMs: 300 });
  const latePort = await freePort('tcp');
  const late = new Seed({ port: latePort, confirmTimeoutMs: 300 });
  const peers: Peer[] = [];
  t.after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await live.close();
    await late.close();
  });
  await live.start();
  const seeds = [live.address(), { host: '127.0.0.1', port: latePort }];
  for (let i = 0; i < 2; i++) {
    const p = new Peer({ seeds, livenessIntervalMs: 150, misses: 2, autoGossip: false });
    peers.push(p);
    await p.start();
  }
  const [x, y] = peers as [Peer, Peer];
  await untilTrue(() => x.neighbours().includes(y.key), 5_000, 'x and y linked');
  const reported = once(x, 'dead-reported', { signal: AbortSignal.timeout(5_000) });
  await y.close();
  await reported;
  // The second seed comes up only now: x's report to it failed at first and is repeated.
  await late.start();
  await untilTrue(() => late.stats().reports >= 1, 10_000, 'the late seed got the report');
  assert.ok(x.stats().reportRetries >= 1, 'the report was repeated');
  await untilTrue(() => !live.has(y.key), 5_000, 'y removed from the live seed');
  assert.equal(endpointKey(late.address()), `127.0.0.1:${latePort}`);
});
