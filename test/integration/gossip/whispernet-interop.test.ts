/**
 * WhisperNet mode against test doubles of the original Python seed and peer, written to the recorded
 * protocol (test/fixtures/whispernet/README.md): in both directions, and mixed.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WhispernetPeer, WhispernetSeed, encodeRecord, type WhispernetPeerOptions } from '../../../src/gossip/whispernet/index.js';
import type { GossipSeen } from '../../../src/gossip/index.js';
import { PythonProcess, noPython, quickPeerArgs } from './whispernet-helpers.js';
import { untilTrue } from './helpers.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-whispernet-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function ourSeed(t: TestContext, confirmTimeoutMs = 2_000): Promise<WhispernetSeed> {
  const seed = new WhispernetSeed({ confirmTimeoutMs });
  t.after(() => seed.close());
  await seed.start();
  return seed;
}

async function pythonSeed(t: TestContext): Promise<{ proc: PythonProcess; port: number }> {
  const proc = PythonProcess.start(t, 'seed.py', ['--duration', '60']);
  const listening = await proc.waitFor((e) => e.event === 'listening', 10_000, 'listening');
  return { proc, port: listening.port as number };
}

/** Our peer in WhisperNet mode with quick intervals; closed when the test ends. Its gossip is kept. */
async function ourPeer(t: TestContext, options: Partial<WhispernetPeerOptions> & Pick<WhispernetPeerOptions, 'seeds'>): Promise<{ peer: WhispernetPeer; seen: GossipSeen[] }> {
  const peer = new WhispernetPeer({ gossipIntervalMs: 200, messages: 2, livenessIntervalMs: 500, floor: 6, autoGossip: false, ...options });
  const seen: GossipSeen[] = [];
  peer.on('gossip', (g) => seen.push(g));
  t.after(() => peer.close());
  await peer.start();
  return { peer, seen };
}

/** Texts a Python peer has: the ones it received and its own. */
function pythonTexts(p: PythonProcess): Set<string> {
  return new Set(p.events.filter((e) => e.event === 'gossip' || e.event === 'sent').map((e) => e.text as string));
}

test('original-protocol peers (Python) register with a wirelab seed, gossip, and their dead are confirmed and removed', { skip: noPython }, async (t) => {
  const seed = await ourSeed(t);
  const dir = await tempDir(t);
  const config = join(dir, 'config.txt');
  await writeFile(config, `localhost:${seed.address().port}\n`);
  const peers: PythonProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const p = PythonProcess.start(t, 'peer.py', quickPeerArgs(config, ['--max-links', '8']));
    await p.waitFor((e) => e.event === 'peers', 10_000, 'its peer list');
    peers.push(p);
  }
  const ports = await Promise.all(peers.map(async (p) => (await p.waitFor((e) => e.event === 'listening', 1, 'listening')).port as number));
  // `localhost`, as they announced it, is what the seed hands out
  assert.deepEqual(seed.peers(), ports.map((port) => ({ host: 'localhost', port })));
  assert.deepEqual(peers[2]!.events.find((e) => e.event === 'peers')!.peers, [`localhost:${ports[0]}`, `localhost:${ports[1]}`]);
  const all = ports.flatMap((port) => [1, 2].map((n) => `message ${n} from py${port}`));
  await untilTrue(() => peers.every((p) => all.every((text) => pythonTexts(p).has(text))), 15_000, 'every message at every Python peer');

  // A lying report about a live peer: the seed's probe finds it alive and keeps it.
  const liar = connect({ host: '127.0.0.1', port: seed.address().port });
  t.after(() => liar.destroy());
  await once(liar, 'connect');
  const refused = once(seed, 'refused', { signal: AbortSignal.timeout(10_000) });
  liar.write(encodeRecord({ type: 'dead-node', peer: { host: 'localhost', port: ports[0]! }, ts: '1764630700.25', reporter: { host: '127.0.0.1', port: 9 } }));
  assert.equal((await refused)[0].peer, `127.0.0.1:${ports[0]}`);
  assert.ok(seed.has(`localhost:${ports[0]}`));

  // A killed peer is reported by the others (`Dead Node` on their registration connection) and removed.
  const removed = once(seed, 'removed', { signal: AbortSignal.timeout(15_000) });
  await peers[2]!.kill();
  const [event] = (await removed) as [{ peer: string; reporter: string }];
  assert.equal(event.peer, `127.0.0.1:${ports[2]}`);
  assert.ok([`127.0.0.1:${ports[0]}`, `127.0.0.1:${ports[1]}`].includes(event.reporter), event.reporter);
  assert.deepEqual(seed.peers().map((p) => p.port), ports.slice(0, 2));
  assert.equal(seed.stats().malformed, 0);
});

