import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FlowFeaturizer,
  PACKET_FEATURES,
  PacketFeaturizer,
  portClass,
} from '../../../src/analysis/features.js';
import { FLOW_FEATURES, FlowTable, type FlowContext } from '../../../src/analysis/index.js';
import { ACK, RST, SYN, packet } from './packets.js';

const T0 = 1_700_000_000;
const at = (name: (typeof PACKET_FEATURES)[number]): number => PACKET_FEATURES.indexOf(name);

test('port classes follow the IANA ranges of RFC 6335', () => {
  assert.deepEqual([undefined, 0, 1023, 1024, 49151, 49152, 65535].map(portClass), [0, 1, 1, 2, 2, 3, 3]);
});

test('a scanning source builds up a new-port rate and a SYN ratio; a busy client does not', () => {
  const f = new PacketFeaturizer({ rateTau: 2 });
  const v = new Float64Array(PACKET_FEATURES.length);
  for (let port = 1; port <= 100; port++)
    f.extract(packet({ src: 'scanner', dst: 'victim', dport: port, tcpFlags: SYN, t: T0 + port * 0.01 }), v);
  assert.ok(v[at('srcNewPortRate')]! > 50, `scan rate ${v[at('srcNewPortRate')]}`);
  assert.ok(v[at('srcSynRatio')]! > 0.99);
  for (let i = 1; i <= 100; i++)
    f.extract(
      packet({
        src: 'client',
        dst: 'server',
        dport: 443,
        tcpFlags: i % 10 === 0 ? SYN : ACK,
        t: T0 + 10 + i * 0.01,
      }),
      v,
    );
  assert.ok(v[at('srcNewPortRate')]! < 1.5, `client rate ${v[at('srcNewPortRate')]}`);
  assert.ok(v[at('srcSynRatio')]! < 0.2);
  assert.equal(v[at('size')], 100);
  assert.equal(v[at('dportClass')], 1);
  assert.equal(v[at('sportClass')], 2);
  assert.ok(Math.abs(v[at('srcGapLog10s')]! - Math.log10(0.01)) < 0.01);
});

test('host-behaviour features are quantized: gaps to 1/20 decade, new ports to two digits, SYN ratio to 0.01', () => {
  const f = new PacketFeaturizer({ rateTau: 2 });
  const v = new Float64Array(PACKET_FEATURES.length);
  const seen = { gap: new Set<number>(), ports: new Set<number>(), ratio: new Set<number>() };
  // a source whose gaps, new ports and SYNs all vary continuously
  let t = T0;
  for (let i = 1; i <= 2000; i++) {
    t += 0.0005 + ((i * 7919) % 1000) / 50_000;
    f.extract(packet({ src: 'varied', dst: `d${i % 37}`, dport: 1 + (i % 300), tcpFlags: i % 3 === 0 ? SYN : ACK, t }), v);
    const [gap, ports, ratio] = [v[at('srcGapLog10s')]!, v[at('srcNewPortRate')]!, v[at('srcSynRatio')]!];
    assert.ok(Math.abs(gap * 20 - Math.round(gap * 20)) < 1e-9, `gap ${gap}`);
    assert.ok(Math.abs(ratio * 100 - Math.round(ratio * 100)) < 1e-9, `ratio ${ratio}`);
    if (ports > 0) {
      const unit = 10 ** (Math.floor(Math.log10(ports)) - 1);
      assert.ok(Math.abs(ports / unit - Math.round(ports / unit)) < 1e-6, `ports ${ports}`);
    }
    seen.gap.add(gap);
    seen.ports.add(ports);
    seen.ratio.add(ratio);
  }
  // few distinct values, so that vectors repeat and the score memo answers them
  assert.ok(seen.gap.size <= 40 && seen.ratio.size <= 101 && seen.ports.size <= 200, JSON.stringify([seen.gap.size, seen.ports.size, seen.ratio.size]));
});

test('rates decay with time: after ten time constants the scan is forgotten', () => {
  const f = new PacketFeaturizer({ rateTau: 1 });
  const v = new Float64Array(PACKET_FEATURES.length);
  for (let port = 1; port <= 50; port++)
    f.extract(packet({ src: 's', dport: port, tcpFlags: SYN, t: T0 + port * 0.001 }), v);
  f.extract(packet({ src: 's', dport: 50, tcpFlags: ACK, t: T0 + 10.05 }), v);
  assert.ok(v[at('srcNewPortRate')]! < 0.01, `${v[at('srcNewPortRate')]}`);
});

test('host state is bounded: a forgotten source looks new again', () => {
  const f = new PacketFeaturizer({ maxHosts: 10 });
  const v = new Float64Array(PACKET_FEATURES.length);
  f.extract(packet({ src: 'first', t: T0 }), v);
  f.extract(packet({ src: 'first', t: T0 + 1 }), v);
  assert.equal(v[at('srcGapLog10s')], 0);
  for (let i = 0; i < 20; i++) f.extract(packet({ src: `other${i}`, t: T0 + 2 }), v);
  f.extract(packet({ src: 'first', t: T0 + 3 }), v);
  assert.equal(v[at('srcGapLog10s')], 3, 'first packet of a host: the 1000 s sentinel');
});

test('flow features take host rates at flow start and flow shape at the end', () => {
  const ff = new FlowFeaturizer({ rateTau: 5 });
  const table = new FlowTable<FlowContext>({ tag: (p) => ff.start(p) });
  for (let port = 1; port <= 30; port++) {
    table.push(
      packet({ src: 'scanner', dst: 'victim', sport: 999, dport: port, tcpFlags: SYN, t: T0 + port * 0.01 }),
    );
    table.push(
      packet({
        src: 'victim',
        dst: 'scanner',
        sport: port,
        dport: 999,
        tcpFlags: RST | ACK,
        length: 54,
        t: T0 + port * 0.01 + 0.001,
      }),
    );
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
  assert.ok(get('srcNewServiceRate') > 25, `${get('srcNewServiceRate')}`);
  assert.ok(get('failedDstFlowRate') < 1.01, 'each probe is a different service');
});

test('the rate of flows to a service counts for flows that failed, not for established ones', () => {
  const ff = new FlowFeaturizer({ rateTau: 5 });
  const table = new FlowTable<FlowContext>({ tag: (p) => ff.start(p) });
  // a flood of unanswered SYNs to victim:80 from many sources, with one real connection among them
  for (let i = 0; i < 200; i++) table.push(packet({ src: `spoof${i}`, dst: 'victim', sport: 1000 + i, dport: 80, tcpFlags: SYN, t: T0 + i * 0.001 }));
  const client = { src: 'client', dst: 'victim', sport: 50000, dport: 80 };
  const back = { src: 'victim', dst: 'client', sport: 80, dport: 50000 };
  table.push(packet({ ...client, tcpFlags: SYN, t: T0 + 0.2 }));
  table.push(packet({ ...back, tcpFlags: SYN | ACK, t: T0 + 0.201 }));
  table.push(packet({ ...client, tcpFlags: ACK, t: T0 + 0.202 }));
  const v = new Float64Array(FLOW_FEATURES.length);
  const get = (name: (typeof FLOW_FEATURES)[number]): number => v[FLOW_FEATURES.indexOf(name)]!;
  const flows = table.flush();
  ff.extract(flows.find((f) => f.src === 'spoof199')!, v);
  assert.ok(get('failedDstFlowRate') > 150, `flood flow: ${get('failedDstFlowRate')}`);
  ff.extract(flows.find((f) => f.src === 'client')!, v);
  assert.equal(get('failedDstFlowRate'), 0, 'an established connection to the flooded service');
});
