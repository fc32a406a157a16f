/**
 * `wirelab analyze --stats`: the statistics consumer of the pipeline, and the fast path that feeds
 * them straight from the reader. Loaded only when --stats is asked for.
 */
import { StatsFieldsDecoder, type PacketFilter, type PacketSink, type PacketSummary, type RawPacket } from '../capture/index.js';
import { TrafficStats, formatStats } from '../analysis/index.js';
import type { PacketConsumer, PacketPrinter } from './analyze-consumers.js';
import { progressBar, type Pipeline } from './analyze-sources.js';
import { untilStopped } from './shared.js';
import { readCaptureFileInto } from '../capture/index.js';

/** --stats: traffic statistics over the whole run, printed at the end (and every few seconds live). */
export class StatsConsumer implements PacketConsumer {
  readonly stats = new TrafficStats();

  accept(_raw: RawPacket, summary: PacketSummary): boolean {
    this.stats.add(summary);
    return true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  finish(): Promise<void> {
    return Promise.resolve();
  }

  /** --top N: talkers listed in the human report */
  top = 5;

  report(printer: PacketPrinter, final: boolean): void {
    const snapshot = this.stats.snapshot();
    printer.event('stats', { final, ...snapshot }, (final ? 'Statistics:\n' : 'Statistics so far:\n') + formatStats(snapshot, this.top));
  }
}

/**
 * --stats alone on a file: packets go straight from the reader into the statistics through the lean
 * field decoder, with no RawPacket or summary object per packet (the fast path; see PERFORMANCE.md).
 */
export class StatsSink implements PacketSink {
  packets = 0;
  /** bytes on the wire */
  bytes = 0;
  private readonly decoder = new StatsFieldsDecoder();

  constructor(
    private readonly stats: StatsConsumer,
    private readonly limit: number | undefined,
    private readonly filter: PacketFilter | undefined,
  ) {}

  /** --count reached */
  get done(): boolean {
    return this.limit !== undefined && this.packets >= this.limit;
  }

  packet(buf: Buffer, at: number, capturedLength: number, originalLength: number, tsSec: number, tsNsec: number, linkType: number): void {
    if (this.done) return;
    if (this.filter !== undefined && !this.filter.matches(linkType, buf, at, capturedLength, originalLength)) return;
    this.packets++;
    this.bytes += originalLength;
    const decoder = this.decoder;
    const summary = decoder.decode(buf, at, capturedLength, originalLength, tsSec, tsNsec, linkType, this.packets);
    this.stats.stats.add(summary, decoder.srcV4, decoder.dstV4);
  }
}


/** --stats alone on a file: the callback reader and the lean field decoder, no per-packet objects. */
export async function readFileForStats(path: string, stats: StatsConsumer, pipeline: Pipeline, count: number | undefined, filter: PacketFilter | undefined, json: boolean): Promise<void> {
  let stopped = false;
  void untilStopped().then(() => (stopped = true));
  const progress = await progressBar(json);
  const sink = new StatsSink(stats, count, filter);
  try {
    await readCaptureFileInto(path, sink, { onProgress: progress, stop: () => sink.done || stopped });
  } finally {
    progress.stop();
    pipeline.packets = sink.packets;
    pipeline.bytes = sink.bytes;
  }
}

