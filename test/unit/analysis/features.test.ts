import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FlowFeaturizer,
  PACKET_FEATURES,
  PacketFeaturizer,
  portClass,
} from '../../../src/analysis/features.js';
import { FLOW_FEATURES, FlowTable, type FlowContext } from '../../../src/analysis/index.js';
import type { PacketSummary } from '../../../src/capture/types.js';
import { ACK, RST, SYN, packet } from './packets.js';

const T0 = 1_700_000_000;
const at = (name: (typeof PACKET_FEATURES)[number]): number => PACKET_FEATURES.indexOf(name);

test('port classes follow the IANA ranges of RFC 6335', () => {
  assert.deepEqual([undefined, 0, 1023, 1024, 49151, 49152, 65535].map(portClass), [0, 1, 1, 2, 2, 3, 3]);
});

/** Push `p` through a flow table, then featurize it with what it meant for its flow. */
function feed(f: PacketFeaturizer, table: FlowTable, p: PacketSummary, v: Float64Array): void {
  table.push(p);
  f.extract(p, v, 0, table.lastRole, table.lastOriginator);
}

test('a scanning source builds up opened, refused and SYN rates; a busy client does not', () => {
  const f = new PacketFeaturizer({ rateTau: 2 });
  const table = new FlowTable();
  const v = new Float64Array(PACKET_FEATURES.length);
  for (let port = 1; port <= 100; port++) {
    feed(f, table, packet({ src: 'scanner', dst: 'victim', sport: 999, dport: port, tcpFlags: SYN, t: T0 + port * 0.01 }), v);
    feed(f, table, packet({ src: 'victim', dst: 'scanner', sport: port, dport: 999, tcpFlags: RST | ACK, t: T0 + port * 0.01 + 0.001 }), v);
  }
  feed(f, table, packet({ src: 'scanner', dst: 'victim', sport: 999, dport: 101, tcpFlags: SYN, t: T0 + 1.01 }), v);
  assert.ok(v[at('srcOpenRate')]! > 50, `scan opens ${v[at('srcOpenRate')]}`);
  assert.ok(v[at('srcRefusedRate')]! > 50, `scan refusals ${v[at('srcRefusedRate')]}`);
  assert.ok(v[at('srcUnansweredRate')]! <= 1.1, 'refused is not unanswered');
  assert.ok(v[at('srcSynRatio')]! > 0.99);
  for (let i = 1; i <= 100; i++) {
    const t = T0 + 10 + i * 0.01;
    const port = 40000 + Math.floor(i / 10);
    const opening = i % 10 === 0;
    feed(f, table, packet({ src: 'client', dst: 'server', sport: port, dport: 443, tcpFlags: opening ? SYN : ACK, t }), v);
    feed(f, table, packet({ src: 'server', dst: 'client', sport: 443, dport: port, tcpFlags: opening ? SYN | ACK : ACK, t: t + 0.001 }), v);
  }
  feed(f, table, packet({ src: 'client', dst: 'server', sport: 50000, dport: 443, tcpFlags: ACK, t: T0 + 11.02 }), v);
  assert.ok(v[at('srcOpenRate')]! < 10, `client opens ${v[at('srcOpenRate')]}`);
  assert.equal(v[at('srcRefusedRate')], 0);
  assert.ok(v[at('srcUnansweredRate')]! < 1.5, `client unanswered ${v[at('srcUnansweredRate')]}`);
  assert.ok(v[at('srcSynRatio')]! < 0.2);
  assert.ok(v[at('pairAsymmetry')]! > 0.9 && v[at('pairAsymmetry')]! < 1.1, `balanced exchange ${v[at('pairAsymmetry')]}`);
  assert.equal(v[at('size')], 100);
  assert.equal(v[at('dportClass')], 1);
  assert.equal(v[at('sportClass')], 3);
  assert.ok(Math.abs(v[at('srcGapLog10s')]! - Math.log10(0.02)) < 0.06);
});

