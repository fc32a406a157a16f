import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/hosts.js';
import { WirelabProcess } from '../../helpers/process.js';

const skip = Lab.unavailableReason();
const INTERVAL = 300;
const MISSES = 3;

test('between namespace hosts: a host cut off is detected and removed; back on the link it rejoins', { skip }, async (t) => {
  const lab = await Lab.create({ hosts: ['s', 'a', 'b', 'c'] });
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-gossip-ns-'));
  const procs: WirelabProcess[] = [];
  t.after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  const seedHost = lab.host('s').address;
  const config = join(dir, 'seeds.txt');
  await writeFile(config, `${seedHost}:7400\n`);
  const seed = WirelabProcess.start(
    ['gossip', 'seed', '--host', seedHost, '--port', '7400', '--confirm-timeout', `${INTERVAL * MISSES}ms`, '--json'],
    { lab, host: 's' },
  );
  procs.push(seed);
  await seed.waitFor((e) => e.event === 'listening', 30_000, 'seed listening');
  const peerArgs = (host: string): string[] => [
    'gossip', 'peer', '--host', lab.host(host).address, '--port', '7500', '--config', config, '--json',
    '--liveness-interval', `${INTERVAL}ms`, '--misses', String(MISSES), '--gossip-interval', '60s',
  ];
  const peers = new Map(['a', 'b', 'c'].map((h) => [h, WirelabProcess.start(peerArgs(h), { lab, host: h })]));
  procs.push(...peers.values());
  for (const p of peers.values()) await p.waitFor((e) => e.event === 'joined', 30_000, 'joined');
  const c = peers.get('c')!;
  const cKey = `${lab.host('c').address}:7500`;
  await c.waitFor((e) => e.event === 'neighbour' && e.change === 'added', 15_000, 'c linked');

  const cutAt = Date.now();
  await lab.setLink('c', false);
  const removed = await seed.waitFor((e) => e.event === 'removed' && e.peer === cKey, 20_000, 'c removed');
  t.diagnostic(`link down to removal at the seed: ${Date.now() - cutAt} ms`);
  assert.notEqual(removed.reporter, lab.host('c').address, 'reported by one of its neighbours');

  const registrationsBefore = seed.events.filter((e) => e.event === 'registered' && e.peer === cKey).length;
  const linksBefore = c.events.filter((e) => e.event === 'neighbour' && e.change === 'added').length;
  await lab.setLink('c', true);
  await seed.waitForCount((e) => e.event === 'registered' && e.peer === cKey, registrationsBefore + 1, 30_000);
  await c.waitForCount((e) => e.event === 'neighbour' && e.change === 'added', linksBefore + 1, 30_000);
  assert.equal(seed.events.filter((e) => e.event === 'removed' && e.peer !== cKey).length, 0, 'nobody else was removed');
});
