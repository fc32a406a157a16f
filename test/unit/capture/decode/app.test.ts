/**
 * Application protocols by port and payload: each recognised from a hand-built payload, and seeded
 * fuzzing (random bytes, and every valid payload cut at every byte) never throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchTcpApp, matchUdpApp } from '../../../../src/capture/decode/app.js';
import { decodePacket } from '../../../../src/capture/decode/index.js';
import { mulberry32 } from '../../../helpers/random.js';
import { raw, udpPacket } from './fixtures.js';

function chatRecord(header: string, payload: string): Buffer {
  const h = Buffer.from(header);
  const p = Buffer.from(payload);
  const out = Buffer.alloc(2 + h.length + 4 + p.length);
  out.writeUInt16BE(h.length, 0);
  h.copy(out, 2);
  out.writeUInt32BE(p.length, 2 + h.length);
  p.copy(out, 6 + h.length);
  return out;
}

function gossipFrame(text: string): Buffer {
  const body = Buffer.from(text);
  return Buffer.concat([Buffer.from([0, 0, body.length >> 8, body.length & 0xff]), body]);
}

/** A Client Hello with one extension, server_name = `name` (RFC 8446 4.1.2, RFC 6066 3). */
function clientHello(name: string): Buffer {
  const n = Buffer.from(name);
  const sni = Buffer.concat([Buffer.from([0, 0]), u16(n.length + 5), u16(n.length + 3), Buffer.from([0]), u16(n.length), n]);
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32), Buffer.from([0]), u16(2), Buffer.from([0x13, 0x01]), Buffer.from([1, 0]), u16(sni.length), sni]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([22, 3, 1]), u16(hs.length), hs]);
}

function u16(v: number): Buffer {
  return Buffer.from([v >> 8, v & 0xff]);
}

function dhcpDiscover(): Buffer {
  const b = Buffer.alloc(244);
  b[0] = 1;
  b.writeUInt32BE(0x1234abcd, 4);
  b.writeUInt32BE(0x63825363, 236);
  b.set([53, 1, 1, 255], 240);
  return b;
}

const TCP_CASES: Array<[number, Buffer, string, string, Record<string, string | number> | undefined]> = [
  [80, Buffer.from('GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n'), 'HTTP', 'GET /index.html HTTP/1.1', { method: 'GET', uri: '/index.html', host: 'example.com' }],
  [8080, Buffer.from('HTTP/1.1 404 Not Found\r\n\r\n'), 'HTTP', 'HTTP/1.1 404 Not Found', { status: 404 }],
  [443, clientHello('example.org'), 'TLS', 'Client Hello (SNI=example.org)', { sni: 'example.org' }],
  [443, Buffer.from([23, 3, 3, 0, 2, 1, 2]), 'TLS', 'Application Data', undefined],
  [22, Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), 'SSH', 'Protocol (SSH-2.0-OpenSSH_9.2)', { banner: 'SSH-2.0-OpenSSH_9.2' }],
  [10000, chatRecord('msg', 'hello'), 'wirelab-chat', 'msg, 5 bytes', { type: 'msg', length: 5 }],
  [10000, chatRecord('quiz_answer', '42'), 'wirelab-chat', 'quiz_answer, 2 bytes', { type: 'quiz_answer', length: 2 }],
  [40123, gossipFrame('hello:10.0.0.1:7001:3'), 'wirelab-gossip', 'hello, 21 bytes', { type: 'hello', length: 21 }],
  [40123, gossipFrame('peer list'), 'wirelab-gossip', 'peer-list-request, 9 bytes', { type: 'peer-list-request', length: 9 }],
  [40123, gossipFrame('id query:10.0.0.9:7100'), 'wirelab-gossip', 'id-query, 22 bytes', { type: 'id-query', length: 22 }],
  [40123, gossipFrame('id:4:7:5'), 'wirelab-gossip', 'id-answer, 8 bytes', { type: 'id-answer', length: 8 }],
  [40123, gossipFrame('report noted:10.0.0.9:7100'), 'wirelab-gossip', 'report-noted, 26 bytes', { type: 'report-noted', length: 26 }],
  [40123, clientHello('a.test'), 'TLS', 'Client Hello (SNI=a.test)', { sni: 'a.test' }],
];

const UDP_CASES: Array<[number, Buffer, string, string]> = [
  [67, dhcpDiscover(), 'DHCP', 'DHCP Discover - Transaction ID 0x1234abcd'],
  [123, Buffer.concat([Buffer.from([0x23]), Buffer.alloc(47)]), 'NTP', 'NTP Version 4, client'],
  [1900, Buffer.from('NOTIFY * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\n'), 'SSDP', 'NOTIFY * HTTP/1.1'],
  [443, Buffer.concat([Buffer.from([0xc3, 0, 0, 0, 1]), Buffer.alloc(40)]), 'QUIC', 'Initial, version 0x00000001'],
];

test('TCP application protocols by port and payload', () => {
  for (const [port, payload, name, info, fields] of TCP_CASES) {
    const m = matchTcpApp(50000, port, payload, 0, payload.length);
    assert.deepEqual([m?.name, m?.info, m?.fields], [name, info, fields], `${name} on ${port}`);
  }
  // not every payload on a port is that protocol; off the known ports only clear signatures count
  assert.equal(matchTcpApp(50000, 80, Buffer.from('\x00\x01binary'), 0, 8), undefined);
  assert.equal(matchTcpApp(50000, 40000, Buffer.from([23, 3, 3, 0, 2, 1, 2]), 0, 7), undefined);
  assert.equal(matchTcpApp(50000, 10000, chatRecord('nope', 'x'), 0, 11), undefined);
});

test('UDP application protocols; decodePacket carries them into the summary', () => {
  for (const [port, payload, name, info] of UDP_CASES) {
    const m = matchUdpApp(50000, port, payload, 0, payload.length);
    assert.deepEqual([m?.name, m?.info], [name, info], `${name} on ${port}`);
  }
  const s = decodePacket(raw(1, udpPacket(68, 67, dhcpDiscover())));
  assert.deepEqual([s.protocol, s.info, s.app], ['DHCP', 'DHCP Discover - Transaction ID 0x1234abcd', { type: 'Discover', xid: '0x1234abcd' }]);
});

test('fuzz: random payloads and every valid payload cut at every byte never throw', () => {
  const rand = mulberry32(0xa77);
  const ports = [22, 80, 443, 10000, 40000, 67, 68, 123, 1900];
  for (let i = 0; i < 50_000; i++) {
    const b = Buffer.alloc(Math.floor(rand() * 300));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
    if (b.length > 0 && rand() < 0.3) b[0] = [22, 23, 0, 0x47][Math.floor(rand() * 4)]!;
    const port = ports[i % ports.length]!;
    matchTcpApp(port, 50000, b, 0, b.length);
    matchUdpApp(port, 50000, b, 0, b.length);
  }
  for (const [port, payload] of [...TCP_CASES, ...UDP_CASES]) {
    for (let cut = 0; cut <= payload.length; cut++) {
      const view = Buffer.concat([Buffer.alloc(3, 0xee), payload.subarray(0, cut), Buffer.alloc(3, 0xee)]);
      matchTcpApp(50000, port, view, 3, 3 + cut);
      matchUdpApp(50000, port, view, 3, 3 + cut);
    }
  }
});
