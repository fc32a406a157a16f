/**
 * `analyze --read FILE --anomalies` scores every packet of a file, however small the packets: the
 * reader waits for the detector's worker instead of pushing past it (which skips packets). A 1 MiB
 * read holds about 18,000 of these 58-byte records, more than the worker's batch takes after it says
 * it is behind; the file is then read in chunks that never hold more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePcapFileHeader, encodePcapRecord, pcapRecordBytes } from '../../../src/capture/pcap.js';
import type { RawPacket } from '../../../src/capture/index.js';
import { runWirelab } from '../../helpers/process.js';

const PACKETS = 60_000;

/** Ethernet + IPv4 + UDP with no payload (42 bytes), from 10.0.0.1:5000+i%1000 to 10.0.0.2:53, 100 µs apart. */
function udpFrame(i: number): Buffer {
  const f = Buffer.alloc(42);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(28, 16);
  f[22] = 64;
  f[23] = 17;
  Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(f, 26);
  f.writeUInt16BE(5000 + (i % 1000), 34);
  f.writeUInt16BE(53, 36);
  f.writeUInt16BE(8, 38);
  return f;
}

test('--anomalies on a file of 60,000 tiny packets: every packet reaches the detector, none skipped', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-anomaly-file-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const packets: RawPacket[] = [];
  for (let i = 0; i < PACKETS; i++) {
    const data = udpFrame(i);
    const us = i * 100;
    packets.push({ index: i + 1, linkType: 1, tsSec: 1_700_000_000 + Math.floor(us / 1e6), tsNsec: (us % 1e6) * 1000, originalLength: data.length, data, interfaceId: 0 });
  }
  const body = Buffer.alloc(packets.reduce((n, p) => n + pcapRecordBytes(p), 0));
  let at = 0;
  for (const p of packets) at += encodePcapRecord(p, body, at);
  const file = join(dir, 'tiny.pcap');
  await writeFile(file, Buffer.concat([encodePcapFileHeader(1, 65535), body]));

  const result = await runWirelab(['analyze', '--read', file, '--anomalies', '--baseline', '1000', '--json'], { timeoutMs: 120_000 });
  assert.equal(result.code, 0, result.stderr);
  const summary = result.events.find((e) => e.event === 'anomaly-summary');
  assert.ok(summary, result.stdout.slice(-500));
  assert.equal(summary.skipped, 0, 'no packet skipped: the reader waited for the worker');
  assert.equal(summary.packets, PACKETS);
});
