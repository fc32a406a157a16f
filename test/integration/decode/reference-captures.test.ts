/**
 * Correctness against the reference: every packet of the shared sample captures decoded by us and by
 * tshark, compared field by field (src, dst, ports, IP protocol, length, TCP flags, DNS name).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeLayers } from '../../../src/capture/decode/index.js';
import { repoRoot } from '../../helpers/process.js';
import { readPcap } from './read-pcap.js';
import { compareWithTshark, tsharkRows } from './tshark.js';

const captures = resolve(repoRoot, 'test/fixtures/captures/pcapplusplus');

const FILES = [
  'example.pcap', 'many-protocols.pcap', 'DnsPackets.pcap', 'sll.pcap', 'sll2.pcap', 'raw_ip.pcap',
  'four_ipv6_http_streams.pcap', 'null_loopback.pcap', 'linktype_ipv4.pcap', 'linktype_ipv6.pcap',
  'ArpRequestPacket.pcap', 'ArpResponsePacket.pcap', 'ICMPv6_echos.cap', 'nanosecs.pcap',
  'nanosecs_big_endian.pcap', 'microsecs_big_endian.pcap',
];

function assertAgreement(t: test.TestContext, file: string, label = file): void {
  const packets = readPcap(file).map((p) => decodeLayers(p));
  const c = compareWithTshark(packets, tsharkRows(file));
  const rate = (100 * c.agreed) / c.compared;
  t.diagnostic(`${label}: ${packets.length} packets, ${c.agreed}/${c.compared} fields agree (${rate.toFixed(3)}%)${c.deliberate.size ? `, deliberate: ${JSON.stringify([...c.deliberate])}` : ''}`);
  assert.deepEqual(c.mismatches.filter((m) => m !== ''), [], `${label}: ${c.compared - c.agreed} fields differ`);
  assert.equal(c.agreed, c.compared);
  assert.ok(packets.length > 0);
  assert.equal(packets.filter((p) => p.summary.error !== undefined).length, 0, `${label}: no decoding errors on real captures`);
}

for (const name of FILES) {
  test(`agrees with tshark on ${name}`, { timeout: 120_000 }, (t) => {
    assertAgreement(t, join(captures, name), name);
  });
}

test('agrees with tshark on ipv6.pcapng (converted to pcap with editcap)', { timeout: 120_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-decode-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pcap = join(dir, 'ipv6.pcap');
  execFileSync('editcap', ['-F', 'pcap', join(captures, 'ipv6.pcapng'), pcap], { timeout: 60_000, stdio: 'ignore' });
  assertAgreement(t, pcap, 'ipv6.pcapng');
});
