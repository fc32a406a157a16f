import { test } from 'node:test';
import assert from 'node:assert/strict';
import { broadcastTargets, directedBroadcast, intToIpv4, ipv4ToInt, isIpv4Multicast, parsePort, type Ipv4Interface } from '../../../src/common/net.js';
import { WirelabError } from '../../../src/common/errors.js';

test('directed broadcast addresses (RFC 919/922), none for /31 and /32 (RFC 3021)', () => {
  assert.equal(directedBroadcast('192.168.1.10', 24), '192.168.1.255');
  assert.equal(directedBroadcast('10.1.2.3', 8), '10.255.255.255');
  assert.equal(directedBroadcast('172.16.5.4', 20), '172.16.15.255');
  assert.equal(directedBroadcast('127.0.0.1', 8), '127.255.255.255');
  assert.equal(directedBroadcast('198.18.0.1', 0), '255.255.255.255');
  assert.equal(directedBroadcast('10.0.0.1', 31), undefined);
  assert.equal(directedBroadcast('10.0.0.1', 32), undefined);
  assert.equal(intToIpv4(ipv4ToInt('255.254.0.1')), '255.254.0.1');
  assert.throws(() => ipv4ToInt('1.2.3'), WirelabError);
});

test('broadcast targets skip loopback and duplicates', () => {
  const iface = (name: string, address: string, prefix: number, internal = false): Ipv4Interface => ({
    name, address, prefix, netmask: '', internal, broadcast: directedBroadcast(address, prefix),
  });
  assert.deepEqual(
    broadcastTargets([iface('lo', '127.0.0.1', 8, true), iface('eth0', '10.0.0.5', 24), iface('eth0', '10.0.0.6', 24), iface('wg0', '10.9.0.1', 32)]),
    ['10.0.0.255'],
  );
});

test('ports and multicast addresses are validated', () => {
  assert.equal(parsePort('0'), 0);
  assert.equal(parsePort('65535'), 65535);
  for (const bad of ['-1', '65536', '12a', '', '1.5']) assert.throws(() => parsePort(bad), /port must be/);
  assert.equal(isIpv4Multicast('239.1.2.3'), true);
  assert.equal(isIpv4Multicast('192.168.0.1'), false);
  assert.equal(isIpv4Multicast('::1'), false);
});
