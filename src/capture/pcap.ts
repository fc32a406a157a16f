/**
 * The classic pcap file format (draft-ietf-opsawg-pcap; tcpdump.org/manpages/pcap-savefile.5.html),
 * pure: a parser for both byte orders, microsecond and nanosecond magic, and Kuznetzov's "modified"
 * variant with 24-byte record headers; and encoders for writing nanosecond pcap.
 */
import { DecodeError } from '../common/errors.js';
import type { RawPacket } from './types.js';
import { MAGIC } from './constants.js';
import { u32be, u32le } from './decode/bytes.js';
import type { ByteQueue, FormatParser, PacketSink, ReaderLimits } from './reader.js';

const FILE_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
/** the modified format adds ifindex (4), protocol (2), pkt_type (1) and padding (1) */
const MODIFIED_RECORD_HEADER_BYTES = 24;

/** What the 24-byte pcap file header says. */
export interface PcapFileHeader {
  littleEndian: boolean;
  /** timestamps' fraction is in ns (else µs) */
  nanosecond: boolean;
  /** Kuznetzov's modified format (24-byte record headers) */
  modified: boolean;
  versionMajor: number;
  versionMinor: number;
  /** bytes */
  snaplen: number;
  /** LINKTYPE_*: the low 16 bits of the field; the upper bits carry FCS flags in some files */
  linkType: number;
}

/** Parse a pcap file header at `buf[at]` (24 bytes must be there). */
export function parsePcapFileHeader(buf: Buffer, at: number): PcapFileHeader {
  const be = buf.readUInt32BE(at);
  const le = buf.readUInt32LE(at);
  const known: number[] = [MAGIC.pcapMicro, MAGIC.pcapNano, MAGIC.pcapModified];
  const littleEndian = known.includes(le);
  if (!littleEndian && !known.includes(be)) {
    throw new DecodeError('E_UNSUPPORTED', `not a pcap file (magic 0x${be.toString(16)})`, 0);
  }
  const magic = littleEndian ? le : be;
  const u16 = (o: number): number => (littleEndian ? buf.readUInt16LE(at + o) : buf.readUInt16BE(at + o));
  const u32 = (o: number): number => (littleEndian ? buf.readUInt32LE(at + o) : buf.readUInt32BE(at + o));
  const header: PcapFileHeader = {
    littleEndian,
    nanosecond: magic === MAGIC.pcapNano,
    modified: magic === MAGIC.pcapModified,
    versionMajor: u16(4),
    versionMinor: u16(6),
    snaplen: u32(16),
    linkType: u32(20) & 0xffff,
  };
  if (header.versionMajor !== 2) {
    throw new DecodeError('E_UNSUPPORTED', `pcap version ${header.versionMajor}.${header.versionMinor} is not 2.x`, 4);
  }
  return header;
}

/**
 * Parser for the pcap format: state `fileHeader`, then `record` repeatedly. A record whose captured
 * length is over the limit is an E_TOO_LARGE error at its offset, before anything is allocated.
 */
export class PcapParser implements FormatParser {
  private header: PcapFileHeader | undefined;
  private recordHeaderBytes = RECORD_HEADER_BYTES;
  private littleEndian = true;
  /** ns per timestamp fraction unit */
  private fractionScale = 1000;
  private fractionLimit = 1_000_000;
  private count = 0;

  constructor(private readonly limits: Pick<ReaderLimits, 'maxPacketBytes'>) {}

  /** packets delivered so far */
  get packets(): number {
    return this.count;
  }

  /** the file header, once read */
  get fileHeader(): PcapFileHeader | undefined {
    return this.header;
  }

  parse(queue: ByteQueue, sink: PacketSink): void {
    if (!this.header && !this.readFileHeader(queue)) return;
    do this.readRun(queue, sink);
    while (this.readRecord(queue, sink));
  }

