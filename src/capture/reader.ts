/**
 * Reading captures: a byte queue that hands the format parsers contiguous bytes without copying
 * (except a record that straddles two chunks), a reader that recognises pcap or pcapng by its magic
 * number (never by file name) and streams packets out, and the file source built on it.
 */
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { DecodeError, fromSystemError, WirelabError } from '../common/errors.js';
import type { RawPacket } from './types.js';
import {
  DEFAULT_MAX_BLOCK_BYTES,
  DEFAULT_MAX_INTERFACES,
  DEFAULT_MAX_PACKET_BYTES,
  MAGIC,
  READ_CHUNK_BYTES,
  READ_INTO_CHUNK_BYTES,
} from './constants.js';
import { PcapParser } from './pcap.js';
import { PcapngParser } from './pcapng.js';

/**
 * The unread bytes of a stream as a list of chunks. `ensure(n)` makes `n` bytes contiguous at
 * `buf[at]`: a view into the current chunk when it holds them all, else one copy of exactly `n` bytes.
 */
export class ByteQueue {
  /** after a successful ensure(): the buffer holding the next bytes */
  buf: Buffer = Buffer.alloc(0);
  /** after a successful ensure(): where in `buf` the next bytes start */
  at = 0;
  private chunks: Buffer[] = [];
  private first = 0;
  private pos = 0;
  private size = 0;
  private consumed = 0;

  /** unread bytes held */
  get available(): number {
    return this.size;
  }

  /** absolute stream offset of the next unread byte */
  get offset(): number {
    return this.consumed;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Make the next `n` bytes contiguous at `buf[at]`; false (and no copy) while fewer are held. */
  ensure(n: number): boolean {
    if (n > this.size) return false;
    const head = this.chunks[this.first]!;
    if (head.length - this.pos >= n) {
      this.buf = head;
      this.at = this.pos;
    } else {
      this.buf = this.gather(n);
      this.at = 0;
    }
    return true;
  }

  /**
   * Point `buf`/`at` at the unread bytes of the current chunk and return how many there are (0 when
   * nothing is held): the run a parser may walk without ensure() before one skip().
   */
  head(): number {
    if (this.size === 0) return 0;
    const head = this.chunks[this.first]!;
    this.buf = head;
    this.at = this.pos;
    return head.length - this.pos;
  }

  /**
   * Copy the unread bytes (at most one unit that straddles the end of the input so far) out of the
   * chunks, so the caller may reuse the chunks' memory for the next read.
   */
  detach(): void {
    if (this.size === 0) {
      this.chunks = [];
      this.first = 0;
      this.pos = 0;
      return;
    }
    const rest = this.gather(this.size);
    this.chunks = [rest];
    this.first = 0;
    this.pos = 0;
  }

  /** Consume `n` bytes (at most `available`). */
  skip(n: number): void {
    this.size -= n;
    this.consumed += n;
    this.pos += n;
    while (this.first < this.chunks.length && this.pos >= this.chunks[this.first]!.length) {
      this.pos -= this.chunks[this.first]!.length;
      this.first++;
    }
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first > 64) {
      this.chunks.splice(0, this.first);
      this.first = 0;
    }
  }

  private gather(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let index = this.first;
    let from = this.pos;
    while (copied < n) {
      const chunk = this.chunks[index++]!;
      copied += chunk.copy(out, copied, from, Math.min(chunk.length, from + n - copied));
      from = 0;
    }
    return out;
  }
}

/** Limits every reader takes (defaults in constants.ts). */
export interface ReaderLimits {
  /** largest captured packet, bytes */
  maxPacketBytes: number;
  /** largest pcapng block, bytes */
  maxBlockBytes: number;
  /** most interfaces per pcapng section */
  maxInterfaces: number;
}

export const defaultLimits: ReaderLimits = {
  maxPacketBytes: DEFAULT_MAX_PACKET_BYTES,
  maxBlockBytes: DEFAULT_MAX_BLOCK_BYTES,
  maxInterfaces: DEFAULT_MAX_INTERFACES,
};

/**
 * Where a parser delivers packets: one call per packet with its bytes as `buf[at, at + capturedLength)`.
 * The bytes are valid only during the call: they are a zero-copy view, and readCaptureFileInto reads
 * the next bytes into the same buffer (the batch API reuses nothing, but a sink must not rely on
 * that). A consumer that keeps a packet copies it.
 */
export interface PacketSink {
  /**
   * @param originalLength bytes on the wire
   * @param tsSec whole seconds since the epoch
   * @param tsNsec nanoseconds within the second
   * @param linkType LINKTYPE_* (low 16 bits)
   * @param interfaceId pcapng interface id, 0 for pcap
   */
  packet(buf: Buffer, at: number, capturedLength: number, originalLength: number, tsSec: number, tsNsec: number, linkType: number, interfaceId: number): void;
}

