/**
 * Writing captures to files that tcpdump, tshark and Wireshark open: pcapng (SHB, one IDB per link
 * type with if_tsresol 9, EPBs) or, for a path ending in .pcap/.cap, nanosecond pcap. Records are
 * encoded into large blocks handed to the file stream, and write() reports the stream's backpressure.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { extname } from 'node:path';
import { fromSystemError, WirelabError } from '../common/errors.js';
import type { RawPacket } from './types.js';
import { LINKTYPE_ETHERNET, WRITE_BLOCK_BYTES, WRITE_SNAPLEN } from './constants.js';
import { encodePcapFileHeader, encodePcapRecord, pcapRecordBytes } from './pcap.js';
import {
  encodeEnhancedPacket,
  encodeInterfaceDescription,
  encodeSectionHeader,
  enhancedPacketBytes,
} from './pcapng.js';

export type WriteFormat = 'pcap' | 'pcapng';

/** The format a path asks for: .pcap and .cap mean pcap, anything else pcapng. */
export function formatForPath(path: string): WriteFormat {
  const ext = extname(path).toLowerCase();
  return ext === '.pcap' || ext === '.cap' ? 'pcap' : 'pcapng';
}

export interface CaptureWriterOptions {
  path: string;
  /** default: from the path's extension */
  format?: WriteFormat;
  /** snapshot length written into the headers, bytes */
  snaplen?: number;
  /** link type of an empty pcap file's header (pcap takes the first packet's otherwise) */
  linkType?: number;
  /** size of the blocks handed to the file stream, bytes */
  blockBytes?: number;
}

export interface CaptureWriterStats {
  packets: number;
  /** bytes written to the file (headers included) */
  bytes: number;
}

/** An IO component writing packets to a capture file. */
export class CaptureWriter {
  readonly format: WriteFormat;
  private stream: Writable | undefined;
  private block: Buffer;
  private used = 0;
  private failure: WirelabError | undefined;
  private pcapLinkType: number | undefined;
  private readonly interfaceIds = new Map<number, number>();
  private closed: Promise<void> | undefined;
  private readonly counters: CaptureWriterStats = { packets: 0, bytes: 0 };

  constructor(private readonly options: CaptureWriterOptions) {
    this.format = options.format ?? formatForPath(options.path);
    this.block = Buffer.allocUnsafe(options.blockBytes ?? WRITE_BLOCK_BYTES);
  }

  /** the path `-` (tcpdump's `-w -`): the capture goes to stdout */
  private get toStdout(): boolean {
    return this.options.path === '-';
  }

  /** Create (truncate) the file; E_FILE / E_PERMISSION when it cannot be opened. */
  async start(): Promise<void> {
    if (this.stream) return;
    const stream = this.toStdout ? process.stdout : createWriteStream(this.options.path);
    this.stream = stream;
    stream.on('error', (err) => {
      this.failure ??= fromSystemError(err, `write ${this.options.path}`);
    });
    try {
      if (!this.toStdout) await once(stream, 'open');
    } catch (err) {
      throw fromSystemError(err, `create ${this.options.path}`);
    }
    if (this.format === 'pcapng') this.append(encodeSectionHeader());
  }

  /**
   * Encode one packet. Returns false when the file stream is over its buffer: await drained() before
   * writing more. pcap holds one link type; a packet of another is an E_UNSUPPORTED error.
   */
  write(packet: RawPacket): boolean {
    if (this.failure) throw this.failure;
    if (!this.stream || this.closed) throw new WirelabError('E_CLOSED', 'capture writer is not open');
    if (this.format === 'pcap') this.writePcap(packet);
    else this.writePcapng(packet);
    this.counters.packets++;
    return !this.stream.writableNeedDrain;
  }

  /** Resolves when the file stream can take more (at once if it can now). */
  async drained(): Promise<void> {
    const stream = this.stream;
    if (!stream?.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
    if (this.failure) throw this.failure;
  }

  /** Flush and close the file (idempotent); rejects with the write error, if one happened. */
  close(): Promise<void> {
    this.closed ??= this.finish();
    return this.closed;
  }

  stats(): CaptureWriterStats {
    return { ...this.counters };
  }

  private async finish(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    if (this.format === 'pcap' && this.pcapLinkType === undefined && !this.failure) {
      this.append(encodePcapFileHeader(this.options.linkType ?? LINKTYPE_ETHERNET, this.options.snaplen ?? WRITE_SNAPLEN));
    }
    this.flush();
    if (this.toStdout) await this.drained();
    else if (!stream.destroyed) {
      stream.end();
      await Promise.race([once(stream, 'finish'), once(stream, 'close')]).catch(() => undefined);
    }
    if (this.failure) throw this.failure;
  }

  private writePcap(packet: RawPacket): void {
    if (this.pcapLinkType === undefined) {
      this.pcapLinkType = packet.linkType;
      this.append(encodePcapFileHeader(packet.linkType, this.options.snaplen ?? WRITE_SNAPLEN));
    } else if (packet.linkType !== this.pcapLinkType) {
      throw new WirelabError(
        'E_UNSUPPORTED',
        `a pcap file holds one link type (${this.pcapLinkType}); packet ${packet.index} has ${packet.linkType}: write .pcapng instead`,
      );
    }
    const size = pcapRecordBytes(packet);
    this.reserve(size);
    this.used += encodePcapRecord(packet, this.block, this.used);
  }

  private writePcapng(packet: RawPacket): void {
    let id = this.interfaceIds.get(packet.linkType);
    if (id === undefined) {
      id = this.interfaceIds.size;
      this.interfaceIds.set(packet.linkType, id);
      // snaplen 0 in an IDB means "no limit" (draft-ietf-opsawg-pcapng 4.2)
      this.append(encodeInterfaceDescription(packet.linkType, this.options.snaplen ?? 0));
    }
    const size = enhancedPacketBytes(packet);
    this.reserve(size);
    this.used += encodeEnhancedPacket(packet, id, this.block, this.used);
  }

  private append(bytes: Buffer): void {
    this.reserve(bytes.length);
    this.used += bytes.copy(this.block, this.used);
  }

  /** Make room for `size` bytes in the current block, handing a full one to the stream. */
  private reserve(size: number): void {
    if (this.used + size <= this.block.length) return;
    this.flush();
    if (size > this.block.length) this.block = Buffer.allocUnsafe(size);
  }

  private flush(): void {
    if (this.used === 0 || !this.stream || this.stream.destroyed) return;
    this.stream.write(this.block.subarray(0, this.used));
    this.counters.bytes += this.used;
    // the stream keeps the written block until it is on disk: continue in a fresh one
    this.block = Buffer.allocUnsafe(this.block.length);
    this.used = 0;
  }
}
