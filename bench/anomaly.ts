/**
 * Benchmark of analysis: Isolation Forest scoring (vectors/s), the whole AnomalyDetector (packets/s,
 * one packet at a time and in batches), the AnomalyWorker pipeline end to end (packets/s through the
 * worker thread), the cost of handing a batch to the worker (plain objects vs columns),
 * TrafficStats.add() and FlowTable.push() (packets/s), each beside a reference measured in the same
 * run on the same data: the Euclidean distance of each vector to the mean (the cheapest possible
 * scorer), and a plain loop that only sums packet lengths. Ratios make figures comparable across
 * machines and loads; the load average is printed.  Run: node --import tsx bench/anomaly.ts
 */
import type { PacketSummary } from '../src/capture/types.js';
import { loadavg } from 'node:os';
import {
  AnomalyDetector,
  AnomalyWorker,
  FlowTable,
  IsolationForest,
  TrafficStats,
  mulberry32,
} from '../src/analysis/index.js';
import { PacketColumnsWriter } from '../src/analysis/packet-columns.js';
import {
  PACKET_FEATURE_GROUPS,
  PACKET_FEATURES,
  PACKET_SLACK,
  PACKET_TOLERANCE,
  PACKET_UPPER_ONLY,
  PacketFeaturizer,
} from '../src/analysis/features.js';
import { FlowTable as Flows } from '../src/analysis/flows.js';
import { BaselineScorer } from '../src/analysis/scorer.js';
import { DEFAULT_CONTAMINATION, PACKET_MEMO_SLOTS } from '../src/analysis/constants.js';
import { synthesize } from '../test/unit/analysis/synth.js';

const REPEATS = 7;

/** CPU time of this process (every thread), ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The subject's best CPU time per run, ms, of the last pair() (items per CPU-second: load-independent). */
let lastCpuMs = Number.NaN;

function timeOnce(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/**
 * Items per second of `subject` and of `reference`, best of REPEATS runs each, taken in turns so
 * that both see the same share of a busy machine.
 */
function pair(items: number, subject: () => void, reference: () => void, repeats = REPEATS): [number, number] {
  let best = Number.POSITIVE_INFINITY;
  let bestRef = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeats; r++) {
    bestRef = Math.min(bestRef, timeOnce(reference));
    const cpu = cpuMs();
    const wall = timeOnce(subject);
    if (wall < best) lastCpuMs = cpuMs() - cpu;
    best = Math.min(best, wall);
  }
  return [(items / best) * 1000, (items / bestRef) * 1000];
}

let sink = 0;

function gaussianMatrix(rows: number, dims: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const data = new Float64Array(rows * dims);
  for (let i = 0; i < data.length; i++)
    data[i] = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return data;
}

function distanceToMean(data: Float64Array, rows: number, dims: number): void {
  const mean = new Float64Array(dims);
  for (let r = 0; r < rows; r++) for (let f = 0; f < dims; f++) mean[f]! += data[r * dims + f]! / rows;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let f = 0; f < dims; f++) {
      const d = data[r * dims + f]! - mean[f]!;
      sum += d * d;
    }
    sink += Math.sqrt(sum);
  }
}

function sumLengths(packets: PacketSummary[]): void {
  let total = 0;
  for (const p of packets) total += p.length;
  sink += total;
}

/** The cheapest per-packet scorer: distance of a few numeric fields to their means. */
function packetDistance(packets: PacketSummary[]): void {
  const mean = [0, 0, 0, 0];
  for (const p of packets) {
    mean[0]! += p.length / packets.length;
    mean[1]! += (p.sport ?? 0) / packets.length;
    mean[2]! += (p.dport ?? 0) / packets.length;
    mean[3]! += p.tcpFlags / packets.length;
  }
  for (const p of packets) {
    const a = p.length - mean[0]!;
    const b = (p.sport ?? 0) - mean[1]!;
    const c = (p.dport ?? 0) - mean[2]!;
    const d = p.tcpFlags - mean[3]!;
    sink += Math.sqrt(a * a + b * b + c * c + d * d);
  }
}

interface Row {
  /** items per CPU-second of the subject (NaN: not measured) */
  perCpu?: number;
  what: string;
  unit: string;
  value: number;
  reference: string;
  refValue: number;
}

/**
 * The detector's packet vectors scored as the detector scores them (BaselineScorer: both packet
 * forests, each behind its memo, 4096 rows a call): the "feature vectors scored per second".
 * A fresh scorer (fit on the first `baseline` vectors) each run, so the memo starts cold; only the
 * scoring is timed. Best of REPEATS, in turns with the reference.
 */
