import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket, escapeControl, formatSummary, jsonTime, packetJsonLine, PacketLineFormatter, summaryToJson, timeOfDay } from '../../../../src/capture/decode/index.js';
import type { PacketSummary } from '../../../../src/capture/types.js';
import { ETH_IPV4, hex, ipv4Header, raw, TCP_SYN_WITH_OPTIONS, udpPacket } from './fixtures.js';

function summary(over: Partial<PacketSummary>): PacketSummary {
  return {
    index: 1, tsSec: 1_704_110_400, tsNsec: 123_456_789, type: 'IPv4', src: '10.0.0.1', dst: '10.0.0.2',
    sport: 1234, dport: 80, protocol: 'TCP', ipProto: 6, length: 60, tcpFlags: 2, flags: 'SYN', info: 'info', error: undefined,
    ...over,
  };
}

test('formatSummary: frame, UTC time with microseconds, aligned endpoints, protocol, length, [flags], info', () => {
  assert.equal(formatSummary(summary({})), '     1 12:00:00.123456 10.0.0.1:1234         -> 10.0.0.2:80           TCP       60 [SYN] info');
});

test('formatSummary: IPv6 endpoints in brackets; no ports without a transport; error in brackets; no flags, no brackets', () => {
  const v6 = summary({ type: 'IPv6', src: '2001:db8::1', dst: '::1', tsNsec: 5_000, info: '', error: 'TCP: truncated' });
  assert.equal(new PacketLineFormatter({ utc: true }).format(v6), '     1 12:00:00.000005 [2001:db8::1]:1234    -> [::1]:80              TCP       60 [SYN] [error: TCP: truncated]');
  const icmp = summary({ index: 123456, sport: undefined, dport: undefined, protocol: 'ICMP', ipProto: 1, flags: '', tsSec: 1_704_110_401 });
  assert.equal(formatSummary(icmp), '123456 12:00:01.123456 10.0.0.1              -> 10.0.0.2              ICMP      60 info');
});

test('PacketLineFormatter: IPv6 columns grow to the widest seen and stay; IPv4 lines keep their width', () => {
  const f = new PacketLineFormatter({ utc: true });
  const long = summary({ type: 'IPv6', src: '2001:db8:1111:2222:3333:4444:5555:6666', dst: '::1' });
  const short = summary({ type: 'IPv6', src: '::2', dst: '::1' });
  const a = f.format(long);
  const b = f.format(short);
  assert.equal(a.indexOf(' -> '), b.indexOf(' -> '));
  assert.equal(f.format(summary({})), formatSummary(summary({})));
});

test('non-IP packets: MAC addresses, no warning prefix; control characters in wire text escaped', () => {
  const arp = summary({ type: 'ARP', protocol: 'ARP', ipProto: -1, src: '02:00:00:00:00:01', dst: 'ff:ff:ff:ff:ff:ff', sport: undefined, dport: undefined, flags: '', info: 'Who has 10.0.0.2? Tell 10.0.0.1' });
  assert.equal(formatSummary(arp), '     1 12:00:00.123456 02:00:00:00:00:01     -> ff:ff:ff:ff:ff:ff     ARP       60 Who has 10.0.0.2? Tell 10.0.0.1');
  assert.match(formatSummary(summary({ info: 'GET /\x1b[2J\r\n' })), /GET \/\\x1b\[2J\\x0d\\x0a$/);
  assert.equal(escapeControl('tab\tok \x7f\x9b'), 'tab\tok \\x7f\\x9b');
});

test('times: local time honours TZ, the cached second changes backwards too, any timestamp prints, none prints blank', () => {
  const lines = [0, 1, 0, 86_399].map((d) => formatSummary(summary({ tsSec: 1_704_110_400 + d })).slice(7, 15));
  assert.deepEqual(lines, ['12:00:00', '12:00:01', '12:00:00', '11:59:59']);
  // year 586524 (pcapng-example.pcapng): past a Date's range, plain arithmetic in UTC
  assert.equal(timeOfDay(18446744073204, false), '07:53:24');
  assert.equal(timeOfDay(-1, true), '23:59:59');
  const d = new Date(1_704_110_400_000);
  const local = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  assert.equal(timeOfDay(1_704_110_400, false), local);
  assert.equal(formatSummary(summary({ tsSec: Number.NaN })).slice(0, 23), '     1                 ');
});

test('JSON: time a number with microseconds (null without), frame, TCP seq/ack/window; the line parses to summaryToJson', () => {
  const s = decodePacket(raw(1, Buffer.concat([hex(ETH_IPV4 + ipv4Header(6, 40)), hex(TCP_SYN_WITH_OPTIONS)])));
  const json = summaryToJson(s);
  assert.deepEqual({ ...json, seq: undefined, window: undefined }, {
    frame: 1, type: 'IPv4', time: 1700000000.123456, src: '10.0.0.1', dst: '10.0.0.2', sport: 1234, dport: 80,
    protocol: 'TCP', length: 74, flags: 'SYN', info: 'Len=0', seq: undefined, ack: 0, window: undefined,
  });
  assert.ok(typeof json.seq === 'number' && typeof json.window === 'number');
  assert.deepEqual(JSON.parse(packetJsonLine(s)), { event: 'packet', ...json });
  const cut = decodePacket({ ...raw(1, udpPacket(1, 2, Buffer.alloc(0)).subarray(0, 30)), tsNsec: 7 });
  const cutJson = summaryToJson(cut);
  assert.equal(cutJson.time, 1700000000);
  assert.equal(cutJson.sport, null);
  assert.match(String(cutJson.error), /IPv4: truncated/);
  assert.equal('info' in cutJson, false);
  assert.equal(jsonTime(Number.NaN, 0), 'null');
  assert.equal(jsonTime(-2, 500_000_000), '-1.500000');
  assert.equal(summaryToJson({ ...s, tsSec: Number.NaN }).time, null);
});
