/**
 * Ground truth for the real-traffic anomaly test: a label for every packet and flow of the capture
 * (from who sent it and what it is), which of them the detector scored (after the warm-up and the
 * baseline, by the detector's own rules), and recall / false-positive tallies from the anomalies that
 * `wirelab analyze --anomalies --json` reported.
 *
 * Labels, from who sent a packet and what it is (the attacker runs one attack at a time, each to its
 * own port or protocol): from the attacker, `reqflood` TCP to the request-flood port, `bulk` TCP to
 * the sink port, `udpflood` UDP, `icmpflood` ICMP, `scan` any other TCP; `flood` TCP from spoofed
 * sources (no lab host); `jumbo` frames over 1514 bytes (the largest untagged Ethernet frame of a
 * 1500-byte MTU) from a client; `reply` what the server sends back to the attacker or to spoofed
 * sources (reported, but neither an attack item nor normal traffic, as in the synthetic
 * evaluation); `newcomer` the packets from and to the client that starts after the baseline;
 * `newservice` TCP to and from the port first used after the baseline; `arp` ARP (not scored by
 * the detector, watched for new MACs); `normal` the rest. A flow takes the label of its packets'
 * attack, if any.
 */
import { decodePacket, readCaptureFile, type PacketSummary } from '../../../src/capture/index.js';
import { FlowTable, flowKey, type FlowRecord } from '../../../src/analysis/index.js';

export type Label =
  | 'normal'
  | 'scan'
  | 'flood'
  | 'jumbo'
  | 'udpflood'
  | 'icmpflood'
  | 'reqflood'
  | 'bulk'
  | 'newcomer'
  | 'newservice'
  | 'reply'
  | 'arp';

/** Labels that are no attack: their flows keep the label of their packets. */
const BENIGN: ReadonlySet<Label> = new Set(['normal', 'reply', 'arp']);

/** Bytes: the largest frame of a 1500-byte MTU (Ethernet header included); larger is oversized. */
export const LARGEST_NORMAL_FRAME = 1514;

export interface Hosts {
  attacker: string;
  /** the client that starts after the baseline */
  newcomer: string;
  /** every address of the lab (server, clients, attacker) */
  lab: ReadonlySet<string>;
  /** TCP ports: the request flood's, the bulk transfer's, the new service's */
  ports: { reqflood: number; bulk: number; newservice: number };
}

export interface Tally {
  scored: number;
  flagged: number;
}

export interface DetectorSchedule {
  /** s of packet time from the first packet during which nothing is scored */
  warmup: number;
  baselinePackets: number;
  baselineFlows: number;
}

export interface Truth {
  packets: PacketSummary[];
  /** per packet index (1-based) */
  packetLabel: Map<number, Label>;
  /** packet indices the detector scored */
  scoredPackets: number[];
  /** flows the detector scored, with their labels, by `${key}@${start}` */
  scoredFlows: Map<string, Label>;
  /** items learnt into the baselines, by label (attacks must have come after them) */
  learntPackets: Map<Label, number>;
  learntFlows: Map<Label, number>;
  /** senders of frames over LARGEST_NORMAL_FRAME (but the attacker), and how many each */
  oversizedFrom: Map<string, number>;
  /** index of the first packet from the newcomer */
  newcomerFirst: number;
}

function fromAttacker(p: PacketSummary, hosts: Hosts): Label {
  if (p.ipProto === 17) return 'udpflood';
  if (p.ipProto === 1) return 'icmpflood';
  if (p.dport === hosts.ports.reqflood) return 'reqflood';
  return p.dport === hosts.ports.bulk ? 'bulk' : 'scan';
}

export function labelPacket(p: PacketSummary, hosts: Hosts): Label {
  const fromLab = p.src !== undefined && hosts.lab.has(p.src);
  if (p.ipProto < 0) return 'arp';
  if (p.src === hosts.attacker) return fromAttacker(p, hosts);
  if (p.dst === hosts.attacker || (p.dst !== undefined && !hosts.lab.has(p.dst))) return 'reply';
  if (!fromLab && p.ipProto === 6) return 'flood';
  if (p.length > LARGEST_NORMAL_FRAME) return 'jumbo';
  if (p.src === hosts.newcomer || p.dst === hosts.newcomer) return 'newcomer';
  if (p.ipProto === 6 && (p.sport === hosts.ports.newservice || p.dport === hosts.ports.newservice)) return 'newservice';
  return 'normal';
}

