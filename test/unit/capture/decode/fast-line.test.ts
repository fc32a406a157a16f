/**
 * The fast line writer writes exactly the line decodePacket + PacketLineFormatter would (and the
 * NDJSON line packetJsonLine would), for every
 * packet it takes: over every fixture capture, and over seeded mutations of Ethernet/IPv4/TCP/UDP
 * frames (bits flipped, bytes overwritten, tails cut), in UTC and local time, verbose or not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePacket, FAST_LINE_MAX_BYTES, FastLineWriter, packetJsonLine, PacketLineFormatter } from '../../../../src/capture/decode/index.js';
import { readCaptureFile } from '../../../../src/capture/index.js';
import type { RawPacket } from '../../../../src/capture/types.js';
import { mulberry32 } from '../../../helpers/random.js';
import { ETH_IPV4, hex, ipv4Header, TCP_SYN_WITH_OPTIONS, udpPacket } from './fixtures.js';

const captures = resolve(fileURLToPath(new URL('../../../fixtures/captures', import.meta.url)));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : /\.(pcap|pcapng|cap)$/.test(n) ? [join(dir, n)] : []));
}

/** Ethernet/IPv4/TCP (PSH,ACK, no options) to `dport` carrying `payload`. */
function tcpWith(dport: number, payload: Buffer): Buffer {
  const tcp = Buffer.from('9c40' + dport.toString(16).padStart(4, '0') + '0000000100000001' + '5018' + 'faf0' + '00000000', 'hex');
  return Buffer.concat([hex(ETH_IPV4 + ipv4Header(6, 20 + payload.length)), tcp, payload]);
}

/** Feed packets through both paths with shared formatters; returns how many the fast path took. */
function compare(packets: Iterable<RawPacket>, what: string): number {
  let taken = 0;
  const out = Buffer.alloc(2 * FAST_LINE_MAX_BYTES);
  for (const options of [{ utc: true }, { utc: false, verbose: true }]) {
    const lines = new PacketLineFormatter(options);
    const fast = new FastLineWriter(lines);
    for (const raw of packets) {
      const end = fast.write(out, 0, raw.data, 0, raw.data.length, raw.originalLength, raw.tsSec, raw.tsNsec, raw.linkType, raw.index);
      const summary = decodePacket(raw);
      const expected = lines.format(summary) + '\n';
      const jsonEnd = fast.writeJson(out, FAST_LINE_MAX_BYTES, raw.data, 0, raw.data.length, raw.originalLength, raw.tsSec, raw.tsNsec, raw.linkType, raw.index);
      // JSON takes what the human lines take, or less (an application's text must fit both)
      assert.ok(jsonEnd < 0 || end >= 0, `${what} #${raw.index}: a JSON line taken, the human one not`);
      if (jsonEnd >= 0) assert.equal(out.toString('utf8', FAST_LINE_MAX_BYTES, jsonEnd), packetJsonLine(summary) + '\n', `${what} #${raw.index} (JSON)`);
      if (end < 0) continue;
      taken++;
      assert.equal(out.toString('utf8', 0, end), expected, `${what} #${raw.index}`);
    }
  }
  return taken;
}

test('fast lines equal the full decoder\'s on every fixture capture', async () => {
  let taken = 0;
  let total = 0;
  for (const file of files(captures)) {
    const packets: RawPacket[] = [];
    for await (const batch of readCaptureFile(file)) packets.push(...batch);
    total += packets.length * 2;
    taken += compare(packets, file);
  }
  assert.ok(taken > total / 3, `the fast path takes most plain packets (${taken} of ${total})`);
});

test('fast lines equal the full decoder\'s on mutated Ethernet/IPv4/TCP/UDP frames', () => {
  const rand = mulberry32(0xfa57);
  const seeds = [
    Buffer.concat([hex(ETH_IPV4 + ipv4Header(6, 40)), hex(TCP_SYN_WITH_OPTIONS)]),
    udpPacket(40000, 9999, Buffer.from('some payload')),
    udpPacket(40000, 53, Buffer.alloc(12)),
    udpPacket(1, 2, Buffer.alloc(0)),
    tcpWith(80, Buffer.from('GET /caf\xe9\x1b[2J?q=\x85 HTTP/1.1\r\nHost: example.com\r\n\r\n', 'latin1')),
    tcpWith(443, Buffer.from('170303000401020304', 'hex')),
  ];
  const packets: RawPacket[] = [];
  for (let i = 0; i < 40_000; i++) {
    const b = Buffer.from(seeds[i % seeds.length]!);
    const flips = Math.floor(rand() * 3);
    for (let f = 0; f < flips; f++) {
      const at = 12 + Math.floor(rand() * (b.length - 12));
      b[at] = rand() < 0.5 ? b[at]! ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
    }
    const data = rand() < 0.2 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
    packets.push({ index: i + 1, linkType: 1, tsSec: 1_700_000_000 + Math.floor(i / 7), tsNsec: Math.floor(rand() * 1e9), originalLength: data.length + Math.floor(rand() * 3), data, interfaceId: 0 });
  }
  assert.ok(compare(packets, 'mutation') > 10_000);
});
