/**
 * Run the anomaly detector over labelled traffic and count, per label, how many items were scored
 * and how many were flagged: per packet, and per flow (a flow takes the attack label of any of its
 * packets, otherwise 'normal'; replies count with their attack).
 */
import { AnomalyDetector, type AnomalyDetectorOptions } from '../../../src/analysis/anomaly.js';
import { flowKey } from '../../../src/analysis/flows.js';
import type { Label, Labelled } from './synth.js';

export interface Tally {
  scored: number;
  flagged: number;
}

export interface Evaluation {
  packets: Map<Label, Tally>;
  flows: Map<Label, Tally>;
  /** anomalies reported, for looking at explanations */
  anomalies: ReturnType<AnomalyDetector['push']>;
  /** ms spent in pushBatch() and flush() */
  elapsedMs: number;
}

function count(map: Map<Label, Tally>, label: Label, flagged: boolean): void {
  let t = map.get(label);
  if (!t) map.set(label, (t = { scored: 0, flagged: 0 }));
  t.scored++;
  if (flagged) t.flagged++;
}

function attackOf(label: Label): Label {
  if (label === 'scan-reply') return 'scan';
  return label === 'flood-reply' ? 'flood' : label;
}

export function evaluate(traffic: Labelled[], options: AnomalyDetectorOptions): Evaluation {
  const labelOf = new Map<number, Label>();
  const flowLabel = new Map<string, Label>();
  for (const { p, label } of traffic) {
    labelOf.set(p.index, label);
    const key = flowKey(p);
    if (label !== 'normal' || !flowLabel.has(key)) flowLabel.set(key, attackOf(label));
  }
  const packets = new Map<Label, Tally>();
  const flows = new Map<Label, Tally>();
  const detector = new AnomalyDetector({
    ...options,
    onScore: (e) => {
      if (e.kind === 'packet') count(packets, labelOf.get(e.packet.index)!, e.score > e.threshold);
      else count(flows, flowLabel.get(e.flow.key)!, e.score > e.threshold);
    },
  });
  const anomalies: Evaluation['anomalies'] = [];
  const started = performance.now();
  const input = traffic.map((x) => x.p);
  for (let i = 0; i < input.length; i += 4096) anomalies.push(...detector.pushBatch(input.slice(i, i + 4096)));
  anomalies.push(...detector.flush());
  return { packets, flows, anomalies, elapsedMs: performance.now() - started };
}

/** flagged / scored, or NaN when nothing was scored. */
export function rate(t: Tally | undefined): number {
  return t && t.scored > 0 ? t.flagged / t.scored : Number.NaN;
}
