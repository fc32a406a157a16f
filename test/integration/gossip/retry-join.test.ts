/**
 * Issue 9: `gossip peer` started before its seeds. With --retry-join it keeps trying with back-off
 * (like Serf's -retry-join) and joins once a seed is up; without, it exits at once with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/common/net.js';
import { WirelabProcess, runWirelab } from '../../helpers/process.js';

test('gossip peer --retry-join started before its seed joins once the seed is up', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-retry-'));
  const procs: WirelabProcess[] = [];
  t.after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await rm(dir, { recursive: true, force: true });
  });
  const port = await freePort('tcp');
  const config = join(dir, 'seeds.txt');
  await writeFile(config, `127.0.0.1:${port}\n`);

  const peer = WirelabProcess.start(['gossip', 'peer', '--config', config, '--retry-join', '--json', '--gossip-interval', '60000ms']);
  procs.push(peer);
  await peer.waitForCount((e) => e.event === 'join-retry', 2, 30_000);
  const retries = peer.events.filter((e) => e.event === 'join-retry');
  assert.ok(Number(retries[1]!.retryInMs) > Number(retries[0]!.retryInMs), 'the wait grows (back-off)');

  const seed = WirelabProcess.start(['gossip', 'seed', '--port', String(port), '--json']);
  procs.push(seed);
  await seed.waitFor((e) => e.event === 'listening', 30_000, 'seed listening');
  const joined = await peer.waitFor((e) => e.event === 'joined', 30_000, 'peer joined after retrying');
  assert.equal(joined.id, 0);
  await seed.waitFor((e) => e.event === 'registered', 10_000, 'seed registered the peer');
});

test('gossip peer without --retry-join and no seed: one clear line and exit 1', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-retry-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'seeds.txt');
  await writeFile(config, `127.0.0.1:${await freePort('tcp')}\n`);
  const started = Date.now();
  const result = await runWirelab(['gossip', 'peer', '--config', config], { timeoutMs: 20_000 });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /no seed answered/);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  assert.ok(Date.now() - started < 15_000);
});
