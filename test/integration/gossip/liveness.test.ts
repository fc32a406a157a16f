import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Seed, endpointKey, encodeFrame, formatMessage } from '../../../src/gossip/index.js';
import { WirelabProcess } from '../../helpers/process.js';
import { untilTrue } from './helpers.js';
import { connect } from 'node:net';

const INTERVAL = 300;
const MISSES = 3;
/** The configured detection bound: MISSES silent intervals. */
const BOUND = INTERVAL * MISSES;

interface Network {
  seeds: Seed[];
  peers: WirelabProcess[];
  keys: string[];
}

/** In-process seeds on port 0, their config file, and `count` real peer processes. */
async function startNetwork(t: TestContext, count: number, extra: string[] = []): Promise<Network> {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-gossip-'));
  const seeds = [0, 1, 2].map(() => new Seed({ port: 0, confirmTimeoutMs: BOUND }));
  const peers: WirelabProcess[] = [];
  t.after(async () => {
    await Promise.all(peers.map((p) => p.stop('SIGKILL')));
    await Promise.all(seeds.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });
  await Promise.all(seeds.map((s) => s.start()));
  const config = join(dir, 'seeds.txt');
  await writeFile(config, seeds.map((s) => endpointKey(s.address())).join('\n') + '\n');
  const args = ['gossip', 'peer', '--config', config, '--json', '--liveness-interval', `${INTERVAL}ms`, '--misses', String(MISSES)];
  for (let i = 0; i < count; i++) peers.push(WirelabProcess.start([...args, '--gossip-interval', '60s', ...extra]));
  const joined = await Promise.all(peers.map((p) => p.waitFor((e) => e.event === 'joined', 30_000, 'joined')));
  const keys = joined.map((e) => e.peer as string);
  // Wait until every peer has a neighbour, so that someone watches each of them.
  await Promise.all(peers.map((p) => p.waitFor((e) => e.event === 'neighbour' && e.change === 'added', 15_000, 'a neighbour')));
  return { seeds, peers, keys };
}

test('a peer killed with SIGKILL is reported, confirmed and removed from every seed within the bound', async (t) => {
  const net = await startNetwork(t, 5);
  const victim = net.keys[2]!;
  assert.ok(net.seeds.some((s) => s.has(victim)));
  const removed = net.seeds.map((s) => (s.has(victim) ? once(s, 'removed', { signal: AbortSignal.timeout(20_000) }) : undefined));
  const killedAt = Date.now();
  net.peers[2]!.child.kill('SIGKILL');
  await untilTrue(() => net.seeds.every((s) => !s.has(victim)), 20_000, `${victim} removed from every seed`);
  const took = Date.now() - killedAt;
  for (const r of removed) if (r) assert.equal((await r)[0].peer, victim);
  t.diagnostic(`SIGKILL to removal from every seed: ${took} ms (bound ${BOUND} ms + one probe interval)`);
  // MISSES silent rounds, the round that notices, the seeds' probe (refused at once), and slack for
  // a loaded 2-core machine.
  assert.ok(took < BOUND + 2 * INTERVAL + 3_000, `removed in ${took} ms`);
  // The other peers are still registered: nobody was removed by mistake.
  for (const key of net.keys.filter((k) => k !== victim)) assert.ok(net.seeds.some((s) => s.has(key)), `${key} still registered`);
});

test('a peer whose event loop stalls for less than the bound is not removed', async (t) => {
  const stallMs = Math.round(BOUND * 0.55);
  const net = await startNetwork(t, 4, ['--stall-on-sigusr2', `${stallMs}ms`]);
  const slow = net.keys[1]!;
  const removals: string[] = [];
  for (const s of net.seeds) s.on('removed', (r) => removals.push(r.peer));
  // The hook really stalls it: a probe sent just after SIGUSR2 is answered only once the stall ends.
  const [host, port] = slow.split(':');
  const probe = connect(Number(port), host);
  t.after(() => probe.destroy());
  await once(probe, 'connect');
  net.peers[1]!.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 50));
  const sentAt = Date.now();
  probe.write(encodeFrame(formatMessage({ type: 'liveness-request', timestamp: sentAt, peer: { host: '127.0.0.1', port: 1 } })));
  await once(probe, 'data', { signal: AbortSignal.timeout(10_000) });
  const stalledFor = Date.now() - sentAt;
  t.diagnostic(`probe answered after ${stalledFor} ms (stall ${stallMs} ms)`);
  assert.ok(stalledFor >= stallMs - 150, `the peer stalled (${stalledFor} ms)`);
  probe.destroy();
  for (let round = 0; round < 3; round++) {
    net.peers[1]!.child.kill('SIGUSR2');
    // Observe for several bounds: long enough for a wrong verdict to be reached and acted on.
    await new Promise((r) => setTimeout(r, BOUND * 2));
  }
  assert.deepEqual(removals, [], 'no seed removed anyone');
  assert.ok(net.seeds.some((s) => s.has(slow)), 'the slow peer is still registered');
  for (const p of net.peers) assert.equal(p.events.filter((e) => e.event === 'dead-reported').length, 0, 'nobody reported it dead');
});

test('a false Dead Node report about a live peer is refused by the seed', async (t) => {
  const net = await startNetwork(t, 2);
  const live = net.keys[0]!;
  const seed = net.seeds.find((s) => s.has(live))!;
  const [host, port] = live.split(':');
  const refused = once(seed, 'refused', { signal: AbortSignal.timeout(10_000) });
  // A lying peer: a raw connection that reports a live peer dead.
  // A report names its reporter's address, which must be the connection's source.
  const liar = connect({ port: seed.address().port, host: seed.address().host, localAddress: '127.0.0.66' });
  t.after(() => liar.destroy());
  await once(liar, 'connect');
  const report = { type: 'dead-node' as const, peer: { host: host!, port: Number(port) }, timestamp: Date.now(), reporter: '127.0.0.66' };
  liar.write(encodeFrame(formatMessage(report)));
  const [event] = await refused;
  assert.deepEqual(event, { peer: live, reporter: '127.0.0.66' });
  assert.ok(seed.has(live), 'the live peer is still registered');
  assert.equal(seed.stats().removed, 0);
});

test('malformed input to a seed closes that connection with a reason and nothing else', async (t) => {
  const seed = new Seed({ port: 0 });
  t.after(() => seed.close());
  await seed.start();
  const malformed = once(seed, 'malformed', { signal: AbortSignal.timeout(5_000) });
  const sock = connect(seed.address().port, seed.address().host);
  t.after(() => sock.destroy());
  await once(sock, 'connect');
  sock.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
  const [event] = (await malformed) as [{ reason: string }];
  assert.match(event.reason, /exceeds/);
  await once(sock, 'close', { signal: AbortSignal.timeout(5_000) });
  // The seed still serves others; a stranger that never registered gets no more bytes than it sent
  // (the 10-byte empty list does not fit in a 9-byte request: the connection is closed unanswered).
  const ok = connect(seed.address().port, seed.address().host);
  t.after(() => ok.destroy());
  const got: Buffer[] = [];
  ok.on('data', (chunk: Buffer) => got.push(chunk));
  ok.write(encodeFrame('peer list'));
  await once(ok, 'close', { signal: AbortSignal.timeout(5_000) });
  assert.equal(Buffer.concat(got).length, 0);
  assert.equal(seed.stats().peerLists, 1, 'the request was read and answered by closing');
});
