import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowTable, connState, flowKey, type FlowRecord } from '../../../src/analysis/index.js';
import { WirelabError } from '../../../src/common/errors.js';
import { ACK, FIN, PSH, RST, SYN, packet, type PacketSpec } from './packets.js';

const T0 = 1_700_000_000;
const C = { src: '10.0.0.1', sport: 40000, dst: '10.0.0.2', dport: 80 };
const S = { src: '10.0.0.2', sport: 80, dst: '10.0.0.1', dport: 40000 };

function run(table: FlowTable, specs: PacketSpec[]): FlowRecord[] {
  const done: FlowRecord[] = [];
  for (const spec of specs) done.push(...table.push(packet(spec)));
  return done;
}

test('both directions share one key', () => {
  assert.equal(flowKey(packet({ ...C })), flowKey(packet({ ...S })));
  assert.notEqual(flowKey(packet({ ...C })), flowKey(packet({ ...C, sport: 40001 })));
  assert.notEqual(flowKey(packet({ ...C, ipProto: 6 })), flowKey(packet({ ...C, ipProto: 17 })));
});

test('a full TCP connection is one SF flow, counted each way, ended after the close linger', () => {
  const table = new FlowTable({ closeLinger: 2 });
  const early = run(table, [
    { ...C, t: T0, tcpFlags: SYN, length: 74 },
    { ...S, t: T0 + 0.01, tcpFlags: SYN | ACK, length: 74 },
    { ...C, t: T0 + 0.02, tcpFlags: ACK, length: 66 },
    { ...C, t: T0 + 0.03, tcpFlags: PSH | ACK, length: 300 },
    { ...S, t: T0 + 0.04, tcpFlags: PSH | ACK, length: 1500 },
    { ...C, t: T0 + 0.05, tcpFlags: FIN | ACK, length: 66 },
    { ...S, t: T0 + 0.06, tcpFlags: FIN | ACK, length: 66 },
    { ...C, t: T0 + 0.07, tcpFlags: ACK, length: 66 }, // the last ACK, after both FINs: same flow
  ]);
  assert.deepEqual(early, []);
  assert.equal(table.size, 1);
  const done = run(table, [{ src: '10.9.9.9', dst: '10.9.9.8', t: T0 + 3, protocol: 'UDP', ipProto: 17 }]);
  assert.equal(done.length, 1);
  const f = done[0]!;
  assert.equal(f.connState, 'SF');
  assert.equal(f.endReason, 'closed');
  assert.deepEqual([f.src, f.sport, f.dst, f.dport], ['10.0.0.1', 40000, '10.0.0.2', 80]);
  assert.deepEqual(
    [f.origPackets, f.origBytes, f.respPackets, f.respBytes],
    [5, 74 + 66 + 300 + 66 + 66, 3, 74 + 1500 + 66],
  );
  assert.ok(Math.abs(f.duration - 0.07) < 1e-6);
  assert.equal(f.synWithoutAck, false);
});

test('conn_state follows Zeek for attempts, rejections and resets', () => {
  const cases: [string, PacketSpec[]][] = [
    ['S0', [{ ...C, tcpFlags: SYN }]],
    [
      'REJ',
      [
        { ...C, tcpFlags: SYN },
        { ...S, tcpFlags: RST | ACK },
      ],
    ],
    [
      'RSTOS0',
      [
        { ...C, tcpFlags: SYN },
        { ...C, tcpFlags: RST },
      ],
    ],
    [
      'SH',
      [
        { ...C, tcpFlags: SYN },
        { ...C, tcpFlags: FIN },
      ],
    ],
    [
      'S1',
      [
        { ...C, tcpFlags: SYN },
        { ...S, tcpFlags: SYN | ACK },
        { ...C, tcpFlags: ACK },
      ],
    ],
    [
      'RSTO',
      [
        { ...C, tcpFlags: SYN },
        { ...S, tcpFlags: SYN | ACK },
        { ...C, tcpFlags: RST | ACK },
      ],
    ],
    [
      'RSTR',
      [
        { ...C, tcpFlags: SYN },
        { ...S, tcpFlags: SYN | ACK },
        { ...S, tcpFlags: RST },
      ],
    ],
    [
      'S2',
      [
        { ...C, tcpFlags: SYN },
        { ...S, tcpFlags: SYN | ACK },
        { ...C, tcpFlags: FIN | ACK },
      ],
    ],
    [
      'S3',
      [
        { ...C, tcpFlags: SYN },
        { ...S, tcpFlags: SYN | ACK },
        { ...S, tcpFlags: FIN | ACK },
      ],
    ],
    [
      'OTH',
      [
        { ...C, tcpFlags: ACK },
        { ...S, tcpFlags: ACK },
      ],
    ],
  ];
  for (const [state, specs] of cases) {
    const table = new FlowTable();
    run(
      table,
      specs.map((s, i) => ({ ...s, t: T0 + i * 0.01 })),
    );
    const [f] = table.flush();
    assert.equal(f!.connState, state, `${state}: got ${f!.connState}`);
  }
  assert.equal(connState(17, 0, 0), 'S0');
  assert.equal(connState(17, 0, 1), 'SF');
});

