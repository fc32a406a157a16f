/** The dashboard's pure parts: the packet history's byte ring, and the view filters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PacketSummary, RawPacket } from '../../../src/capture/index.js';
import { PacketStore } from '../../../src/dashboard/packet-store.js';
import { PacketFilter } from '../../../src/dashboard/filter.js';
import { WirelabError } from '../../../src/common/errors.js';
import { mulberry32 } from '../../helpers/random.js';

function packet(i: number, length: number): { raw: RawPacket; summary: PacketSummary } {
  const data = Buffer.alloc(length, i & 0xff);
  const raw: RawPacket = { index: i + 1, linkType: 1, tsSec: 1_700_000_000 + i, tsNsec: i, originalLength: length + 10, data, interfaceId: 0 };
  const summary = { index: i + 1, protocol: i % 2 === 0 ? 'UDP' : 'TCP' } as PacketSummary;
  return { raw, summary };
}

test('PacketStore keeps the newest packets within its count and byte limits, bytes intact, whatever the sizes', () => {
  const rand = mulberry32(3);
  for (const [maxPackets, capacity] of [[50, 10_000], [1000, 4096], [7, 1 << 20]] as const) {
    const store = new PacketStore(maxPackets, capacity);
    const sizes: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const length = Math.floor(rand() * 1500);
      sizes.push(length);
      const { raw, summary } = packet(i, length);
      store.add(i, raw, summary);
      assert.ok(store.size <= maxPackets && store.heldBytes <= capacity);
      assert.equal(store.size + store.dropped, i + 1);
    }
    const held = [...store.packets(() => true)];
    assert.equal(held.length, store.size);
    held.forEach((p, k) => {
      const seq = 2000 - held.length + k; // the newest, in order
      assert.equal(p.index, seq + 1);
      assert.equal(p.data.length, sizes[seq]);
      assert.ok(p.data.every((b) => b === (seq & 0xff)), `packet ${seq}'s bytes were not overwritten`);
      assert.equal(p.originalLength, sizes[seq]! + 10);
    });
    assert.equal(store.heldBytes, held.reduce((n, p) => n + p.data.length, 0));
  }
  const big = new PacketStore(10, 100);
  big.add(0, packet(0, 500).raw, packet(0, 500).summary);
  assert.equal([...big.packets(() => true)][0]!.data.length, 100, 'a packet larger than the ring keeps its first bytes');
  const tcp = [...new PacketStore(10, 1000).packets((s) => s.protocol === 'TCP')];
  assert.deepEqual(tcp, []);
});

test('PacketFilter: addresses and CIDR blocks (IPv4, IPv6), protocols by name or transport, bad input as E_USAGE', () => {
  const p = (src: string | undefined, dst: string | undefined, protocol: string, ipProto: number) => ({ src, dst, protocol, ipProto }) as PacketSummary;
  const net = PacketFilter.parse({ src: '10.1.0.0/16', protocol: 'udp' });
  assert.equal(net.key, 'src=10.1.0.0%2F16&protocol=udp');
  assert.ok(net.matches(p('10.1.200.3', '1.1.1.1', 'DNS', 17)), 'udp takes DNS');
  assert.ok(!net.matches(p('10.2.0.1', '1.1.1.1', 'UDP', 17)));
  assert.ok(!net.matches(p('10.1.0.1', '1.1.1.1', 'TCP', 6)));
  assert.ok(!net.matches(p('02:00:00:00:00:01', undefined, 'ARP', -1)), 'a MAC address is in no block');
  assert.ok(PacketFilter.parse({ dst: '0.0.0.0/0' }).matches(p(undefined, '255.255.255.255', 'UDP', 17)));
  const v6 = PacketFilter.parse({ dst: '2001:db8::/32' });
  assert.ok(v6.matches(p('::1', '2001:db8:1::5', 'TCP', 6)));
  assert.ok(!v6.matches(p('::1', '2001:db9::5', 'TCP', 6)));
  assert.ok(!v6.matches(p('::1', '10.0.0.1', 'TCP', 6)));
  assert.ok(PacketFilter.parse({ src: '192.168.1.7' }).matches(p('192.168.1.7', undefined, 'ICMP', 1)));
  assert.ok(!PacketFilter.parse({ src: '192.168.1.7' }).matches(p('192.168.1.8', undefined, 'ICMP', 1)));
  assert.ok(new PacketFilter({ protocol: '  ' }).empty);
  for (const bad of [{ src: '10.0.0.256' }, { src: '10.0.0.0/33' }, { dst: 'fe80::/129' }, { src: '10.0.0.0/-1' }, { src: 'x'.repeat(65) }, { protocol: 5 }, 'nope', { src: '1.2.3.4/8/1' }]) {
    assert.throws(() => PacketFilter.parse(bad), (e: unknown) => e instanceof WirelabError && e.code === 'E_USAGE', JSON.stringify(bad));
  }
});

test('PacketFilter.parse of seeded random input: a filter or E_USAGE, nothing else', () => {
  const rand = mulberry32(11);
  const alphabet = '0123456789abcdef.:/ x-%\u0000\u202e<>';
  const text = (): string => Array.from({ length: Math.floor(rand() * 40) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
  for (let i = 0; i < 5000; i++) {
    const input = rand() < 0.1 ? text() : { src: rand() < 0.5 ? text() : undefined, dst: rand() < 0.5 ? text() : undefined, protocol: rand() < 0.5 ? text() : 7 };
    try {
      const f = PacketFilter.parse(input);
      f.matches({ src: text(), dst: '10.0.0.1', protocol: 'UDP', ipProto: 17 } as PacketSummary);
    } catch (e) {
      assert.ok(e instanceof WirelabError && e.code === 'E_USAGE', String(e));
    }
  }
});
