/**
 * The pcapng format (draft-ietf-opsawg-pcapng), pure: a block parser that follows sections of either
 * byte order, interface descriptions with their timestamp resolution and offset, enhanced, simple and
 * obsolete packet blocks, and skips every other block; and encoders for SHB, IDB and EPB.
 */
import { DecodeError } from '../common/errors.js';
import type { RawPacket } from './types.js';
import { BLOCK, MAGIC } from './constants.js';
import { u32be, u32le } from './decode/bytes.js';
import type { ByteQueue, FormatParser, PacketSink, ReaderLimits } from './reader.js';

/** smallest block: type, length, trailing length */
const MIN_BLOCK_BYTES = 12;
/** fixed parts (with the 12 bytes of framing) of the blocks we read, section 4 of the draft */
const MIN_BYTES: Record<number, number> = {
  [MAGIC.pcapngSection]: 28,
  [BLOCK.interfaceDescription]: 20,
  [BLOCK.enhancedPacket]: 32,
  [BLOCK.simplePacket]: 16,
  [BLOCK.packet]: 32,
};
const OPT_END = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const NS_PER_SECOND = 1_000_000_000;

/** One interface of a section, as its IDB declares it. */
export interface PcapngInterface {
  linkType: number;
  /** bytes; 0 = no limit */
  snaplen: number;
  /** the raw if_tsresol byte (default 6: microseconds) */
  tsresol: number;
  /** if_tsoffset: seconds added to every timestamp */
  tsOffset: number;
}

/** A timestamp as whole seconds and nanoseconds within the second. */
export interface SplitTimestamp {
  sec: number;
  nsec: number;
}

/** 10^0 .. 10^9 */
const POW10 = Array.from({ length: 10 }, (_, i) => 10 ** i);

/**
 * A 64-bit timestamp in the interface's units, split into whole seconds and nanoseconds, exactly.
 * `into` (returned) lets the per-packet path reuse one object.
 */
export function convertTimestamp(high: number, low: number, tsresol: number, into: SplitTimestamp = { sec: 0, nsec: 0 }): SplitTimestamp {
  if ((tsresol & 0x80) === 0 && tsresol <= 9) {
    // power of ten up to ns: long division by 10^tsresol in base 2^16 keeps every step below 2^53
    const divisor = POW10[tsresol]!;
    let rem = high % divisor;
    const q1 = Math.floor(high / divisor);
    let t = rem * 65536 + (low >>> 16);
    const q2 = Math.floor(t / divisor);
    rem = t % divisor;
    t = rem * 65536 + (low & 0xffff);
    const q3 = Math.floor(t / divisor);
    rem = t % divisor;
    into.sec = q1 * 4294967296 + q2 * 65536 + q3;
    into.nsec = rem * (NS_PER_SECOND / divisor);
    return into;
  }
  const value = (BigInt(high) << 32n) | BigInt(low);
  if ((tsresol & 0x80) === 0) {
    const divisor = 10n ** BigInt(tsresol);
    into.sec = Number(value / divisor);
    into.nsec = Number(((value % divisor) * 1_000_000_000n) / divisor);
    return into;
  }
  const shift = BigInt(tsresol & 0x7f);
  const fraction = value & ((1n << shift) - 1n);
  into.sec = Number(value >> shift);
  into.nsec = Number((fraction * 1_000_000_000n) >> shift);
  return into;
}

/**
 * Parser for pcapng: one block at a time, buffered whole (up to maxBlockBytes) and checked (length a
 * multiple of 4, trailing length equal to the leading one) before it is interpreted.
 */
export class PcapngParser implements FormatParser {
  private littleEndian = true;
  private inSection = false;
  private interfaces: PcapngInterface[] = [];
  private count = 0;
  private sections = 0;
  /** the current packet's timestamp (one object reused) */
  private readonly ts: SplitTimestamp = { sec: 0, nsec: 0 };

  constructor(private readonly limits: ReaderLimits) {}