test('a one-way flood from one source shows in its pair rates and asymmetry, unanswered opens too', () => {
  const f = new PacketFeaturizer({ rateTau: 2, volumeTau: 1 });
  const table = new FlowTable();
  const v = new Float64Array(PACKET_FEATURES.length);
  // 10,000 UDP datagrams a second for half a second, source port changing per packet
  for (let i = 0; i < 5000; i++)
    feed(f, table, packet({ src: 'a', dst: 'v', sport: 1024 + i, dport: 9, protocol: 'UDP', length: 60, t: T0 + i * 1e-4 }), v);
  assert.ok(v[at('pairPacketRate')]! > 3000, `pair packets/s ${v[at('pairPacketRate')]}`);
  assert.ok(v[at('pairByteRate')]! > 60 * 3000, `pair bytes/s ${v[at('pairByteRate')]}`);
  assert.ok(v[at('pairAsymmetry')]! > 3000, `asymmetry ${v[at('pairAsymmetry')]}`);
  assert.ok(v[at('srcUnansweredRate')]! > 3000, `unanswered ${v[at('srcUnansweredRate')]}`);
  assert.ok(v[at('srcOpenRate')]! > 3000);
});

test('host-behaviour features are quantized: gaps to 1/20 decade, rates to two digits, SYN ratio to 0.01', () => {
  const f = new PacketFeaturizer({ rateTau: 2 });
  const table = new FlowTable();
  const v = new Float64Array(PACKET_FEATURES.length);
  const seen = { gap: new Set<number>(), rate: new Set<number>(), ratio: new Set<number>() };
  // a source whose gaps, opens and SYNs all vary continuously
  let t = T0;
  for (let i = 1; i <= 2000; i++) {
    t += 0.0005 + ((i * 7919) % 1000) / 50_000;
    feed(f, table, packet({ src: 'varied', dst: `d${i % 37}`, dport: 1 + (i % 300), tcpFlags: i % 3 === 0 ? SYN : ACK, t }), v);
    const [gap, opens, ratio] = [v[at('srcGapLog10s')]!, v[at('srcOpenRate')]!, v[at('srcSynRatio')]!];
    assert.ok(Math.abs(gap * 20 - Math.round(gap * 20)) < 1e-9, `gap ${gap}`);
    assert.ok(Math.abs(ratio * 100 - Math.round(ratio * 100)) < 1e-9, `ratio ${ratio}`);
    if (opens > 0) {
      const unit = 10 ** (Math.floor(Math.log10(opens)) - 1);
      assert.ok(Math.abs(opens / unit - Math.round(opens / unit)) < 1e-6, `opens ${opens}`);
    }
    seen.gap.add(gap);
    seen.rate.add(opens);
    seen.ratio.add(ratio);
  }
  // few distinct values, so that vectors repeat and the score memo answers them
  assert.ok(seen.gap.size <= 40 && seen.ratio.size <= 101 && seen.rate.size <= 200, JSON.stringify([seen.gap.size, seen.rate.size, seen.ratio.size]));
});

test('rates decay with time and are 0 exactly once they have died away', () => {
  const f = new PacketFeaturizer({ rateTau: 1 });
  const table = new FlowTable();
  const v = new Float64Array(PACKET_FEATURES.length);
  for (let port = 1; port <= 50; port++)
    feed(f, table, packet({ src: 's', dport: port, tcpFlags: SYN, t: T0 + port * 0.001 }), v);
  assert.ok(v[at('srcOpenRate')]! >= 49);
  feed(f, table, packet({ src: 's', dport: 50, tcpFlags: ACK, t: T0 + 10.05 }), v);
  assert.equal(v[at('srcOpenRate')], 0);
  assert.equal(v[at('srcUnansweredRate')], 0);
  assert.equal(v[at('pairPacketRate')], 1);
});

test('host state is bounded: a forgotten source looks new again', () => {
  const f = new PacketFeaturizer({ maxHosts: 10 });
  const v = new Float64Array(PACKET_FEATURES.length);
  f.extract(packet({ src: 'first', t: T0 }), v);
  assert.equal(v[at('srcGapLog10s')], 3, 'first packet of a host: the 1000 s sentinel');
  f.extract(packet({ src: 'first', t: T0 + 1 }), v);
  assert.equal(v[at('srcGapLog10s')], 0);
  for (let i = 0; i < 20; i++) f.extract(packet({ src: `other${i}`, t: T0 + 2 }), v);
  f.extract(packet({ src: 'first', t: T0 + 3 }), v);
  assert.equal(v[at('srcGapLog10s')], 3, 'first packet of a host: the 1000 s sentinel');
});

