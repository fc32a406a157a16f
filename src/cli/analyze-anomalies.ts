/**
 * `wirelab analyze --anomalies`: the anomaly detector as a consumer of the analyze pipeline. The
 * detector runs in a worker thread (AnomalyWorker), off the thread that reads and decodes packets;
 * anomalies are printed as the worker reports them, in packet order, and the summary after the last.
 */
import { hasTime, type PacketSummary, type RawPacket } from '../capture/index.js';
import { AnomalyWorker, DEFAULT_WORKER_BATCH, formatAnomaly, formatNovelty, type Anomaly, type AnomalyDetectorStats, type Novelty } from '../analysis/index.js';
import type { WirelabError } from '../common/errors.js';
import type { PacketConsumer, PacketPrinter } from './analyze-consumers.js';
import { count, grouped } from './analyze-text.js';

/** What the detector is asked to learn; every field given (the CLI states the defaults). */
export interface BaselinePlan {
  baselinePackets: number;
  baselineFlows: number;
  /** seconds of traffic ignored before learning */
  warmup: number;
  /** --baseline N asked for a short baseline: its results carry a caveat */
  short: boolean;
}

/** The summary's human text and fields: what was scored, and when nothing was, why. */
export function anomalySummary(found: number, skipped: number, s: AnomalyDetectorStats, plan: BaselinePlan): [string, Record<string, unknown>] {
  const packetsReady = s.packetThreshold !== null;
  const flowsReady = s.flowThreshold !== null;
  const missing: string[] = [];
  if (!packetsReady) missing.push(`${count(s.packetBaseline, 'packet')} of ${grouped(plan.baselinePackets)} learnt`);
  if (!flowsReady) missing.push(`${count(s.flowBaseline, 'flow')} of ${grouped(plan.baselineFlows)} learnt`);
  let text: string;
  if (!packetsReady && !flowsReady) {
    text = `Anomalies: nothing scored: baseline incomplete (${missing.join(', ')}; ${count(s.packets, 'packet')} read, the first ${plan.warmup} s a warm-up); a short capture can be fitted with --baseline N`;
  } else {
    text = `Anomalies: ${found === 0 ? 'none' : grouped(found)} found in ${count(s.packetsScored, 'packet')} and ${count(s.flowsScored, 'flow')} scored`;
    if (missing.length > 0) text += ` (baseline incomplete: ${missing.join(', ')}; those not scored)`;
  }
  if (plan.short) text += ` [baseline of only ${count(plan.baselinePackets, 'packet')}: a rough fit, expect false alarms]`;
  if (skipped > 0) text += ` (${count(skipped, 'packet')} skipped: the detector fell behind)`;
  const fields = { found, skipped, baselineComplete: packetsReady && flowsReady, baselinePackets: plan.baselinePackets, baselineFlows: plan.baselineFlows, shortBaseline: plan.short, ...s };
  return [text, fields];
}

/** --anomalies: an Isolation Forest baseline, then each abnormal packet or flow as it is found. */
export class AnomalyConsumer implements PacketConsumer {
  private readonly worker: AnomalyWorker;
  private readonly started: Promise<void>;
  private failure: WirelabError | undefined;
  found = 0;
  /** the worker's batch still fills after it says it is behind; past that it skips (PacketConsumer.slack) */
  readonly slack = DEFAULT_WORKER_BATCH;

  constructor(
    private readonly printer: PacketPrinter,
    private readonly plan: BaselinePlan,
  ) {
    this.worker = new AnomalyWorker({ detector: { baselinePackets: plan.baselinePackets, baselineFlows: plan.baselineFlows, warmup: plan.warmup } });
    this.worker.on('anomaly', (a) => this.show(a));
    this.worker.on('novelty', (e) => this.showNovelty(e));
    this.worker.on('error', (err) => (this.failure ??= err));
    // packets wait in the worker's first batch (accept() says "full") until the thread is up
    this.started = this.worker.start();
    this.started.catch(() => undefined);
  }

  /** Packets without a timestamp (pcapng SPB) are not scored: every feature the detector has is timed. */
  accept(_raw: RawPacket, summary: PacketSummary): boolean {
    return hasTime(summary) ? this.worker.push(summary) : true;
  }

  private show(a: Anomaly): void {
    this.found++;
    if (this.printer.json) this.printer.print(JSON.stringify({ event: 'anomaly', time: a.ts, ...a }));
    else this.printer.print(this.printer.timeText(a.ts) + ' ' + formatAnomaly(a));
  }

  /** A new host, service or MAC: reported once, as an event (issue 16). */
  private showNovelty(e: Novelty): void {
    if (this.printer.json) this.printer.print(JSON.stringify({ event: 'novelty', time: e.ts, ...e }));
    else this.printer.print(this.printer.timeText(e.ts) + ' ' + formatNovelty(e));
  }

  async drained(): Promise<void> {
    await this.started;
    await this.worker.drained();
  }

  async finish(): Promise<void> {
    try {
      await this.started;
      if (this.failure) throw this.failure;
      const s = await this.worker.flush();
      const { skipped } = this.worker.stats();
      const [text, fields] = anomalySummary(this.found, skipped, s, this.plan);
      this.printer.event('anomaly-summary', fields, text);
    } finally {
      await this.worker.close();
    }
  }
}