test('wirelab peers join a network of an original-protocol seed (Python), gossip, and report the dead to it', { skip: noPython }, async (t) => {
  const { proc: pySeed, port } = await pythonSeed(t);
  const seeds = [{ host: '127.0.0.1', port }];
  const ours: { peer: WhispernetPeer; seen: GossipSeen[] }[] = [];
  for (let i = 0; i < 3; i++) ours.push(await ourPeer(t, { seeds }));
  for (const o of ours) o.peer.startGossip();
  const keys = ours.map((o) => o.peer.key);
  assert.deepEqual(pySeed.events.filter((e) => e.event === 'registered').map((e) => e.peer), keys);
  const all = keys.flatMap((key) => [1, 2].map((n) => `message ${n} from ${key.replace(':', '#')}`));
  await untilTrue(() => ours.every((o) => all.every((text) => o.seen.some((g) => g.text === text))), 10_000, 'every message at every peer');
  for (const o of ours) assert.equal(new Set(o.seen.map((g) => g.text)).size, o.seen.length, 'each message once');

  // One closes; one of its neighbours re-dials it in vain, reports Dead Node, and the original seed removes it.
  await ours[0]!.peer.close();
  const removed = await pySeed.waitFor((e) => e.event === 'removed', 15_000, 'a removal');
  assert.equal(removed.peer, keys[0]);
  assert.ok(keys.slice(1).includes(removed.reporter as string));
});

test('mixed: original-protocol and wirelab peers on an original seed and a wirelab seed; every message reaches every peer', { skip: noPython }, async (t) => {
  const { proc: pySeed, port: pyPort } = await pythonSeed(t);
  const seed = await ourSeed(t);
  const dir = await tempDir(t);
  const config = join(dir, 'config.txt');
  await writeFile(config, `localhost:${seed.address().port}\n127.0.0.1:${pyPort}\n`);
  const seeds = [seed.address(), { host: '127.0.0.1', port: pyPort }];
  const python: PythonProcess[] = [];
  const ours: { peer: WhispernetPeer; seen: GossipSeen[] }[] = [];
  // Python peers send their first message 2.5 s after each link comes up (the original waits 5 s), by
  // when all six have joined; ours replay recent messages to every new link anyway.
  for (let i = 0; i < 3; i++) {
    const p = PythonProcess.start(t, 'peer.py', quickPeerArgs(config, ['--max-links', '8', '--interval', '2.5']));
    await p.waitFor((e) => e.event === 'peers', 10_000, 'its peer list');
    python.push(p);
    ours.push(await ourPeer(t, { seeds }));
  }
  for (const o of ours) o.peer.startGossip();
  const pyPorts = python.map((p) => p.events.find((e) => e.event === 'listening')!.port as number);
  const texts = [
    ...pyPorts.flatMap((port) => [1, 2].map((n) => `message ${n} from py${port}`)),
    ...ours.flatMap((o) => [1, 2].map((n) => `message ${n} from ${o.peer.key.replace(':', '#')}`)),
  ];
  await untilTrue(
    () => python.every((p) => texts.every((x) => pythonTexts(p).has(x))) && ours.every((o) => texts.every((x) => o.seen.some((g) => g.text === x))),
    20_000,
    'all 12 messages at all 6 peers',
  );
  for (const o of ours) assert.equal(new Set(o.seen.map((g) => g.text)).size, o.seen.length, 'each message once at a wirelab peer');
  // both seeds know every peer (a quorum of 2 seeds is both)
  assert.equal(seed.stats().peers, 6);
  assert.equal(pySeed.events.filter((e) => e.event === 'registered').length, 6);
  assert.ok(ours.every((o) => o.peer.stats().malformed === 0));
  // every record we sent was one the original's reads understood
  for (const p of [...python, pySeed]) assert.deepEqual(p.events.filter((e) => e.event === 'unknown' || e.event === 'error'), [], p.label);
});