  /**
   * The records lying whole in the queue's current chunk, walked with local offsets and consumed by
   * one skip (the hot loop: a record costs a few byte reads and the sink's call). A record cut by the
   * chunk's end is left to readRecord.
   */
  private readRun(queue: ByteQueue, sink: PacketSink): void {
    const available = queue.head();
    const buf = queue.buf;
    const start = queue.at;
    const end = start + available;
    const hdr = this.recordHeaderBytes;
    let p = start;
    while (end - p >= hdr) {
      const capLen = this.u32(buf, p + 8);
      if (capLen > this.limits.maxPacketBytes) {
        queue.skip(p - start);
        this.tooLarge(queue, capLen);
      }
      if (end - p - hdr < capLen) break;
      this.deliver(buf, p, capLen, sink);
      p += hdr + capLen;
    }
    queue.skip(p - start);
  }

  /** One record: header and body together, or nothing until both have arrived. */
  private readRecord(queue: ByteQueue, sink: PacketSink): boolean {
    const hdr = this.recordHeaderBytes;
    if (!queue.ensure(hdr)) return false;
    const capLen = this.u32(queue.buf, queue.at + 8);
    if (capLen > this.limits.maxPacketBytes) this.tooLarge(queue, capLen);
    if (!queue.ensure(hdr + capLen)) return false;
    this.deliver(queue.buf, queue.at, capLen, sink);
    queue.skip(hdr + capLen);
    return true;
  }

  /** Hand the sink the record whose header is at `buf[at]` (header and body are there). */
  private deliver(buf: Buffer, at: number, capLen: number, sink: PacketSink): void {
    let tsSec = this.u32(buf, at);
    let fraction = this.u32(buf, at + 4);
    if (fraction >= this.fractionLimit) {
      // some writers let the fraction overflow; carry it into the seconds rather than lose it
      tsSec += Math.floor(fraction / this.fractionLimit);
      fraction %= this.fractionLimit;
    }
    this.count++;
    sink.packet(buf, at + this.recordHeaderBytes, capLen, this.u32(buf, at + 12), tsSec, fraction * this.fractionScale, this.header!.linkType, 0);
  }

  private tooLarge(queue: ByteQueue, capLen: number): never {
    throw new DecodeError(
      'E_TOO_LARGE',
      `pcap record ${this.count + 1} at byte ${queue.offset} claims ${capLen} captured bytes (limit ${this.limits.maxPacketBytes})`,
      queue.offset,
    );
  }

  private readFileHeader(queue: ByteQueue): boolean {
    if (!queue.ensure(FILE_HEADER_BYTES)) return false;
    const header = parsePcapFileHeader(queue.buf, queue.at);
    this.header = header;
    this.littleEndian = header.littleEndian;
    this.recordHeaderBytes = header.modified ? MODIFIED_RECORD_HEADER_BYTES : RECORD_HEADER_BYTES;
    this.fractionScale = header.nanosecond ? 1 : 1000;
    this.fractionLimit = header.nanosecond ? 1_000_000_000 : 1_000_000;
    queue.skip(FILE_HEADER_BYTES);
    return true;
  }

  /** Only inside bytes already checked to be there (ensure() or the run's bounds). */
  private u32(buf: Buffer, at: number): number {
    return this.littleEndian ? u32le(buf, at) : u32be(buf, at);
  }
}

/** A nanosecond-resolution, little-endian pcap file header for `linkType`. */
export function encodePcapFileHeader(linkType: number, snaplen: number): Buffer {
  const out = Buffer.alloc(FILE_HEADER_BYTES);
  out.writeUInt32LE(MAGIC.pcapNano, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  // thiszone and sigfigs stay 0 (the format's own advice)
  out.writeUInt32LE(snaplen, 16);
  out.writeUInt32LE(linkType, 20);
  return out;
}

/** Bytes `encodePcapRecord` writes for this packet. */
export function pcapRecordBytes(packet: RawPacket): number {
  return RECORD_HEADER_BYTES + packet.data.length;
}

/** Write one nanosecond pcap record into `target` at `offset`; returns the bytes written. */
export function encodePcapRecord(packet: RawPacket, target: Buffer, offset: number): number {
  target.writeUInt32LE(Number.isFinite(packet.tsSec) ? packet.tsSec >>> 0 : 0, offset);
  target.writeUInt32LE(packet.tsNsec, offset + 4);
  target.writeUInt32LE(packet.data.length, offset + 8);
  target.writeUInt32LE(Math.max(packet.originalLength, packet.data.length), offset + 12);
  packet.data.copy(target, offset + RECORD_HEADER_BYTES);
  return RECORD_HEADER_BYTES + packet.data.length;
}