/** A format's parser: consumes whole units from the queue, hands packets to the sink, throws DecodeError on damage. */
export interface FormatParser {
  parse(queue: ByteQueue, sink: PacketSink): void;
  /** packets delivered so far */
  readonly packets: number;
}

/** The sink behind the RawPacket API: one object per packet, its data a view into the chunk. */
class PacketCollector implements PacketSink {
  out: RawPacket[] = [];
  private index = 0;

  packet(buf: Buffer, at: number, capturedLength: number, originalLength: number, tsSec: number, tsNsec: number, linkType: number, interfaceId: number): void {
    this.out.push({ index: ++this.index, linkType, tsSec, tsNsec, originalLength, data: buf.subarray(at, at + capturedLength), interfaceId });
  }
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** Which format these first four bytes announce, or undefined when neither. */
export function detectFormat(magic: Buffer): CaptureFormat | undefined {
  if (magic.length < 4) return undefined;
  const be = magic.readUInt32BE(0);
  const le = magic.readUInt32LE(0);
  if (be === MAGIC.pcapngSection) return 'pcapng';
  const pcapMagics: number[] = [MAGIC.pcapMicro, MAGIC.pcapNano, MAGIC.pcapModified];
  if (pcapMagics.includes(be) || pcapMagics.includes(le)) return 'pcap';
  return undefined;
}

/**
 * A pure stream reader for pcap and pcapng: push bytes in any chunking, get packets out. When it meets
 * damage, the packets before it are returned first and the DecodeError (with the byte offset) is
 * thrown by the next push() or end(); nothing after the damage is delivered.
 */
export class CaptureReader {
  private readonly queue = new ByteQueue();
  private parser: FormatParser | undefined;
  private failure: DecodeError | undefined;
  private formatName: CaptureFormat | undefined;
  private readonly collector = new PacketCollector();

  constructor(private readonly limits: ReaderLimits = defaultLimits) {}

  /** the format found by the magic number, once four bytes have arrived */
  get format(): CaptureFormat | undefined {
    return this.formatName;
  }

  /** bytes consumed so far (whole units only) */
  get offset(): number {
    return this.queue.offset;
  }

  push(chunk: Buffer): RawPacket[] {
    const collector = this.collector;
    collector.out = [];
    this.pushTo(chunk, collector);
    return collector.out;
  }

  /**
   * Like push(), but each packet goes to `sink` as it is parsed, with no object per packet: the fast
   * path for consumers that read a few fields and keep nothing. On damage, the packets before it have
   * been delivered; the DecodeError is thrown by this call when it delivered none, else by the next.
   */
  pushTo(chunk: Buffer, sink: PacketSink): void {
    if (this.failure) throw this.failure;
    this.queue.push(chunk);
    const before = this.parser?.packets ?? 0;
    try {
      const parser = this.parser ?? this.detect();
      parser?.parse(this.queue, sink);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.failure = err;
      if ((this.parser?.packets ?? 0) === before) throw err;
    }
  }

  /** Copy the unread remainder out of the pushed chunks, so their memory may be reused (see ByteQueue.detach). */
  detach(): void {
    this.queue.detach();
  }

  /** The input is complete: throws E_TRUNCATED when it stopped inside a header or record. */
  end(): void {
    if (this.failure) throw this.failure;
    const left = this.queue.available;
    if (!this.parser) {
      throw new DecodeError('E_TRUNCATED', `not a capture file: only ${left} bytes`, 0);
    }
    if (left > 0) {
      throw new DecodeError(
        'E_TRUNCATED',
        `capture truncated: the ${this.formatName} unit at byte ${this.queue.offset} is incomplete (${left} bytes present)`,
        this.queue.offset,
      );
    }
  }

