/**
 * Evaluation of the anomaly detector on seeded synthetic traffic with injected attacks. How items are
 * counted (docs/anomaly.md): per packet for every attack (each scan probe, each flood SYN, each jumbo
 * packet is one item; replies from the victims are reported but not scored as attack items), and per
 * flow for the scan and the flood (each probe or spoofed SYN is its own flow). The false-positive
 * rate is over the normal packets and normal flows scored after the baseline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnomalyDetector, formatAnomaly, formatBytes, type Anomaly } from '../../../src/analysis/index.js';
import { WirelabError } from '../../../src/common/errors.js';
import { evaluate, rate } from './evaluate.js';
import { synthesize, type Labelled } from './synth.js';

const attacks = { scanAt: 110, floodAt: 140, jumboFrom: 100, jumboTo: 190 };
const detectorOptions = { baselinePackets: 10_000, baselineFlows: 1_500, seed: 1 };

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

function topNames(a: Anomaly): string[] {
  return a.features.map((f) => f.name);
}

test('recall >= 90% on scan, flood and jumbo packets and flows; false positives <= 2%', (t) => {
  const traffic = synthesize({ seed: 1, duration: 200, attacks });
  const ev = evaluate(traffic, detectorOptions);
  const lines: string[] = [];
  for (const [kind, map] of [
    ['packets', ev.packets],
    ['flows', ev.flows],
  ] as const) {
    for (const [label, tally] of map)
      lines.push(`${kind} ${label}: ${tally.flagged}/${tally.scored} flagged (${pct(rate(tally))})`);
  }
  t.diagnostic(`${traffic.length} packets in ${ev.elapsedMs.toFixed(0)} ms; ${lines.join('; ')}`);
  for (const label of ['scan', 'flood', 'jumbo'] as const) {
    assert.ok(ev.packets.get(label)!.scored > 0, `${label} packets were scored`);
    assert.ok(
      rate(ev.packets.get(label)) >= 0.9,
      `packet recall on ${label}: ${pct(rate(ev.packets.get(label)))}`,
    );
  }
  for (const label of ['scan', 'flood'] as const) {
    assert.ok(ev.flows.get(label)!.scored >= 900, `${label} flows were scored, not learnt`);
    assert.ok(rate(ev.flows.get(label)) >= 0.9, `flow recall on ${label}: ${pct(rate(ev.flows.get(label)))}`);
  }
  assert.ok(ev.packets.get('normal')!.scored > 40_000);
  assert.ok(rate(ev.packets.get('normal')) <= 0.02, `packet FPR ${pct(rate(ev.packets.get('normal')))}`);
  assert.ok(rate(ev.flows.get('normal')) <= 0.02, `flow FPR ${pct(rate(ev.flows.get('normal')))}`);

  // The explanations name the features that tell each attack apart.
  const byLabel = (label: Labelled['label']): Anomaly[] =>
    ev.anomalies.filter((a) => a.kind === 'packet' && traffic[a.index - 1]!.label === label);
  const share = (list: Anomaly[], ok: (names: string[]) => boolean): number =>
    list.filter((a) => ok(topNames(a))).length / list.length;
  const scan = byLabel('scan');
  const opening = (n: string[]): boolean => ['srcSynRatio', 'srcOpenRate', 'srcUnansweredRate', 'srcRefusedRate'].some((f) => n.includes(f));
  assert.ok(share(scan, opening) >= 0.9);
  assert.ok(share(byLabel('flood'), (n) => n.includes('srcSynRatio') || n.includes('srcGapLog10s')) >= 0.9);
  assert.ok(share(byLabel('jumbo'), (n) => n[0] === 'size') >= 0.9);
  const scanFlows = ev.anomalies.filter((a) => a.kind === 'flow' && a.src === '192.168.1.66');
  assert.ok(share(scanFlows, opening) >= 0.9);
  const jumbo = byLabel('jumbo')[0]!;
  assert.equal(jumbo.features[0]!.value, 9000);
  assert.ok(jumbo.features[0]!.z > 10, `robust z of a jumbo packet: ${jumbo.features[0]!.z}`);
});

test('nothing is reported before the warm-up and baseline; the same seed reproduces every anomaly', () => {
  const traffic = synthesize({ seed: 5, duration: 60, attacks: { scanAt: 40, scanPorts: 300 } });
  const options = { baselinePackets: 3_000, baselineFlows: 300, seed: 7, warmup: 5 };
  const runOnce = (): Anomaly[] => {
    const detector = new AnomalyDetector(options);
    const found: Anomaly[] = [];
    for (const { p } of traffic) found.push(...detector.push(p));
    found.push(...detector.flush());
    const stats = detector.stats();
    assert.equal(stats.packetBaseline, 3_000);
    assert.ok(stats.packetThreshold! >= 0.5 && stats.packetThreshold! < 1);
    assert.equal(stats.packetAnomalies + stats.flowAnomalies, found.length);
    return found;
  };
  const a = runOnce();
  const b = runOnce();
  assert.ok(a.length > 0);
  assert.deepEqual(a, b);
  const start = traffic[0]!.p.tsSec;
  assert.ok(
    a.every((x) => x.ts >= start + 5),
    'nothing inside the warm-up',
  );
  const other = new AnomalyDetector({ ...options, seed: 8 });
  let scores = 0;
  for (const { p } of traffic) scores += other.push(p).reduce((s, x) => s + x.score, 0);
  assert.notEqual(
    scores,
    a.filter((x) => x.kind === 'packet').reduce((s, x) => s + x.score, 0),
  );
});

test('pushBatch() reports what push() one packet at a time does, in the same order', () => {
  const traffic = synthesize({ seed: 6, duration: 50, attacks: { scanAt: 30, scanPorts: 400 } }).map((x) => x.p);
  const options = { baselinePackets: 2_000, baselineFlows: 200, seed: 3, warmup: 5 };
  const single = new AnomalyDetector(options);
  const one: Anomaly[] = [];
  for (const p of traffic) one.push(...single.push(p));
  one.push(...single.flush());
  // uneven batch sizes, so that the baseline fills and flows end in the middle of a batch
  const batched = new AnomalyDetector(options);
  const many: Anomaly[] = [];
  for (let i = 0, n = 1; i < traffic.length; i += n, n = (n * 7 + 3) % 5000)
    many.push(...batched.pushBatch(traffic.slice(i, i + n)));
  many.push(...batched.flush());
  assert.ok(one.some((a) => a.kind === 'packet') && one.some((a) => a.kind === 'flow'));
  assert.deepEqual(many, one);
  assert.deepEqual(batched.stats(), single.stats());
});

test('a fixed threshold is honoured; bad options are typed errors', () => {
  const traffic = synthesize({ seed: 9, duration: 30 });
  const detector = new AnomalyDetector({ baselinePackets: 1_000, flows: false, threshold: 0.99, warmup: 0 });
  let found = 0;
  for (const { p } of traffic) found += detector.push(p).length;
  assert.equal(detector.stats().packetThreshold, 0.99);
  assert.equal(found, 0, 'no normal packet scores 0.99');
  assert.equal(detector.stats().flowThreshold, null);
  assert.throws(() => new AnomalyDetector({ threshold: 1.5 }), WirelabError);
  assert.throws(() => new AnomalyDetector({ contamination: 1 }), WirelabError);
  assert.throws(() => new AnomalyDetector({ baselinePackets: 1 }), WirelabError);
});

test('formatAnomaly prints what, where, score and why on one line', () => {
  const line = formatAnomaly({
    kind: 'packet',
    score: 0.8123,
    threshold: 0.7,
    index: 42,
    ts: 1_700_000_000,
    protocol: 'UDP',
    src: '10.0.0.1',
    dst: '10.0.0.2',
    sport: 5000,
    dport: 5001,
    features: [{ name: 'size', value: 9000, baseline: 313, share: 0.5, z: 40 }],
  });
  assert.equal(
    line,
    'ANOMALY packet #42 UDP 10.0.0.1:5000 -> 10.0.0.2:5001 score 0.812 > 0.700: size=9000 (baseline 313, 50.0%)',
  );
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1500), '1.5 kB');
  assert.equal(formatBytes(3_738_523), '3.7 MB');
});