  /** packets delivered so far */
  get packets(): number {
    return this.count;
  }

  /** Section Header Blocks seen so far */
  get sectionCount(): number {
    return this.sections;
  }

  parse(queue: ByteQueue, sink: PacketSink): void {
    do this.readRun(queue, sink);
    while (this.readBlock(queue, sink));
  }

  /**
   * The blocks lying whole and well-formed in the queue's current chunk, walked with local offsets
   * and consumed by one skip (the hot loop). Anything else (a section header, which may change the
   * byte order; a block cut by the chunk's end; a bad length) is left to readBlock, which checks it
   * and says what is wrong.
   */
  private readRun(queue: ByteQueue, sink: PacketSink): void {
    if (!this.inSection) return;
    const available = queue.head();
    const buf = queue.buf;
    const start = queue.at;
    const end = start + available;
    const base = queue.offset - start;
    let p = start;
    try {
      while (end - p >= MIN_BLOCK_BYTES) {
        const type = this.u32(buf, p);
        if (type === MAGIC.pcapngSection) return;
        const length = this.u32(buf, p + 4);
        if (!this.lengthOk(type, length) || end - p < length) return;
        if (this.u32(buf, p + length - 4) !== length) return;
        this.dispatch(type, buf, p, length, base + p, sink);
        p += length;
      }
    } finally {
      queue.skip(p - start);
    }
  }

  private readBlock(queue: ByteQueue, sink: PacketSink): boolean {
    if (!queue.ensure(MIN_BLOCK_BYTES)) return false;
    const offset = queue.offset;
    const type = this.u32(queue.buf, queue.at);
    if (type === MAGIC.pcapngSection) this.littleEndian = this.byteOrder(queue.buf, queue.at + 8, offset);
    else if (!this.inSection) throw new DecodeError('E_DECODE', `pcapng block at byte ${offset} comes before any section header`, offset);
    const length = this.u32(queue.buf, queue.at + 4);
    this.checkLength(type, length, offset);
    if (!queue.ensure(length)) return false;
    const buf = queue.buf;
    const at = queue.at;
    const trailing = this.u32(buf, at + length - 4);
    if (trailing !== length) {
      throw new DecodeError('E_DECODE', `pcapng block at byte ${offset}: trailing length ${trailing} differs from ${length}`, offset);
    }
    this.dispatch(type, buf, at, length, offset, sink);
    queue.skip(length);
    return true;
  }

  private dispatch(type: number, buf: Buffer, at: number, length: number, offset: number, sink: PacketSink): void {
    switch (type) {
      case MAGIC.pcapngSection:
        return this.readSectionHeader(buf, at, offset);
      case BLOCK.interfaceDescription:
        return this.readInterface(buf, at, length, offset);
      case BLOCK.enhancedPacket:
        return this.readPacket(buf, at, length, offset, sink, false);
      case BLOCK.packet:
        return this.readPacket(buf, at, length, offset, sink, true);
      case BLOCK.simplePacket:
        return this.readSimplePacket(buf, at, length, offset, sink);
      default:
        // NRB, ISB, custom, decryption secrets and unknown blocks carry no packets: skipped whole
        return;
    }
  }

  private readSectionHeader(buf: Buffer, at: number, offset: number): void {
    const major = this.u16(buf, at + 12);
    if (major !== 1) throw new DecodeError('E_UNSUPPORTED', `pcapng section at byte ${offset} has version ${major}, not 1`, offset);
    this.inSection = true;
    this.interfaces = [];
    this.sections++;
  }

