/**
 * Issue 14, seeds as separate processes: three `wirelab gossip seed --config seeds.txt` processes
 * (one config listing all three, as one seed per machine would run) and a dozen peers. Every peer
 * gets one id, the same from every seed that registered it; no two peers share one; a peer that
 * restarts at its address while its registrations live gets its id back, also from a seed that never
 * held it (that seed asks the others); a seed restarted with an empty registry hands out no live id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/common/net.js';
import { Peer, endpointKey, powerLawCapacity, type Endpoint } from '../../../src/gossip/index.js';
import { WirelabProcess, runWirelab } from '../../helpers/process.js';
import { untilTrue } from './helpers.js';

/** peer -> (seed -> id), from the seeds' `registered` events (one per new registration). */
function idsBySeed(seedProcs: WirelabProcess[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const proc of seedProcs) {
    for (const e of proc.events.filter((ev) => ev.event === 'registered')) {
      const bySeed = out.get(e.peer as string) ?? new Map<string, number>();
      bySeed.set(e.seed as string, e.id as number);
      out.set(e.peer as string, bySeed);
    }
  }
  return out;
}

test('seeds in separate processes agree ids: one per peer, unique, kept across a restart', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-gossip-ids-'));
  const peers: Peer[] = [];
  const seedProcs: WirelabProcess[] = [];
  const peerProcs: WirelabProcess[] = [];
  t.after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await Promise.all([...peerProcs, ...seedProcs].map((p) => p.stop('SIGKILL')));
    await rm(dir, { recursive: true, force: true });
  });
  const seeds: Endpoint[] = [];
  for (let i = 0; i < 3; i++) seeds.push({ host: '127.0.0.1', port: await freePort('tcp') });
  const config = join(dir, 'seeds.txt');
  await writeFile(config, seeds.map((s) => `${endpointKey(s)}\n`).join(''));
  for (const s of seeds) seedProcs.push(WirelabProcess.start(['gossip', 'seed', '--port', String(s.port), '--config', config, '--json']));
  await Promise.all(seedProcs.map((p) => p.waitFor((e) => e.event === 'listening', 30_000, 'seed listening')));

  // Six peers at once (fresh ids handed out by different seeds at the same moment), six one by one.
  const newPeer = (): Peer => {
    const p = new Peer({ seeds, autoGossip: false });
    peers.push(p);
    return p;
  };
  await Promise.all(Array.from({ length: 6 }, () => newPeer().start()));
  for (let i = 0; i < 6; i++) await newPeer().start();
  // One more peer as its own process, to restart it below.
  const peerPort = await freePort('tcp');
  const peerArgs = ['gossip', 'peer', '--port', String(peerPort), '--config', config, '--json', '--messages', '1'];
  peerProcs.push(WirelabProcess.start(peerArgs));
  const joined = await peerProcs[0]!.waitFor((e) => e.event === 'joined', 30_000, 'peer process joined');
  const procKey = `127.0.0.1:${peerPort}`;

  const keys = [...peers.map((p) => p.key), procKey];
  const idOf = new Map<string, number>([...peers.map((p) => [p.key, p.id] as const), [procKey, joined.id as number]]);
  // The seeds print an event as they answer: wait for their lines to come through the pipes.
  await untilTrue(() => keys.every((k) => (idsBySeed(seedProcs).get(k)?.size ?? 0) >= 2), 10_000, 'every registration printed');
  const registered = idsBySeed(seedProcs);
  for (const key of keys) {
    const given = registered.get(key);
    assert.equal(given?.size, 2, `${key} registered with a majority of the 3 seeds`);
    assert.deepEqual(new Set(given.values()), new Set([idOf.get(key)]), `${key}: one id from every seed that gave it one`);
  }
  assert.equal(new Set(idOf.values()).size, keys.length, `13 peers, 13 ids: ${[...idOf.values()].join(' ')}`);
  // Capacities follow the join order, not the ids stretched by the gaps between id spaces.
  const byId = [...peers].sort((x, y) => x.id - y.id);
  byId.forEach((p, rank) => {
    const capacity = p.policy!.capacity;
    assert.ok(capacity >= powerLawCapacity(rank + 2) && capacity <= powerLawCapacity(Math.max(0, rank - 2)), `${p.key}: id ${p.id}, join rank ${rank}, capacity ${capacity}`);
  });

  // The peer process restarts at its address while its registrations live: the same id.
  await peerProcs[0]!.stop('SIGKILL');
  peerProcs.push(WirelabProcess.start(peerArgs));
  const rejoined = await peerProcs[1]!.waitFor((e) => e.event === 'joined', 30_000, 'restarted peer joined');
  assert.equal(rejoined.id, joined.id, 'the restarted peer process kept its id');

  // A peer restarts and registers only at the seed that never held it: that seed asks the others.
  const victim = peers[3]!;
  const holders = registered.get(victim.key)!;
  const stranger = seeds.find((s) => !holders.has(endpointKey(s)))!;
  const strangerProc = seedProcs[seeds.indexOf(stranger)]!;
  await victim.close();
  const again = new Peer({ seeds: [stranger], autoGossip: false, port: victim.endpoint.port });
  peers.push(again);
  await again.start();
  assert.equal(again.id, victim.id, 'the id the other seeds hold');
  const event = await strangerProc.waitFor((e) => e.event === 'registered' && e.peer === victim.key, 10_000, 'the third seed registered it');
  assert.equal(event.id, victim.id);

  // Still no id shared by two addresses, at any seed.
  const final = idsBySeed(seedProcs);
  const owner = new Map<number, string>();
  for (const [key, bySeed] of final) {
    assert.equal(new Set(bySeed.values()).size, 1, `${key}: one id at every seed`);
    const id = [...bySeed.values()][0]!;
    assert.equal(owner.get(id) ?? key, key, `id ${id} given to ${owner.get(id)} and ${key}`);
    owner.set(id, key);
  }
});

