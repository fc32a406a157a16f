/**
 * What `wirelab analyze` hands each packet to: the printer (lines or NDJSON on stdout), --stats, and
 * the capture file writer. (--anomalies lives in analyze-anomalies.ts.)
 */
import {
  formatSummary,
  StatsFieldsDecoder,
  summaryToJson,
  type CaptureWriter,
  type PacketSink,
  type PacketSummary,
  type RawPacket,
} from '../capture/index.js';
import { TrafficStats, formatStats } from '../analysis/index.js';

/** stdout is written in blocks of about this many characters (one write per block, not per line) */
const OUTPUT_BLOCK_CHARS = 64 * 1024;

/**
 * Something that sees every packet of a run: the printer and the file writer now; --stats and
 * --anomalies join here as further consumers.
 */
export interface PacketConsumer {
  /** false: the consumer's sink is full; await drained() before the next batch */
  accept(raw: RawPacket, summary: PacketSummary): boolean;
  drained(): Promise<void>;
  /** end of the run: flush everything */
  finish(): Promise<void>;
}

/** Lines (or NDJSON) to stdout in large blocks, honouring stdout's backpressure. */
export class PacketPrinter implements PacketConsumer {
  private pending = '';
  /** the reader of stdout went away (EPIPE, e.g. `| head`): stop printing, and stop the run */
  closed = false;

  constructor(
    private readonly json: boolean,
    private readonly eager: boolean,
  ) {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      this.closed = true;
    });
  }

  accept(_raw: RawPacket, summary: PacketSummary): boolean {
    this.pending += this.json ? JSON.stringify({ event: 'packet', ...summaryToJson(summary) }) + '\n' : formatSummary(summary) + '\n';
    return this.eager || this.pending.length >= OUTPUT_BLOCK_CHARS ? this.flush() : true;
  }

  /** Print one whole line (after flushing what is pending, to keep the order). */
  print(line: string): void {
    this.pending += line + '\n';
    this.flush();
  }

  flush(): boolean {
    if (this.closed) this.pending = '';
    if (this.pending.length === 0) return !process.stdout.writableNeedDrain;
    const ok = process.stdout.write(this.pending);
    this.pending = '';
    return ok;
  }

  async drained(): Promise<void> {
    if (!process.stdout.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        process.stdout.off('drain', done);
        process.stdout.off('close', done);
        resolve();
      };
      process.stdout.once('drain', done);
      process.stdout.once('close', done);
    });
  }

  finish(): Promise<void> {
    this.flush();
    return Promise.resolve();
  }
}

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

  report(printer: PacketPrinter, json: boolean, final: boolean): void {
    const snapshot = this.stats.snapshot();
    printer.print(json ? JSON.stringify({ event: 'stats', final, ...snapshot }) : formatStats(snapshot));
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
  ) {}

  /** --count reached */
  get done(): boolean {
    return this.limit !== undefined && this.packets >= this.limit;
  }

  packet(buf: Buffer, at: number, capturedLength: number, originalLength: number, tsSec: number, tsNsec: number, linkType: number): void {
    if (this.done) return;
    this.packets++;
    this.bytes += originalLength;
    const decoder = this.decoder;
    const summary = decoder.decode(buf, at, capturedLength, originalLength, tsSec, tsNsec, linkType, this.packets);
    this.stats.stats.add(summary, decoder.srcV4, decoder.dstV4);
  }
}

export class FileConsumer implements PacketConsumer {
  constructor(private readonly writer: CaptureWriter) {}

  accept(raw: RawPacket): boolean {
    return this.writer.write(raw);
  }

  drained(): Promise<void> {
    return this.writer.drained();
  }

  finish(): Promise<void> {
    return this.writer.close();
  }
}