function scorePacketVectors(traffic: PacketSummary[], baseline: number, reference: () => void): [number, number, number] {
  const dims = PACKET_FEATURES.length;
  const featurizer = new PacketFeaturizer();
  const flows = new Flows();
  const vectors = new Float64Array(traffic.length * dims);
  traffic.forEach((p, i) => {
    flows.push(p);
    featurizer.extract(p, vectors, i * dims, flows.lastRole, flows.lastOriginator);
  });
  const rows = traffic.length - baseline;
  const scores = new Float64Array(4096);
  const decided = new Int32Array(4096);
  let best = Number.POSITIVE_INFINITY;
  let bestRef = Number.POSITIVE_INFINITY;
  let cpuOfBest = Number.NaN;
  for (let r = 0; r < REPEATS; r++) {
    bestRef = Math.min(bestRef, timeOnce(reference));
    const scorer = new BaselineScorer({
      names: PACKET_FEATURES,
      groups: PACKET_FEATURE_GROUPS,
      baselineSize: baseline,
      rng: mulberry32(1),
      contamination: DEFAULT_CONTAMINATION,
      topFeatures: 3,
      memoSlots: PACKET_MEMO_SLOTS,
      upperOnly: PACKET_UPPER_ONLY,
      slack: PACKET_SLACK,
      tolerance: PACKET_TOLERANCE,
    });
    scorer.learnFrom(vectors, baseline);
    const cpu = cpuMs();
    const wall = timeOnce(() => {
      for (let from = baseline; from < traffic.length; from += 4096) {
        const count = Math.min(4096, traffic.length - from);
        scorer.scoreRows(vectors, from, count, scores, decided);
        sink += scores[0]!;
      }
    });
    if (wall < best) cpuOfBest = cpuMs() - cpu;
    best = Math.min(best, wall);
  }
  return [(rows / best) * 1000, (traffic.length / bestRef) * 1000, (rows / cpuOfBest) * 1000];
}