test('a SYN-ACK seen first makes its destination the originator', () => {
  const table = new FlowTable();
  run(table, [
    { ...S, t: T0, tcpFlags: SYN | ACK },
    { ...C, t: T0 + 0.01, tcpFlags: ACK },
  ]);
  const [f] = table.flush();
  assert.deepEqual([f!.src, f!.dport, f!.origPackets, f!.respPackets], ['10.0.0.1', 80, 1, 1]);
  assert.equal(f!.connState, 'OTH');
});

test('idle flows end after their timeout: datagrams sooner than TCP', () => {
  const table = new FlowTable({ idleTimeout: 60, datagramIdleTimeout: 15 });
  run(table, [
    { ...C, t: T0, protocol: 'UDP', ipProto: 17, dport: 53 },
    { ...C, t: T0, tcpFlags: ACK },
  ]);
  assert.deepEqual(run(table, [{ src: 'x', dst: 'y', t: T0 + 14.9, ipProto: 1, protocol: 'ICMP' }]), []);
  const udp = run(table, [{ src: 'x', dst: 'y', t: T0 + 15.5, ipProto: 1, protocol: 'ICMP' }]);
  assert.deepEqual(
    udp.map((f) => [f.ipProto, f.endReason, f.connState]),
    [[17, 'idle', 'S0']],
  );
  const tcp = run(table, [{ src: 'x', dst: 'y', t: T0 + 61, ipProto: 1, protocol: 'ICMP' }]);
  assert.deepEqual(
    tcp.map((f) => [f.ipProto, f.endReason]),
    [
      [1, 'idle'],
      [6, 'idle'],
    ],
  );
  assert.equal(table.size, 1);
});

test('a full table evicts the least recently active flow and stays bounded', () => {
  const table = new FlowTable({ maxFlows: 3 });
  const evicted: FlowRecord[] = [];
  for (let i = 0; i < 10; i++) {
    evicted.push(...table.push(packet({ ...C, sport: 1000 + i, t: T0 + i, tcpFlags: ACK })));
    if (i === 2) evicted.push(...table.push(packet({ ...C, sport: 1000, t: T0 + 2.5, tcpFlags: ACK }))); // touch the first
    assert.ok(table.size <= 3);
  }
  assert.equal(evicted.length, 7);
  assert.ok(evicted.every((f) => f.endReason === 'evicted'));
  assert.equal(evicted[0]!.sport, 1001, 'the touched flow outlived the idle one');
  assert.deepEqual(table.stats(), { packets: 11, flows: 10, finished: 7, evicted: 7, reports: 0, active: 3 });
});

test('bad options are typed errors; odd packets are accounted without throwing', () => {
  assert.throws(() => new FlowTable({ maxFlows: 0 }), WirelabError);
  assert.throws(() => new FlowTable({ idleTimeout: Number.NaN }), WirelabError);
  const table = new FlowTable();
  table.push({
    ...packet(),
    src: undefined,
    dst: undefined,
    sport: undefined,
    dport: undefined,
    length: Number.NaN,
    tsSec: Number.NaN,
  });
  const [f] = table.flush();
  assert.equal(f!.origBytes, 0);
  assert.equal(f!.src, '(none)');
});

test('an open flow past the active timeout is reported with what it did so far, and goes on with fresh counters', () => {
  const table = new FlowTable({ activeTimeout: 10 });
  const done: FlowRecord[] = [];
  done.push(...table.push(packet({ ...C, t: T0, tcpFlags: SYN, length: 74 })));
  done.push(...table.push(packet({ ...S, t: T0 + 0.001, tcpFlags: SYN | ACK, length: 74 })));
  for (let i = 1; i <= 250; i++) done.push(...table.push(packet({ ...C, t: T0 + i * 0.1, tcpFlags: ACK, length: 1000 })));
  assert.equal(done.length, 2, 'reported at 10 s and at 20.1 s');
  assert.deepEqual(done.map((f) => f.endReason), ['active', 'active']);
  assert.deepEqual([done[0]!.origPackets, done[0]!.respPackets, done[0]!.start], [101, 1, T0]);
  assert.equal(done[1]!.origPackets, 101);
  assert.ok(Math.abs(done[1]!.start - (T0 + 10.1)) < 1e-6);
  assert.equal(done[1]!.connState, 'S1', 'the TCP state is the whole connection\'s');
  const rest = table.flush();
  assert.equal(rest.length, 1);
  assert.equal(rest[0]!.origPackets, 49);
  assert.equal(table.stats().reports, 2);
  // a part with no packet after its report reports nothing more
  const quiet = new FlowTable({ activeTimeout: 1 });
  quiet.push(packet({ ...C, t: T0 }));
  assert.equal(quiet.push(packet({ ...C, t: T0 + 1 })).length, 1);
  assert.deepEqual(quiet.peek(10), [], 'peek lists no empty part (its duration would be NaN)');
  assert.deepEqual(quiet.flush(), []);
});
