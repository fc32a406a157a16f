/**
 * CaptureWriter against the real tools: files we write are opened by tcpdump, tshark and capinfos,
 * and read back by our own reader packet for packet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CaptureWriter, readCaptureFile, type RawPacket } from '../../../src/capture/index.js';
import { WirelabError } from '../../../src/common/errors.js';
import { repoRoot } from '../../helpers/process.js';

const run = promisify(execFile);
const ppp = resolve(repoRoot, 'test/fixtures/captures/pcapplusplus');

async function readAll(path: string): Promise<RawPacket[]> {
  const packets: RawPacket[] = [];
  for await (const batch of readCaptureFile(path)) packets.push(...batch);
  return packets;
}

async function writeAll(path: string, packets: RawPacket[], blockBytes?: number): Promise<CaptureWriter> {
  const writer = new CaptureWriter({ path, blockBytes });
  await writer.start();
  for (const p of packets) if (!writer.write(p)) await writer.drained();
  await writer.close();
  return writer;
}

async function tsharkFields(path: string): Promise<string> {
  const { stdout } = await run('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.protocols'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

function same(a: RawPacket[], b: RawPacket[]): void {
  assert.equal(a.length, b.length);
  const key = (p: RawPacket): string => `${p.index} ${p.linkType} ${p.tsSec}.${p.tsNsec} ${p.originalLength} ${p.data.toString('hex')}`;
  assert.deepEqual(a.map(key), b.map(key));
}

test('written pcapng and pcap open in tcpdump, tshark and capinfos, and read back exactly', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-writer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const source = join(ppp, 'example.pcap');
  const packets = await readAll(source);
  const ng = join(dir, 'out.pcapng');
  const classic = join(dir, 'out.pcap');
  // a small block size forces many flushes through the stream
  const writer = await writeAll(ng, packets, 4096);
  assert.equal(writer.stats().packets, 4631);
  await writeAll(classic, packets);

  same(await readAll(ng), packets);
  same(await readAll(classic), packets);

  const [original, viaNg, viaPcap] = await Promise.all([tsharkFields(source), tsharkFields(ng), tsharkFields(classic)]);
  assert.equal(viaNg, original);
  assert.equal(viaPcap, original);

  for (const file of [ng, classic]) {
    const { stdout } = await run('tcpdump', ['-nn', '-r', file], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(stdout.trim().split('\n').length, 4631, file);
    const info = await run('capinfos', ['-c', '-M', file]);
    assert.match(info.stdout, /Number of packets:\s+4631\b/, file);
  }
  const precision = await run('capinfos', ['-t', '-M', classic]);
  assert.match(precision.stdout, /File type:\s+nsecpcap/);
});

test('pcapng keeps mixed link types (one IDB each); pcap refuses a second link type', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-writer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const eth = (await readAll(join(ppp, 'example.pcap'))).slice(0, 3);
  const sll = (await readAll(join(ppp, 'sll.pcap'))).slice(0, 2);
  const mixed = [eth[0]!, sll[0]!, eth[1]!, sll[1]!, eth[2]!];
  const ng = join(dir, 'mixed.pcapng');
  await writeAll(ng, mixed);
  const back = await readAll(ng);
  assert.deepEqual(back.map((p) => [p.linkType, p.interfaceId]), [[1, 0], [113, 1], [1, 0], [113, 1], [1, 0]]);
  const fields = await tsharkFields(ng);
  assert.equal(fields.trim().split('\n').length, 5);
  assert.match(fields, /sll/);

  const writer = new CaptureWriter({ path: join(dir, 'mixed.pcap') });
  t.after(() => writer.close().catch(() => undefined));
  await writer.start();
  writer.write(eth[0]!);
  assert.throws(() => writer.write(sll[0]!), (err: unknown) => err instanceof WirelabError && err.code === 'E_UNSUPPORTED');
});

test('an empty capture is still a valid file; a bad path is E_FILE', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-writer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const name of ['empty.pcap', 'empty.pcapng']) {
    await writeAll(join(dir, name), []);
    const info = await run('capinfos', ['-c', '-M', join(dir, name)]);
    assert.match(info.stdout, /Number of packets:\s+0\b/);
  }
  const writer = new CaptureWriter({ path: join(dir, 'no/such/dir/x.pcapng') });
  await assert.rejects(writer.start(), (err: unknown) => err instanceof WirelabError && err.code === 'E_FILE');
  await writer.close().catch(() => undefined);
});