/** Packets per second through an AnomalyWorker, respecting its backpressure, best of 2 runs. */
async function throughWorker(traffic: PacketSummary[], detector: { baselinePackets: number; baselineFlows: number }): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 2; r++) {
    const worker = new AnomalyWorker({ detector });
    worker.on('anomaly', () => sink++);
    await worker.start();
    const start = performance.now();
    const cpu = cpuMs();
    for (const p of traffic) if (!worker.push(p)) await worker.drained();
    await worker.flush();
    const wall = performance.now() - start;
    if (wall < best) lastCpuMs = cpuMs() - cpu;
    best = Math.min(best, wall);
    if (worker.stats().skipped !== 0) throw new Error('the worker skipped packets');
    await worker.close();
  }
  return (traffic.length / best) * 1000;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const dims = 9;
  const n = 50_000;
  const data = gaussianMatrix(n, dims, 1);
  const train = { data: gaussianMatrix(10_000, dims, 2), rows: 10_000, dims };
  const reference = (): void => distanceToMean(data, n, dims);
  for (const outOfRange of ['paper', 'isolate'] as const) {
    const forest = IsolationForest.fit(train, { rng: mulberry32(3), outOfRange });
    const m = { data, rows: n, dims };
    const out = new Float64Array(n);
    const [value, refValue] = pair(n, () => forest.scoreAll(m, out), reference);
    rows.push({
      perCpu: (n / lastCpuMs) * 1000,
      what: `IsolationForest.scoreAll (100 trees, ${dims} dims, ${outOfRange})`,
      unit: 'vectors/s',
      value,
      reference: 'distance to mean',
      refValue,
    });
  }
  const [fitRate] = pair(
    1,
    () => IsolationForest.fit(train, { rng: mulberry32(4) }),
    () => undefined,
  );
  rows.push({
    what: 'IsolationForest.fit (100 trees, psi 256)',
    unit: 'forests/s',
    value: fitRate,
    reference: '-',
    refValue: Number.NaN,
  });

  const traffic = synthesize({
    seed: 1,
    duration: 200,
    attacks: { scanAt: 110, floodAt: 140, jumboFrom: 100, jumboTo: 190 },
  }).map((x) => x.p);
  const packets = traffic.length;
  const detectorOptions = { baselinePackets: 10_000, baselineFlows: 1_500 };
  const detect = (): void => {
    const detector = new AnomalyDetector(detectorOptions);
    for (const p of traffic) sink += detector.push(p).length;
    sink += detector.flush().length;
  };
  const [detectRate, refPackets] = pair(packets, detect, () => packetDistance(traffic));
  rows.push({
    perCpu: (packets / lastCpuMs) * 1000,
    what: `AnomalyDetector.push, one at a time (${packets} packets)`,
    unit: 'packets/s',
    value: detectRate,
    reference: 'per-packet distance to mean',
    refValue: refPackets,
  });
  const detectBatches = (): void => {
    const detector = new AnomalyDetector(detectorOptions);
    for (let i = 0; i < traffic.length; i += 4096) sink += detector.pushBatch(traffic.slice(i, i + 4096)).length;
    sink += detector.flush().length;
  };
  const [batchRate, refPackets2] = pair(packets, detectBatches, () => packetDistance(traffic));
  rows.push({
    perCpu: (packets / lastCpuMs) * 1000,
    what: 'AnomalyDetector.pushBatch, 4096 a batch',
    unit: 'packets/s',
    value: batchRate,
    reference: 'per-packet distance to mean',
    refValue: refPackets2,
  });
  const [vectorRate, refVectors, vectorPerCpu] = scorePacketVectors(traffic, detectorOptions.baselinePackets, () => packetDistance(traffic));
  rows.push({
    perCpu: vectorPerCpu,
    what: 'packet feature vectors scored (both packet forests, their memos and the guard, as in the detector)',
    unit: 'vectors/s',
    value: vectorRate,
    reference: 'per-packet distance to mean',
    refValue: refVectors,
  });
  // A longer capture for the worker, whose fresh thread starts with cold code: the reference is a
  // fresh detector in this thread on the same packets, one run each in turns.
  const long = synthesize({ seed: 2, duration: 600, attacks: { scanAt: 300, floodAt: 400, jumboFrom: 200, jumboTo: 500 } }).map((x) => x.p);
  const workerRate = await throughWorker(long, detectorOptions);
  const workerCpu = lastCpuMs;
  const [longRate] = pair(long.length, () => {
    const detector = new AnomalyDetector(detectorOptions);
    for (let i = 0; i < long.length; i += 4096) sink += detector.pushBatch(long.slice(i, i + 4096)).length;
    sink += detector.flush().length;
  }, () => undefined, 2);
  const longCpu = lastCpuMs;
  rows.push({
    perCpu: (long.length / longCpu) * 1000,
    what: `AnomalyDetector.pushBatch, long traffic in this thread (${long.length} packets, warm)`,
    unit: 'packets/s',
    value: longRate,
    reference: '-',
    refValue: Number.NaN,
  });
  rows.push({
    perCpu: (long.length / workerCpu) * 1000,
    what: `AnomalyWorker end to end (push, worker thread, anomalies back; ${long.length} packets)`,
    unit: 'packets/s',
    value: workerRate,
    reference: 'pushBatch in this thread, same packets',
    refValue: longRate,
  });
  const batch = traffic.slice(0, 4096);
  const [columnsRate, objectsRate] = pair(
    batch.length,
    () => {
      const writer = new PacketColumnsWriter(batch.length);
      for (const p of batch) writer.add(p);
      sink += structuredClone(writer.take()).count;
    },
    () => {
      sink += structuredClone(batch).length;
    },
  );
  rows.push({
    what: 'batch to the worker: columns (encode + clone)',
    unit: 'packets/s',
    value: columnsRate,
    reference: 'clone of PacketSummary objects',
    refValue: objectsRate,
  });
  const count = (): void => {
    const stats = new TrafficStats();
    for (const p of traffic) stats.add(p);
    sink += stats.snapshot().packets;
  };
  const [statsRate, refSum] = pair(packets, count, () => sumLengths(traffic));
  rows.push({
    what: 'TrafficStats.add',
    unit: 'packets/s',
    value: statsRate,
    reference: 'sum of lengths',
    refValue: refSum,
  });
  const track = (): void => {
    const table = new FlowTable();
    for (const p of traffic) sink += table.push(p).length;
    sink += table.flush().length;
  };
  const [flowRate, refSum2] = pair(packets, track, () => sumLengths(traffic));
  rows.push({
    what: 'FlowTable.push',
    unit: 'packets/s',
    value: flowRate,
    reference: 'sum of lengths',
    refValue: refSum2,
  });
  print(rows);
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(2);
}

function print(rows: Row[]): void {
  const table = [['measure', 'rate', 'unit', 'per CPU-second', 'reference', 'reference rate', 'ratio']];
  for (const r of rows) {
    const ratio = Number.isFinite(r.refValue) ? `1 : ${(r.refValue / r.value).toFixed(1)}` : '-';
    table.push([r.what, fmt(r.value), r.unit, fmt(r.perCpu ?? Number.NaN), r.reference, fmt(r.refValue), ratio]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table)
    process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}\n`);
  process.stdout.write(`(checksum ${sink > 0 ? 'ok' : 'zero'}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')})\n`);
}

await main();
