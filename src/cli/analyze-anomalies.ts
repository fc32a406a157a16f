/** `wirelab analyze --anomalies`: the anomaly detector as a consumer of the analyze pipeline. */
import type { PacketSummary, RawPacket } from '../capture/index.js';
import { AnomalyDetector, formatAnomaly, type Anomaly, type AnomalyDetectorOptions } from '../analysis/index.js';
import type { PacketConsumer, PacketPrinter } from './analyze-consumers.js';

/** --anomalies: an Isolation Forest baseline, then each abnormal packet or flow as it is found. */
export class AnomalyConsumer implements PacketConsumer {
  private readonly detector: AnomalyDetector;
  found = 0;

  constructor(
    private readonly printer: PacketPrinter,
    private readonly json: boolean,
    options: AnomalyDetectorOptions,
  ) {
    this.detector = new AnomalyDetector(options);
  }

  accept(_raw: RawPacket, summary: PacketSummary): boolean {
    this.show(this.detector.push(summary));
    return true;
  }

  private show(anomalies: Anomaly[]): void {
    for (const a of anomalies) {
      this.found++;
      this.printer.print(this.json ? JSON.stringify({ event: 'anomaly', ...a }) : formatAnomaly(a));
    }
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  finish(): Promise<void> {
    this.show(this.detector.flush());
    const s = this.detector.stats();
    this.printer.print(this.json ? JSON.stringify({ event: 'anomaly-summary', found: this.found, ...s }) : `Anomalies: ${this.found} found`);
    return Promise.resolve();
  }
}
