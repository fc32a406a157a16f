/**
 * What `wirelab analyze` hands each packet to: the printer (lines or NDJSON on stdout), --stats, and
 * the capture file writer. (--anomalies lives in analyze-anomalies.ts.)
 */
import {
  packetJsonLine,
  PacketLineFormatter,
  type CaptureWriter,
  type PacketSummary,
  type RawPacket,
} from '../capture/index.js';
import { clockText } from './analyze-text.js';

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

/** Options of {@link PacketPrinter}. */
export interface PrinterOptions {
  json: boolean;
  /** write every line at once (live capture) instead of in blocks */
  eager: boolean;
  /** packet times and event stamps in UTC */
  utc: boolean;
  /** TCP lines carry seq/ack/window (-v) */
  verbose?: boolean;
  /** where lines go: stdout, or stderr when stdout carries a capture (`-w -`) */
  stream?: NodeJS.WriteStream;
}

/** Lines (or NDJSON) to stdout in large blocks, honouring stdout's backpressure. */
export class PacketPrinter implements PacketConsumer {
  private pending = '';
  /** the reader of stdout went away (EPIPE, e.g. `| head`): stop printing, and stop the run */
  closed = false;
  readonly json: boolean;
  readonly utc: boolean;
  private readonly eager: boolean;
  private readonly stream: NodeJS.WriteStream;
  private readonly lines: PacketLineFormatter;

  constructor(options: PrinterOptions) {
    this.json = options.json;
    this.utc = options.utc;
    this.eager = options.eager;
    this.stream = options.stream ?? process.stdout;
    this.lines = new PacketLineFormatter({ utc: options.utc, verbose: options.verbose });
    this.stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      this.closed = true;
    });
  }

  accept(_raw: RawPacket, summary: PacketSummary): boolean {
    this.pending += (this.json ? packetJsonLine(summary) : this.lines.format(summary)) + '\n';
    return this.eager || this.pending.length >= OUTPUT_BLOCK_CHARS ? this.flush() : true;
  }

  /** Print one whole line (after flushing what is pending, to keep the order). */
  print(line: string): void {
    this.pending += line + '\n';
    this.flush();
  }

  /**
   * One event that is not a packet: NDJSON with `event` and `time` (now, epoch seconds) first, or
   * the human text after the local time of day (`hh:mm:ss.mmm`).
   */
  event(event: string, fields: object, human: string): void {
    if (this.json) this.print(JSON.stringify({ event, time: Date.now() / 1000, ...fields }));
    else this.print(clockText(Date.now(), this.utc) + ' ' + human);
  }

  /** "hh:mm:ss.uuuuuu" of a capture time in seconds (an anomaly's packet), as packet lines print it. */
  timeText(ts: number): string {
    const sec = Math.floor(ts);
    return this.lines.time(sec, Math.min(999_999, Math.round((ts - sec) * 1e6)) * 1000);
  }

  flush(): boolean {
    if (this.closed) this.pending = '';
    if (this.pending.length === 0) return !this.stream.writableNeedDrain;
    const ok = this.stream.write(this.pending);
    this.pending = '';
    return ok;
  }

  async drained(): Promise<void> {
    const stream = this.stream;
    if (!stream.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.once('drain', done);
      stream.once('close', done);
    });
  }

  finish(): Promise<void> {
    this.flush();
    return Promise.resolve();
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
