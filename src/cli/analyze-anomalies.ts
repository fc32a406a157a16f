/**
 * `wirelab analyze --anomalies`: the anomaly detector as a consumer of the analyze pipeline. The
 * detector runs in a worker thread (AnomalyWorker), off the thread that reads and decodes packets;
 * anomalies are printed as the worker reports them, in packet order, and the summary after the last.
 */
import type { PacketSummary, RawPacket } from '../capture/index.js';
import { AnomalyWorker, formatAnomaly, formatNovelty, type Anomaly, type AnomalyDetectorOptions } from '../analysis/index.js';
import type { WirelabError } from '../common/errors.js';
import type { PacketConsumer, PacketPrinter } from './analyze-consumers.js';

/** --anomalies: an Isolation Forest baseline, then each abnormal packet or flow as it is found. */
export class AnomalyConsumer implements PacketConsumer {
  private readonly worker: AnomalyWorker;
  private readonly started: Promise<void>;
  private failure: WirelabError | undefined;
  found = 0;

  constructor(
    private readonly printer: PacketPrinter,
    private readonly json: boolean,
    options: AnomalyDetectorOptions,
  ) {
    this.worker = new AnomalyWorker({ detector: options });
    this.worker.on('anomaly', (a) => this.show(a));
    this.worker.on('novelty', (e) => this.printer.print(this.json ? JSON.stringify({ event: 'novelty', ...e }) : formatNovelty(e)));
    this.worker.on('error', (err) => (this.failure ??= err));
    // packets wait in the worker's first batch (accept() says "full") until the thread is up
    this.started = this.worker.start();
    this.started.catch(() => undefined);
  }

  accept(_raw: RawPacket, summary: PacketSummary): boolean {
    return this.worker.push(summary);
  }

  private show(a: Anomaly): void {
    this.found++;
    this.printer.print(this.json ? JSON.stringify({ event: 'anomaly', ...a }) : formatAnomaly(a));
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
      this.printer.print(this.json ? JSON.stringify({ event: 'anomaly-summary', found: this.found, skipped, ...s }) : `Anomalies: ${this.found} found${skipped > 0 ? ` (${skipped} packets skipped: the detector fell behind)` : ''}`);
    } finally {
      await this.worker.close();
    }
  }
}
