/**
 * What `wirelab analyze` hands each packet to: the printer (lines or NDJSON on stdout), --stats, and
 * the capture file writer. (--anomalies lives in analyze-anomalies.ts.)
 */
import {
  FAST_LINE_MAX_BYTES,
  FastLineWriter,
  packetJsonLine,
  PacketLineFormatter,
  type CaptureWriter,
  type PacketSummary,
  type RawPacket,
} from '../capture/index.js';
import { clockText } from './analyze-text.js';

/** stdout is written in blocks of about this many bytes (one write per block, not per line) */
const OUTPUT_BLOCK_BYTES = 64 * 1024;

/**
 * Something that sees every packet of a run: the printer and the file writer now; --stats and
 * --anomalies join here as further consumers.
 */
export interface PacketConsumer {
  /** false: the consumer's sink is full; await drained() before the next batch */
  accept(raw: RawPacket, summary: PacketSummary): boolean;
  drained(): Promise<void>;
  /**
   * Packets the consumer still takes after accept() said false, before it must drop some: a file is
   * then read in chunks small enough that one chunk never holds more (at least 16 bytes a record).
   * Absent: no limit (it waits, or holds what it is given).
   */
  readonly slack?: number;
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

/**
 * Lines (or NDJSON) to stdout in large blocks, honouring stdout's backpressure. Lines are encoded
 * into one output buffer as they come (the fast line writer writes its bytes there directly); a full
 * block is handed to the stream and a fresh one taken.
 */
export class PacketPrinter implements PacketConsumer {
  private block = Buffer.allocUnsafe(OUTPUT_BLOCK_BYTES + FAST_LINE_MAX_BYTES);
  private used = 0;
  /** the reader of stdout went away (EPIPE, e.g. `| head`): stop printing, and stop the run */
  closed = false;
  readonly json: boolean;
  readonly utc: boolean;
  private readonly eager: boolean;
  private readonly stream: NodeJS.WriteStream;
  private readonly lines: PacketLineFormatter;
  private readonly fast: FastLineWriter;

  constructor(options: PrinterOptions) {
    this.json = options.json;
    this.utc = options.utc;
    this.eager = options.eager;
    this.stream = options.stream ?? process.stdout;
    this.lines = new PacketLineFormatter({ utc: options.utc, verbose: options.verbose });
    this.fast = new FastLineWriter(this.lines);
    this.stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      this.closed = true;
    });
  }

  accept(_raw: RawPacket, summary: PacketSummary): boolean {
    this.append(this.json ? packetJsonLine(summary) : this.lines.format(summary));
    return this.eager || this.used >= OUTPUT_BLOCK_BYTES ? this.flush() : true;
  }

  /**
   * The line (human or NDJSON) of a packet straight from its bytes, when the fast writer takes it (see
   * fast-line.ts); false: decode it and hand it to accept(). `full` tells whether to wait for drained().
   */
  tryFast(buf: Buffer, at: number, capLen: number, wireLen: number, tsSec: number, tsNsec: number, linkType: number, index: number): boolean {
    if (this.closed) return false;
    const end = this.json
      ? this.fast.writeJson(this.block, this.used, buf, at, capLen, wireLen, tsSec, tsNsec, linkType, index)
      : this.fast.write(this.block, this.used, buf, at, capLen, wireLen, tsSec, tsNsec, linkType, index);
    if (end < 0) return false;
    this.used = end;
    if (this.eager || this.used >= OUTPUT_BLOCK_BYTES) this.full = !this.flush();
    return true;
  }

  /** set by tryFast when stdout asked to wait */
  full = false;

  /** Print one whole line (after what is pending, to keep the order), at once. */
  print(line: string): void {
    this.append(line);
    this.flush();
  }

  /** Encode `line` and a newline into the block (a line larger than a block goes out on its own). */
  private append(line: string): void {
    if (this.closed) return;
    const most = line.length * 3 + 1;
    if (this.used + most > this.block.length) this.flush();
    if (most > this.block.length) {
      this.stream.write(line + '\n');
      return;
    }
    this.used += this.block.write(line, this.used, 'utf8');
    this.block[this.used++] = 0x0a;
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
    if (this.closed) this.used = 0;
    if (this.used === 0) return !this.stream.writableNeedDrain;
    const ok = this.stream.write(this.block.subarray(0, this.used));
    // stdout to a file or pipe is written synchronously on Linux: nothing left queued means the block
    // is free again; otherwise the stream holds it until written, and a fresh one is taken
    if (this.stream.writableLength > 0) this.block = Buffer.allocUnsafe(OUTPUT_BLOCK_BYTES + FAST_LINE_MAX_BYTES);
    this.used = 0;
    return ok;
  }

  async drained(): Promise<void> {
    this.full = false;
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
