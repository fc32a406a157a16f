/**
 * A big file uploaded by a client to the real server, byte for byte, with the server's resident memory
 * sampled all along: files are streamed, never held, so it stays flat. 1 GiB by default (the upload
 * takes 10-25 s on the 2 shared cores; a client-to-client relay doubles that, as the server stores then
 * forwards, so relays are checked with smaller files in delivery.test.ts); CHAT_BIG_MIB sets another
 * size, CHAT_BIG_RELAY=1 sends it to a second client instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestUser } from './clients.js';
import { ServerProcess, workDir } from './helpers.js';

const MIB = 1024 * 1024;
const SIZE_MIB = Number(process.env.CHAT_BIG_MIB ?? 1024);
/** Growth of the server's resident memory allowed during the transfer. */
const MAX_GROWTH_MIB = 96;

async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const digest = createHash('sha256');
  const out = createWriteStream(path);
  for (let at = 0; at < bytes; at += 8 * MIB) {
    const block = randomBytes(Math.min(8 * MIB, bytes - at));
    digest.update(block);
    if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return digest.digest('hex');
}

async function sha256File(path: string): Promise<string> {
  const digest = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MIB })) digest.update(chunk as Buffer);
  return digest.digest('hex');
}

const RELAY = process.env.CHAT_BIG_RELAY === '1';

test(`${SIZE_MIB} MiB ${RELAY ? 'from client to client' : 'from a client to the server'}, byte for byte, server memory flat`, { timeout: 180_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const source = join(work.dir, 'big.bin');
  const sha = await writeRandomFile(source, SIZE_MIB * MIB);
  const { server, port } = await ServerProcess.start(work.dir, work.data);
  t.after(() => server.stop('SIGKILL'));
  const rssMib = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))![1]) / 1024;
  const alice = await TestUser.join(port, 'alice', { downloads: join(work.dir, 'dl') });
  t.after(() => alice.close());
  const bob = await TestUser.join(port, 'bob', { downloads: join(work.dir, 'dl') });
  t.after(() => bob.close());

  const baseline = rssMib();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMib())), 100);
  t.after(() => clearInterval(sampler));
  const started = Date.now();
  let stored: string;
  if (RELAY) {
    await alice.client.sendFile(source, 'bob');
    const saved = await bob.waitSaved(150_000);
    assert.equal(saved.verified, true);
    stored = saved.path;
  } else {
    await alice.client.sendFile(source, null);
    stored = join(work.data, 'files', 'alice', 'big.bin');
  }
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  t.diagnostic(`${SIZE_MIB} MiB in ${seconds.toFixed(1)} s; server RSS ${baseline.toFixed(0)} -> peak ${peak.toFixed(0)} MiB`);
  assert.equal(await sha256File(stored), sha);
  assert.ok(peak - baseline < MAX_GROWTH_MIB, `server memory grew by ${(peak - baseline).toFixed(0)} MiB`);
});
