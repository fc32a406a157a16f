/** A TrafficView: the analyzer's statistics and flow table over one filter, with live flows (FlowTable.peek). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PacketSummary } from '../../../src/capture/index.js';
import { TrafficView } from '../../../src/dashboard/view.js';
import { PacketFilter } from '../../../src/dashboard/filter.js';

const SYN = 0x02;
const ACK = 0x10;

function tcp(i: number, src: string, sport: number, dst: string, dport: number, flags: number): PacketSummary {
  return { index: i, tsSec: 1_700_000_000, tsNsec: i * 1000, type: 'IPv4', src, dst, sport, dport, protocol: 'TCP', ipProto: 6, length: 60, tcpFlags: flags, flags: '', info: '' };
}

test('flows still open are listed as they stand (conn_state so far), newest first, without ending or counting them', () => {
  const view = new TrafficView(new PacketFilter({ protocol: 'tcp' }));
  view.add(0, tcp(1, '10.0.0.1', 40000, '10.0.0.2', 80, SYN));
  view.add(1, tcp(2, '10.0.0.2', 80, '10.0.0.1', 40000, SYN | ACK));
  view.add(2, tcp(3, '10.0.0.1', 40000, '10.0.0.2', 80, ACK));
  view.add(3, tcp(4, '10.0.0.3', 40001, '10.0.0.2', 443, SYN));
  const first = view.flowRows(10);
  assert.deepEqual(first.active.map((f) => [f.src, f.dport, f.connState, f.ended]), [
    ['10.0.0.3', 443, 'S0', false],
    ['10.0.0.1', 80, 'S1', false],
  ]);
  assert.deepEqual(first.finished, []);
  assert.equal(view.flowRows(1).active.length, 1);
  assert.deepEqual(view.flowRows(10).stats, { ...first.stats }, 'peeking moves no counter');
  assert.equal(first.stats.finished, 0);
  view.endFlows();
  const after = view.flowRows(10);
  assert.deepEqual(after.active, []);
  assert.deepEqual(after.finished.map((f) => [f.connState, f.ended]), [['S0', true], ['S1', true]]);
  assert.deepEqual(view.packetsAfter(1, 10).map((p) => p.seq), [2, 3]);
  assert.deepEqual(view.packetsAfter(-1, 2).map((p) => p.seq), [2, 3], 'the newest, oldest first');
});