/** A flow table whose flows carry what the detector tags them with. */
function taggedTable(pf: PacketFeaturizer, ff: FlowFeaturizer): { table: FlowTable<FlowContext>; push: (p: PacketSummary) => void } {
  const table = new FlowTable<FlowContext>({
    tag: (p) => ({ source: pf.sourceRates(p.src ?? '', p.tsSec + p.tsNsec / 1e9), dstFlowRate: ff.start(p) }),
  });
  const v = new Float64Array(PACKET_FEATURES.length);
  return {
    table,
    push: (p) => {
      table.push(p);
      pf.extract(p, v, 0, table.lastRole, table.lastOriginator);
    },
  };
}

test('flow features take the originator rates at flow start and the flow shape at the end', () => {
  const ff = new FlowFeaturizer({ rateTau: 5 });
  const { table, push } = taggedTable(new PacketFeaturizer({ rateTau: 2 }), ff);
  for (let port = 1; port <= 30; port++) {
    push(packet({ src: 'scanner', dst: 'victim', sport: 999, dport: port, tcpFlags: SYN, t: T0 + port * 0.01 }));
    push(packet({ src: 'victim', dst: 'scanner', sport: port, dport: 999, tcpFlags: RST | ACK, length: 54, t: T0 + port * 0.01 + 0.001 }));
  }
  const flows = table.flush();
  assert.equal(flows.length, 30);
  const v = new Float64Array(FLOW_FEATURES.length);
  const last = flows.find((f) => f.dport === 30)!;
  ff.extract(last, v);
  const get = (name: (typeof FLOW_FEATURES)[number]): number => v[FLOW_FEATURES.indexOf(name)]!;
  assert.equal(get('origPacketsLog10'), Math.log10(2));
  assert.equal(get('reset'), 1);
  assert.equal(get('synWithoutAck'), 1);
  assert.ok(get('srcOpenRate') > 25, `${get('srcOpenRate')}`);
  assert.ok(get('srcRefusedRate') > 25, `${get('srcRefusedRate')}`);
  assert.ok(get('failedDstFlowRate') < 1.01, 'each probe is a different service');
});

test('the rate of flows to a service counts for flows that failed, not for established ones', () => {
  const ff = new FlowFeaturizer({ rateTau: 5 });
  const { table, push } = taggedTable(new PacketFeaturizer(), ff);
  // a flood of unanswered SYNs to victim:80 from many sources, with one real connection among them
  for (let i = 0; i < 200; i++) push(packet({ src: `spoof${i}`, dst: 'victim', sport: 1000 + i, dport: 80, tcpFlags: SYN, t: T0 + i * 0.001 }));
  const client = { src: 'client', dst: 'victim', sport: 50000, dport: 80 };
  const back = { src: 'victim', dst: 'client', sport: 80, dport: 50000 };
  push(packet({ ...client, tcpFlags: SYN, t: T0 + 0.2 }));
  push(packet({ ...back, tcpFlags: SYN | ACK, t: T0 + 0.201 }));
  push(packet({ ...client, tcpFlags: ACK, t: T0 + 0.202 }));
  const v = new Float64Array(FLOW_FEATURES.length);
  const get = (name: (typeof FLOW_FEATURES)[number]): number => v[FLOW_FEATURES.indexOf(name)]!;
  const flows = table.flush();
  ff.extract(flows.find((f) => f.src === 'spoof199')!, v);
  assert.ok(get('failedDstFlowRate') > 150, `flood flow: ${get('failedDstFlowRate')}`);
  ff.extract(flows.find((f) => f.src === 'client')!, v);
  assert.equal(get('failedDstFlowRate'), 0, 'an established connection to the flooded service');
});