  private detect(): FormatParser | undefined {
    if (!this.queue.ensure(4)) return undefined;
    const magic = this.queue.buf.subarray(this.queue.at, this.queue.at + 4);
    this.formatName = detectFormat(magic);
    if (this.formatName === undefined) {
      throw new DecodeError(
        'E_UNSUPPORTED',
        `not a pcap or pcapng capture (magic 0x${magic.toString('hex')})`,
        0,
      );
    }
    this.parser = this.formatName === 'pcap' ? new PcapParser(this.limits) : new PcapngParser(this.limits);
    return this.parser;
  }
}

/** Progress of a file read, for a progress bar. */
export interface ReadProgress {
  /** bytes read from the file so far */
  bytesRead: number;
  /** the file's size in bytes */
  totalBytes: number;
}

export interface ReadFileOptions {
  limits?: ReaderLimits;
  /** read chunk size, bytes */
  chunkBytes?: number;
  onProgress?: (progress: ReadProgress) => void;
}

/** The path that names stdin, as tcpdump's `-r -`. */
export const STDIN_PATH = '-';

/**
 * Stream a capture file as batches of packets (one batch per chunk read, so memory stays constant
 * and the consumer's pace is the reader's pace). A damaged file yields every good packet, then throws
 * the DecodeError; a missing or unreadable file throws E_FILE.
 */
export async function* readCaptureFile(path: string, options: ReadFileOptions = {}): AsyncGenerator<RawPacket[]> {
  const stdin = path === STDIN_PATH;
  const totalBytes = stdin ? 0 : await fileSize(path);
  const reader = new CaptureReader(options.limits ?? defaultLimits);
  const stream = stdin ? process.stdin : createReadStream(path, { highWaterMark: options.chunkBytes ?? READ_CHUNK_BYTES });
  let bytesRead = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytesRead += chunk.length;
      if (!stdin) options.onProgress?.({ bytesRead, totalBytes });
      const packets = reader.push(chunk);
      if (packets.length > 0) yield packets;
    }
  } catch (err) {
    if (err instanceof WirelabError) throw withFile(err, path);
    throw fromSystemError(err, `read ${path}`);
  } finally {
    if (!stdin) stream.destroy();
  }
  try {
    reader.end();
  } catch (err) {
    throw withFile(err as WirelabError, path);
  }
}

/** Options of {@link readCaptureFileInto}. */
export interface ReadIntoOptions extends ReadFileOptions {
  /** asked after every chunk: true ends the read early (e.g. --count reached, Ctrl-C) */
  stop?: () => boolean;
  /** asked after every chunk: a promise holds the next read until it settles (the sink's backpressure) */
  pause?: () => Promise<void> | undefined;
}

/**
 * Stream a capture file into `sink`, packet by packet, without an object per packet (the fast path
 * of `--stats`). Nothing keeps a view into the bytes past a packet's call, so one large buffer
 * (READ_INTO_CHUNK_BYTES) is read into again and again; only a record cut by a read's end is copied.
 * Errors as {@link readCaptureFile}: the good packets first, then the DecodeError.
 */
export async function readCaptureFileInto(path: string, sink: PacketSink, options: ReadIntoOptions = {}): Promise<void> {
  if (path === STDIN_PATH) return readStdinInto(sink, options);
  const totalBytes = await fileSize(path);
  const reader = new CaptureReader(options.limits ?? defaultLimits);
  let handle: FileHandle | undefined;
  let bytesRead = 0;
  try {
    handle = await open(path, 'r');
    const file = handle;
    const size = options.chunkBytes ?? READ_INTO_CHUNK_BYTES;
    // two buffers: the next read runs in the thread pool while this chunk's packets are handled
    const chunks = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    let current = 0;
    let next: Promise<{ bytesRead: number }> | undefined = file.read(chunks[0]!, 0, size, null);
    try {
      for (;;) {
        const { bytesRead: n }: { bytesRead: number } = await next;
        next = undefined;
        if (n === 0) break;
        const chunk = chunks[current]!;
        current ^= 1;
        next = file.read(chunks[current]!, 0, size, null);
        bytesRead += n;
        options.onProgress?.({ bytesRead, totalBytes });
        reader.pushTo(n === size ? chunk : chunk.subarray(0, n), sink);
        // the unread remainder leaves `chunk` before the read after next fills it again
        reader.detach();
        if (options.stop?.()) return;
        const wait = options.pause?.();
        if (wait) await wait;
      }
    } finally {
      // a read still in flight must end before the file closes
      await next?.catch(() => undefined);
    }
    reader.end();
  } catch (err) {
    if (err instanceof WirelabError) throw withFile(err, path);
    throw fromSystemError(err, `read ${path}`);
  } finally {
    await handle?.close();
  }
}

/** `-r -`: the capture arrives on stdin (tcpdump's habit). Each chunk is the stream's own: no reuse. */
async function readStdinInto(sink: PacketSink, options: ReadIntoOptions): Promise<void> {
  const reader = new CaptureReader(options.limits ?? defaultLimits);
  try {
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      reader.pushTo(chunk, sink);
      if (options.stop?.()) return;
      const wait = options.pause?.();
      if (wait) await wait;
    }
    reader.end();
  } catch (err) {
    if (err instanceof WirelabError) throw withFile(err, 'stdin');
    throw fromSystemError(err, 'read stdin');
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new WirelabError('E_FILE', `${path}: not a regular file`);
    return info.size;
  } catch (err) {
    throw fromSystemError(err, `open ${path}`);
  }
}

function withFile(err: WirelabError, path: string): WirelabError {
  if (!(err instanceof DecodeError)) return err;
  return new DecodeError(err.code as ConstructorParameters<typeof DecodeError>[0], `${path}: ${err.message}`, err.offset);
}