  private readInterface(buf: Buffer, at: number, length: number, offset: number): void {
    if (this.interfaces.length >= this.limits.maxInterfaces) {
      throw new DecodeError('E_TOO_LARGE', `pcapng section declares more than ${this.limits.maxInterfaces} interfaces (byte ${offset})`, offset);
    }
    const iface: PcapngInterface = { linkType: this.u16(buf, at + 8), snaplen: this.u32(buf, at + 12), tsresol: 6, tsOffset: 0 };
    let p = at + 16;
    const end = at + length - 4;
    while (p + 4 <= end) {
      const code = this.u16(buf, p);
      const optLength = this.u16(buf, p + 2);
      if (code === OPT_END) break;
      if (p + 4 + optLength > end) throw new DecodeError('E_DECODE', `pcapng IDB at byte ${offset}: option ${code} overruns the block`, offset);
      if (code === OPT_IF_TSRESOL && optLength >= 1) iface.tsresol = buf[p + 4]!;
      if (code === OPT_IF_TSOFFSET && optLength >= 8) iface.tsOffset = Number(this.littleEndian ? buf.readBigInt64LE(p + 4) : buf.readBigInt64BE(p + 4));
      p += 4 + ((optLength + 3) & ~3);
    }
    this.interfaces.push(iface);
  }

  /** EPB (section 4.3) or the obsolete PB (appendix A: 16-bit interface id, drops count). */
  private readPacket(buf: Buffer, at: number, length: number, offset: number, sink: PacketSink, obsolete: boolean): void {
    const interfaceId = obsolete ? this.u16(buf, at + 8) : this.u32(buf, at + 8);
    const iface = this.interfaceAt(interfaceId, offset);
    const capLen = this.u32(buf, at + 20);
    this.checkCaptured(capLen, length - 32, offset);
    const ts = convertTimestamp(this.u32(buf, at + 12), this.u32(buf, at + 16), iface.tsresol, this.ts);
    this.count++;
    sink.packet(buf, at + 28, capLen, this.u32(buf, at + 24), ts.sec + iface.tsOffset, ts.nsec, iface.linkType, interfaceId);
  }

  /** SPB (section 4.4): no timestamp; captured length is min(original length, IDB 0's snaplen, room in block). */
  private readSimplePacket(buf: Buffer, at: number, length: number, offset: number, sink: PacketSink): void {
    const iface = this.interfaceAt(0, offset);
    const originalLength = this.u32(buf, at + 8);
    let capLen = Math.min(originalLength, length - 16);
    if (iface.snaplen > 0) capLen = Math.min(capLen, iface.snaplen);
    this.checkCaptured(capLen, length - 16, offset);
    this.count++;
    // no timestamp: NaN, so that nothing takes 1970 for the packet's time (printed blank, JSON null)
    sink.packet(buf, at + 12, capLen, originalLength, Number.NaN, 0, iface.linkType, 0);
  }

  private interfaceAt(id: number, offset: number): PcapngInterface {
    const iface = this.interfaces[id];
    if (!iface) throw new DecodeError('E_DECODE', `pcapng packet at byte ${offset} names undeclared interface ${id}`, offset);
    return iface;
  }

  private checkCaptured(capLen: number, room: number, offset: number): void {
    if (capLen > this.limits.maxPacketBytes) {
      throw new DecodeError('E_TOO_LARGE', `pcapng packet at byte ${offset} claims ${capLen} captured bytes (limit ${this.limits.maxPacketBytes})`, offset);
    }
    if (capLen > room) throw new DecodeError('E_DECODE', `pcapng packet at byte ${offset}: ${capLen} captured bytes do not fit its block`, offset);
  }

  /** Is `length` a valid length for a block of `type` (checkLength says why not)? */
  private lengthOk(type: number, length: number): boolean {
    return length >= (MIN_BYTES[type] ?? MIN_BLOCK_BYTES) && length % 4 === 0 && length <= this.limits.maxBlockBytes;
  }

  private checkLength(type: number, length: number, offset: number): void {
    if (length < (MIN_BYTES[type] ?? MIN_BLOCK_BYTES) || length % 4 !== 0) {
      throw new DecodeError('E_DECODE', `pcapng block at byte ${offset} has bad length ${length}`, offset);
    }
    if (length > this.limits.maxBlockBytes) {
      throw new DecodeError('E_TOO_LARGE', `pcapng block at byte ${offset} is ${length} bytes (limit ${this.limits.maxBlockBytes})`, offset);
    }
  }

