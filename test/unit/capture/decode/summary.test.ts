import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket, formatSummary, summaryToJson } from '../../../../src/capture/decode/index.js';
import type { PacketSummary } from '../../../../src/capture/types.js';
import { ETH_IPV4, hex, ipv4Header, raw, TCP_SYN_WITH_OPTIONS, udpPacket } from './fixtures.js';

function summary(over: Partial<PacketSummary>): PacketSummary {
  return {
    index: 1, tsSec: 1_704_110_400, tsNsec: 123_456_789, type: 'IPv4', src: '10.0.0.1', dst: '10.0.0.2',
    sport: 1234, dport: 80, protocol: 'TCP', ipProto: 6, length: 60, tcpFlags: 2, flags: 'SYN', info: 'info', error: undefined,
    ...over,
  };
}

test('formatSummary: the seed line for IPv4 (UTC, microseconds)', () => {
  assert.equal(formatSummary(summary({})), 'IPv4 | 2024-01-01 12:00:00.123456 | 10.0.0.1:1234 -> 10.0.0.2:80 | TCP | 60 | SYN | info');
});

test('formatSummary: IPv6 endpoints in brackets, no ports without a transport, error appended', () => {
  const v6 = summary({ type: 'IPv6', src: '2001:db8::1', dst: '::1', tsNsec: 5_000, info: '', error: 'TCP: truncated' });
  assert.equal(formatSummary(v6), 'IPv6 | 2024-01-01 12:00:00.000005 | [2001:db8::1]:1234 -> [::1]:80 | TCP | 60 | SYN |  | error: TCP: truncated');
  const icmp = summary({ sport: undefined, dport: undefined, protocol: 'ICMP', ipProto: 1, flags: '', tsSec: 1_704_110_401 });
  assert.equal(formatSummary(icmp), 'IPv4 | 2024-01-01 12:00:01.123456 | 10.0.0.1 -> 10.0.0.2 | ICMP | 60 |  | info');
});

test('formatSummary: non-IP packets are marked as warnings', () => {
  const arp = summary({ type: 'ARP', protocol: 'ARP', ipProto: -1, src: '02:00:00:00:00:01', dst: 'ff:ff:ff:ff:ff:ff', sport: undefined, dport: undefined, flags: '', info: 'Who has 10.0.0.2? Tell 10.0.0.1' });
  assert.equal(formatSummary(arp), 'WARN non-IP ARP | 2024-01-01 12:00:00.123456 | 02:00:00:00:00:01 -> ff:ff:ff:ff:ff:ff | ARP | 60 |  | Who has 10.0.0.2? Tell 10.0.0.1');
  const unknown = summary({ type: 'NETLINK', protocol: 'NETLINK', ipProto: -1, src: undefined, dst: undefined, sport: undefined, dport: undefined });
  assert.match(formatSummary(unknown), /^WARN non-IP NETLINK \| .* \| \? -> \? \| NETLINK/);
});

test('formatSummary: the cached second changes with the packet time, backwards too', () => {
  const lines = [0, 1, 0, 86_400].map((d) => formatSummary(summary({ tsSec: 1_704_110_400 + d })).slice(7, 26));
  assert.deepEqual(lines, ['2024-01-01 12:00:00', '2024-01-01 12:00:01', '2024-01-01 12:00:00', '2024-01-02 12:00:00']);
});

test('summaryToJson: fields, nanosecond time string, nulls, info and error only when present', () => {
  const s = decodePacket(raw(1, Buffer.concat([hex(ETH_IPV4 + ipv4Header(6, 40)), hex(TCP_SYN_WITH_OPTIONS)])));
  assert.deepEqual(summaryToJson(s), {
    type: 'IPv4', time: '1700000000.123456789', src: '10.0.0.1', dst: '10.0.0.2', sport: 1234, dport: 80,
    protocol: 'TCP', length: 74, flags: 'SYN', info: 'Len=0',
  });
  const cut = decodePacket({ ...raw(1, udpPacket(1, 2, Buffer.alloc(0)).subarray(0, 30)), tsNsec: 7 });
  const json = summaryToJson(cut);
  assert.equal(json.time, '1700000000.000000007');
  assert.equal(json.sport, null);
  assert.match(String(json.error), /IPv4: truncated/);
  assert.equal('info' in json, false);
});
