/**
 * Application protocols named by port and payload agree with tshark: every packet we name HTTP, TLS,
 * SSDP, DHCP, NTP, QUIC, SSH or CDP is one in which tshark's dissectors (segment by segment: no
 * reassembly, no retransmission analysis) found that protocol, and every
 * TLS server name we read from a Client Hello is the one tshark reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { decodePacket, readCaptureFile, type PacketSummary } from '../../../src/capture/index.js';
import { repoRoot } from '../../helpers/process.js';

const ppp = resolve(repoRoot, 'test/fixtures/captures/pcapplusplus');
const NAMED = new Set(['HTTP', 'TLS', 'SSDP', 'DHCP', 'NTP', 'QUIC', 'SSH', 'CDP']);

async function ours(file: string): Promise<PacketSummary[]> {
  const out: PacketSummary[] = [];
  for await (const batch of readCaptureFile(file)) for (const raw of batch) out.push(decodePacket(raw));
  return out;
}

function tshark(file: string): Array<{ protocols: string[]; sni: string }> {
  const text = execFileSync('tshark', ['-n', '-r', file, '-o', 'tcp.desegment_tcp_streams:FALSE', '-o', 'tcp.analyze_sequence_numbers:FALSE', '-T', 'fields', '-e', 'frame.protocols', '-e', 'tls.handshake.extensions_server_name'], {
    encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'],
  });
  return text.split('\n').filter((l) => l !== '').map((l) => {
    const [protocols, sni] = l.split('\t');
    return { protocols: protocols!.split(':'), sni: sni ?? '' };
  });
}

for (const name of ['many-protocols.pcap', 'example.pcap', 'four_ipv6_http_streams.pcap']) {
  test(`application protocols agree with tshark on ${name}`, { timeout: 120_000 }, async () => {
    const file = join(ppp, name);
    const [mine, theirs] = [await ours(file), tshark(file)];
    assert.equal(mine.length, theirs.length);
    const counts = new Map<string, number>();
    for (const [i, s] of mine.entries()) {
      if (!NAMED.has(s.protocol)) continue;
      counts.set(s.protocol, (counts.get(s.protocol) ?? 0) + 1);
      assert.ok(theirs[i]!.protocols.includes(s.protocol.toLowerCase()), `frame ${i + 1}: we say ${s.protocol}, tshark ${theirs[i]!.protocols.join(':')}`);
      if (s.app?.sni !== undefined) assert.equal(s.app.sni, theirs[i]!.sni, `frame ${i + 1}: server name`);
    }
    assert.ok([...counts.values()].reduce((a, b) => a + b, 0) > 0, `${name}: some application protocol is named`);
  });
}