export function flowId(key: string, start: number): string {
  return `${key}@${start}`;
}

/** Read the capture, label it, and work out what the detector scored (its warm-up and baseline rules). */
export async function groundTruth(file: string, hosts: Hosts, schedule: DetectorSchedule): Promise<Truth> {
  const packets: PacketSummary[] = [];
  for await (const batch of readCaptureFile(file)) for (const raw of batch) packets.push(decodePacket(raw));
  const time = (p: PacketSummary): number => p.tsSec + p.tsNsec / 1e9;
  const warmUntil = time(packets[0]!) + schedule.warmup;
  const packetLabel = new Map<number, Label>();
  const scoredPackets: number[] = [];
  let learnt = 0;
  const oversizedFrom = new Map<string, number>();
  let newcomerFirst = 0;
  const learntPackets = new Map<Label, number>();
  const learntFlows = new Map<Label, number>();
  const table = new FlowTable();
  const ended: FlowRecord<undefined>[] = [];
  const flowLabel = new Map<string, Label>();
  for (const p of packets) {
    const label = labelPacket(p, hosts);
    packetLabel.set(p.index, label);
    if (!BENIGN.has(label) && !flowLabel.has(flowKey(p))) flowLabel.set(flowKey(p), label);
    if (p.length > LARGEST_NORMAL_FRAME && p.src !== hosts.attacker) oversizedFrom.set(p.src ?? '', (oversizedFrom.get(p.src ?? '') ?? 0) + 1);
    if (p.src === hosts.newcomer && newcomerFirst === 0) newcomerFirst = p.index;
    // the detector scores IP packets only (ARP is watched for new MACs)
    if (time(p) >= warmUntil && p.ipProto >= 0) {
      if (learnt < schedule.baselinePackets) {
        learnt++;
        learntPackets.set(label, (learntPackets.get(label) ?? 0) + 1);
      } else {
        scoredPackets.push(p.index);
      }
    }
    ended.push(...table.push(p));
  }
  ended.push(...table.flush());
  const scoredFlows = new Map<string, Label>();
  let flowsLearnt = 0;
  for (const f of ended) {
    if (f.start < warmUntil || f.ipProto < 0) continue;
    const label = flowLabel.get(f.key) ?? 'normal';
    if (flowsLearnt < schedule.baselineFlows) {
      flowsLearnt++;
      learntFlows.set(label, (learntFlows.get(label) ?? 0) + 1);
    } else {
      scoredFlows.set(flowId(f.key, f.start), label);
    }
  }
  return { packets, packetLabel, scoredPackets, scoredFlows, learntPackets, learntFlows, oversizedFrom, newcomerFirst };
}

/** An `anomaly` event of `wirelab analyze --json`, the fields used here. */
export interface AnomalyEvent {
  kind: 'packet' | 'flow';
  index: number;
  flow?: { key: string; start: number; dport: number; endReason: string };
}

/** Per label: items scored and items flagged. */
export function tally(truth: Truth, anomalies: AnomalyEvent[]): { packets: Map<Label, Tally>; flows: Map<Label, Tally> } {
  const flaggedPackets = new Set(anomalies.filter((a) => a.kind === 'packet').map((a) => a.index));
  const flaggedFlows = new Set(anomalies.filter((a) => a.kind === 'flow').map((a) => flowId(a.flow!.key, a.flow!.start)));
  const packets = new Map<Label, Tally>();
  const flows = new Map<Label, Tally>();
  const count = (map: Map<Label, Tally>, label: Label, flagged: boolean): void => {
    const t = map.get(label) ?? { scored: 0, flagged: 0 };
    t.scored++;
    if (flagged) t.flagged++;
    map.set(label, t);
  };
  for (const index of truth.scoredPackets) count(packets, truth.packetLabel.get(index)!, flaggedPackets.has(index));
  for (const [id, label] of truth.scoredFlows) count(flows, label, flaggedFlows.has(id));
  return { packets, flows };
}

export function rate(t: Tally | undefined): number {
  return t && t.scored > 0 ? t.flagged / t.scored : Number.NaN;
}