test('gossip seed --config refuses an address the config does not list, in one line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-gossip-ids-'));
  try {
    const config = join(dir, 'seeds.txt');
    await writeFile(config, '127.0.0.1:7001\n127.0.0.1:7002\n');
    const run = await runWirelab(['gossip', 'seed', '--port', '7003', '--config', config, '--duration', '1s']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /127\.0\.0\.1:7003 is not listed in .*seeds\.txt/);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.doesNotMatch(run.stderr, /at .*\.ts:\d+/, 'no stack trace');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a seed restarted with an empty registry hands out no id the other seeds still hold', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-gossip-ids-'));
  const peers: Peer[] = [];
  const seedProcs: WirelabProcess[] = [];
  t.after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await Promise.all(seedProcs.map((p) => p.stop('SIGKILL')));
    await rm(dir, { recursive: true, force: true });
  });
  const seeds: Endpoint[] = [];
  for (let i = 0; i < 3; i++) seeds.push({ host: '127.0.0.1', port: await freePort('tcp') });
  const config = join(dir, 'seeds.txt');
  await writeFile(config, seeds.map((s) => `${endpointKey(s)}\n`).join(''));
  const startSeed = (s: Endpoint): WirelabProcess => WirelabProcess.start(['gossip', 'seed', '--port', String(s.port), '--config', config, '--json']);
  seedProcs.push(...seeds.map(startSeed));
  await Promise.all(seedProcs.map((p) => p.waitFor((e) => e.event === 'listening', 30_000, 'seed listening')));
  // Six peers register first at the first seed (fresh ids of its space: 0, 3, 6 ...), then at the
  // second (random() near 1 keeps the config order), which holds those ids after the first restarts.
  const inOrder = (): number => 0.999;
  for (let i = 0; i < 6; i++) {
    const p = new Peer({ seeds, autoGossip: false, random: inOrder });
    peers.push(p);
    await p.start();
  }
  const held = peers.map((p) => p.id);
  assert.deepEqual(held, [0, 3, 6, 9, 12, 15], 'ids of the first seed');
  await seedProcs[0]!.stop('SIGKILL');
  seedProcs[0] = startSeed(seeds[0]!);
  await seedProcs[0].waitFor((e) => e.event === 'listening', 30_000, 'seed listening again');
  const after = new Peer({ seeds: [seeds[0]!], autoGossip: false });
  peers.push(after);
  await after.start();
  assert.ok(!held.includes(after.id), `id ${after.id} is not one of the live ids ${held.join(' ')}`);
  assert.equal(after.id, 18, "the first of the restarted seed's space above the highest the others hold");
});
