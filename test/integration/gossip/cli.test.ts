import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/common/net.js';
import { WirelabProcess, runWirelab } from '../../helpers/process.js';

test('CLI: seeds from a config, a swarm that settles and gossips, and the degree plot', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-gossip-cli-'));
  const config = join(dir, 'seeds.txt');
  await writeFile(config, `127.0.0.1:${await freePort('tcp')}\n127.0.0.1:${await freePort('tcp')}\n`);
  const seeds = WirelabProcess.start(['gossip', 'seeds', '--config', config, '--json']);
  t.after(async () => {
    await seeds.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await seeds.waitForCount((e) => e.event === 'listening', 2, 30_000);

  const degreeLog = join(dir, 'freqtrack.log');
  const eventLog = join(dir, 'outputfile.log');
  const peers = 12;
  const messages = 2;
  const swarm = await runWirelab(
    ['gossip', 'swarm', '--peers', String(peers), '--config', config, '--json', '--duration', '1500ms', '--messages', String(messages),
      '--gossip-interval', '100ms', '--liveness-interval', '500ms', '--degree-log', degreeLog, '--event-log', eventLog],
    { timeoutMs: 60_000 },
  );
  assert.equal(swarm.code, 0, swarm.stderr);
  const settled = swarm.events.find((e) => e.event === 'settled')!;
  assert.equal(settled.peers, peers);
  assert.equal(settled.components, 1);
  assert.ok((settled.minDegree as number) >= 1);
  assert.equal(swarm.events.filter((e) => e.event === 'progress').length, peers);
  const gossip = swarm.events.filter((e) => e.event === 'gossip');
  assert.equal(gossip.length, peers * peers * messages, 'every peer logged every message once');
  assert.equal(new Set(gossip.map((e) => `${e.peer as string}|${e.text as string}`)).size, gossip.length);
  assert.equal(seeds.events.filter((e) => e.event === 'registered').length >= peers, true, 'the seeds registered every peer');
  assert.match(await readFile(eventLog, 'utf8'), /^\d+\.\d{3}:127\.0\.0\.1:\d+ linked to 127\.0\.0\.1:\d+ \(degree 1\)$/m);

  const png = join(dir, 'degrees.png');
  const plot = await runWirelab(['gossip', 'degrees', '--input', degreeLog, '--out', png, '--json']);
  assert.equal(plot.code, 0, plot.stderr);
  assert.equal(plot.events[0]!.peers, peers);
  assert.equal(plot.events[0]!.min, settled.minDegree);
  assert.deepEqual([...(await readFile(png)).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  const svg = join(dir, 'degrees.svg');
  assert.equal((await runWirelab(['gossip', 'degrees', '--input', degreeLog, '--out', svg])).code, 0);
  assert.match(await readFile(svg, 'utf8'), /<svg[\s\S]*log-log/);

  const bad = await runWirelab(['gossip', 'peer', '--config', join(dir, 'missing.txt')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^wirelab: read .*missing\.txt: no such file\n$/);
});
