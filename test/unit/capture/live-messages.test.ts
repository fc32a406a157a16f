import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDumpcapStats, parseTcpdumpStats, startFailure } from '../../../src/capture/live.js';

test("parseTcpdumpStats reads tcpdump's exit statistics (singular and plural)", () => {
  const stderr = [
    'tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
    '1 packet captured',
    '12 packets received by filter',
    '3 packets dropped by kernel',
    '',
  ].join('\n');
  assert.deepEqual(parseTcpdumpStats(stderr), { captured: 1, receivedByFilter: 12, droppedByKernel: 3 });
  assert.deepEqual(parseTcpdumpStats('tcpdump: listening on lo\n'), { captured: undefined, receivedByFilter: undefined, droppedByKernel: undefined });
});

test('startFailure turns tcpdump complaints into one clear coded line', () => {
  const permission = startFailure("tcpdump: lo: You don't have permission to perform this capture on that device\n(socket: Operation not permitted)\n", 'lo');
  assert.equal(permission.code, 'E_PERMISSION');
  assert.match(permission.message, /run as root/);
  const filter = startFailure("tcpdump: can't parse filter expression: syntax error\n", 'lo');
  assert.equal(filter.code, 'E_USAGE');
  const device = startFailure('tcpdump: nosuch0: No such device exists\n(No such device exists)\n', 'nosuch0');
  assert.equal(device.code, 'E_NETWORK');
  assert.match(device.message, /nosuch0.*No such device exists/);
  assert.equal(startFailure('', 'lo').message, 'capture on lo failed: exited without a message');
});

test("parseDumpcapStats reads dumpcap's exit statistics: captured, received, and libpcap's (kernel) drops", () => {
  const stderr = [
    "Capturing on 'Loopback: lo'",
    'File: -',
    'Packets captured: 1200',
    "Packets received/dropped on interface 'Loopback: lo': 1250/57 (pcap:50/dumpcap:7/flushed:0/ps_ifdrop:0) (95.4%)",
    '',
  ].join('\n');
  assert.deepEqual(parseDumpcapStats(stderr), { captured: 1200, receivedByFilter: 1250, droppedByKernel: 50 });
  assert.deepEqual(parseDumpcapStats("Capturing on 'lo'\n"), { captured: undefined, receivedByFilter: undefined, droppedByKernel: undefined });
  assert.equal(startFailure(`Capturing on 'lo'\ndumpcap: Invalid capture filter "udp and (" for interface 'lo'.\n`, 'lo').code, 'E_USAGE');
});
