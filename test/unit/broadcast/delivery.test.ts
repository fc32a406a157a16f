/** A master's per-message bookkeeping (issue 13.6, issue 14): bounded acks, node.py's echoes, the report line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingMessage, describeReport, echoes, originalReplyBody } from '../../../src/broadcast/delivery.js';

test('acknowledgements are counted once per node and address, up to the limit; the excess is counted', () => {
  const m = new PendingMessage(1, 'hi', ['198.18.0.255'], Buffer.from('hi'), 0n, 3);
  assert.ok(m.record('alpha', '127.0.0.1:5', false, 1_000_000n));
  assert.ok(m.record('beta', '127.0.0.1:5', false, 2_000_000n), 'two nodes sharing a port are two nodes');
  assert.equal(m.record('alpha', '127.0.0.1:5', false, 3_000_000n), undefined, 'a repeat');
  assert.ok(m.record('198.18.0.9:12345', '198.18.0.9:12345', true, 4_000_000n));
  assert.equal(m.record('gamma', '198.18.0.7:1', false, 5_000_000n), undefined);
  assert.equal(m.excess, 1);
  const r = m.report(2);
  assert.deepEqual([r.delivered, r.nodes, r.plainNodes, r.excessAcks, r.unrecognisedReplies, r.minMs, r.maxMs], [3, ['alpha', 'beta'], ['198.18.0.9:12345'], 1, 2, 1, 4]);
  assert.equal(describeReport(r), "message 1 delivered to 3 nodes (alpha, beta, 198.18.0.9:12345 plain); round trip min 1.00 / median 2.00 / max 4.00 ms; 1 more acknowledgement over the 4,096-node limit not counted; 2 replies neither acknowledgements nor 'I received:' answers");
});

test('percentiles only from 20 samples up; counts read right', () => {
  const m = new PendingMessage(7, 'hi', [], Buffer.from('hi'), 0n);
  assert.equal(describeReport(m.report(0)), 'message 7 delivered to 0 nodes');
  for (let i = 1; i <= 20; i++) m.record(`n${i}`, `10.0.0.${i}:1`, false, BigInt(i) * 1_000_000n);
  assert.equal(describeReport(m.report(0)), 'message 7 delivered to 20 nodes (n1, n10, n11, n12, n13, n14, n15, n16, n17, n18, n19, n2, and 8 more); round trip p50 10.00 / p99 20.00 / max 20.00 ms (20 samples)');
  const one = new PendingMessage(8, 'hi', [], Buffer.from('hi'), 0n);
  one.record('solo', '10.0.0.1:1', false, 500_000n);
  assert.equal(describeReport(one.report(1)), "message 8 delivered to 1 node (solo); round trip min 0.50 / median 0.50 / max 0.50 ms; 1 reply neither acknowledgements nor 'I received:' answers");
});

test("node.py's replies: the prefix, and an echo of the whole datagram or of the 1024 bytes it read", () => {
  assert.deepEqual(originalReplyBody(Buffer.from('I received: Hello, Nodes!')), Buffer.from('Hello, Nodes!'));
  assert.equal(originalReplyBody(Buffer.from('I received')), undefined);
  assert.equal(originalReplyBody(Buffer.from('what?')), undefined);
  const long = Buffer.alloc(1500, 0x61);
  assert.ok(echoes(long, long));
  assert.ok(echoes(long.subarray(0, 1024), long));
  assert.ok(!echoes(long.subarray(0, 1000), long));
  assert.ok(!echoes(Buffer.from('Hello'), Buffer.from('Hello, Nodes!')));
});