  private byteOrder(buf: Buffer, at: number, offset: number): boolean {
    if (buf.readUInt32LE(at) === MAGIC.pcapngByteOrder) return true;
    if (buf.readUInt32BE(at) === MAGIC.pcapngByteOrder) return false;
    throw new DecodeError('E_DECODE', `pcapng section at byte ${offset} has no byte-order magic`, offset);
  }

  /** Only inside bytes already checked to be there (ensure() or the run's bounds). */
  private u32(buf: Buffer, at: number): number {
    return this.littleEndian ? u32le(buf, at) : u32be(buf, at);
  }

  private u16(buf: Buffer, at: number): number {
    return this.littleEndian ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
  }
}

/** A little-endian Section Header Block with no options and an unknown section length. */
export function encodeSectionHeader(): Buffer {
  const out = Buffer.alloc(28);
  out.writeUInt32LE(MAGIC.pcapngSection, 0);
  out.writeUInt32LE(28, 4);
  out.writeUInt32LE(MAGIC.pcapngByteOrder, 8);
  out.writeUInt16LE(1, 12);
  out.writeUInt16LE(0, 14);
  out.writeInt32LE(-1, 16); // section length -1: not given
  out.writeInt32LE(-1, 20);
  out.writeUInt32LE(28, 24);
  return out;
}

/** An IDB for `linkType` with if_tsresol 9 (nanoseconds), so that written timestamps keep full precision. */
export function encodeInterfaceDescription(linkType: number, snaplen: number): Buffer {
  const out = Buffer.alloc(32);
  out.writeUInt32LE(BLOCK.interfaceDescription, 0);
  out.writeUInt32LE(32, 4);
  out.writeUInt16LE(linkType, 8);
  out.writeUInt32LE(snaplen, 12);
  out.writeUInt16LE(OPT_IF_TSRESOL, 16);
  out.writeUInt16LE(1, 18);
  out.writeUInt8(9, 20);
  // bytes 21..23 pad the option; 24..27 are opt_endofopt
  out.writeUInt32LE(32, 28);
  return out;
}

/** Bytes `encodeEnhancedPacket` writes for this packet. */
export function enhancedPacketBytes(packet: RawPacket): number {
  return 32 + ((packet.data.length + 3) & ~3);
}

/** Write one EPB (nanosecond timestamp; 0 for a packet without one) into `target` at `offset`; returns the bytes written. */
export function encodeEnhancedPacket(packet: RawPacket, interfaceId: number, target: Buffer, offset: number): number {
  const total = enhancedPacketBytes(packet);
  const sec = Number.isFinite(packet.tsSec) ? packet.tsSec : 0;
  // sec * 1e9 + nsec split into 32-bit halves without BigInt: 1e9 = 1953125 * 2^9, and
  // sec * 1953125 < 2^53 for any 32-bit sec, so every step below is exact
  const m = sec * 1953125;
  const mHigh = Math.floor(m / 8388608);
  let low = (m % 8388608) * 512 + packet.tsNsec;
  const high = mHigh + Math.floor(low / 4294967296);
  low %= 4294967296;
  target.writeUInt32LE(BLOCK.enhancedPacket, offset);
  target.writeUInt32LE(total, offset + 4);
  target.writeUInt32LE(interfaceId, offset + 8);
  target.writeUInt32LE(high, offset + 12);
  target.writeUInt32LE(low, offset + 16);
  target.writeUInt32LE(packet.data.length, offset + 20);
  target.writeUInt32LE(Math.max(packet.originalLength, packet.data.length), offset + 24);
  packet.data.copy(target, offset + 28);
  target.fill(0, offset + 28 + packet.data.length, offset + total - 4);
  target.writeUInt32LE(total, offset + total - 4);
  return total;
}
