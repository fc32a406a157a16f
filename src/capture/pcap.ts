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
    const le = this.header!.littleEndian;
    const linkType = this.header!.linkType;
    const limit = this.limits.maxPacketBytes;
    const fractionLimit = this.fractionLimit;
    const scale = this.fractionScale;
    let p = start;
    while (end - p >= hdr) {
      const capLen = le ? u32le(buf, p + 8) : u32be(buf, p + 8);
      if (capLen > limit) {
        queue.skip(p - start);
        this.tooLarge(queue, capLen);
      }
      if (end - p - hdr < capLen) break;
      let tsSec = le ? u32le(buf, p) : u32be(buf, p);
      let fraction = le ? u32le(buf, p + 4) : u32be(buf, p + 4);
      if (fraction >= fractionLimit) {
        tsSec += Math.floor(fraction / fractionLimit);
        fraction %= fractionLimit;
      }
      const originalLength = le ? u32le(buf, p + 12) : u32be(buf, p + 12);
      this.count++;
      sink.packet(buf, p + hdr, capLen, originalLength, tsSec, fraction * scale, linkType, 0);
      p += hdr + capLen;
    }
    queue.skip(p - start);
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
    this.recordHeaderBytes = header.modified ? MODIFIED_RECORD_HEADER_BYTES : RECORD_HEADER_BYTES;
    this.fractionScale = header.nanosecond ? 1 : 1000;
    this.fractionLimit = header.nanosecond ? 1_000_000_000 : 1_000_000;
    queue.skip(FILE_HEADER_BYTES);
    return true;
  }

  /** One record: header and body together, or nothing until both have arrived. */
  private readRecord(queue: ByteQueue, sink: PacketSink): boolean {
    const hdr = this.recordHeaderBytes;
    if (!queue.ensure(hdr)) return false;
    const header = this.header!;
    let buf = queue.buf;
    let at = queue.at;
    const le = header.littleEndian;
    const capLen = le ? buf.readUInt32LE(at + 8) : buf.readUInt32BE(at + 8);
    if (capLen > this.limits.maxPacketBytes) this.tooLarge(queue, capLen);
    if (!queue.ensure(hdr + capLen)) return false;
    buf = queue.buf;
    at = queue.at;
    let tsSec = le ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
    let fraction = le ? buf.readUInt32LE(at + 4) : buf.readUInt32BE(at + 4);
    if (fraction >= this.fractionLimit) {
      // some writers let the fraction overflow; carry it into the seconds rather than lose it
      tsSec += Math.floor(fraction / this.fractionLimit);
      fraction %= this.fractionLimit;
    }
    const originalLength = le ? buf.readUInt32LE(at + 12) : buf.readUInt32BE(at + 12);
    this.count++;
    sink.packet(buf, at + hdr, capLen, originalLength, tsSec, fraction * this.fractionScale, header.linkType, 0);
    queue.skip(hdr + capLen);
    return true;
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
  target.writeUInt32LE(packet.tsSec >>> 0, offset);
  target.writeUInt32LE(packet.tsNsec, offset + 4);
  target.writeUInt32LE(packet.data.length, offset + 8);
  target.writeUInt32LE(Math.max(packet.originalLength, packet.data.length), offset + 12);
  packet.data.copy(target, offset + RECORD_HEADER_BYTES);
  return RECORD_HEADER_BYTES + packet.data.length;
}
