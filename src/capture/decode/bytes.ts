/**
 * Shared helpers of the layer decoders: the bounds check that turns a short buffer into a typed
 * error, and address formatting from byte offsets (no copies, lookup tables instead of per-byte
 * number formatting, since these run for every packet).
 */
import { DecodeError } from '../../common/errors.js';

/** Throw E_TRUNCATED unless `need` bytes are available at `offset` before `end`. */
export function need(layer: string, offset: number, need: number, end: number): void {
  if (offset + need > end) {
    throw new DecodeError('E_TRUNCATED', `${layer}: truncated (need ${need} bytes at ${offset}, have ${Math.max(0, end - offset)})`, offset);
  }
}

/** A malformed field: E_DECODE with the layer's name. */
export function malformed(layer: string, what: string, offset: number): DecodeError {
  return new DecodeError('E_DECODE', `${layer}: ${what}`, offset);
}

/**
 * Big-endian 16-bit value at `o`. Only after a bounds check (`need`): it reads without one, which is
 * what makes it cheaper than Buffer#readUInt16BE on the per-packet path.
 */
export function u16(buf: Buffer, o: number): number {
  return (buf[o]! << 8) | buf[o + 1]!;
}

/** Little-endian unsigned 32-bit value at `o`, without a bounds check (as u16). */
export function u32le(buf: Buffer, o: number): number {
  return (buf[o]! | (buf[o + 1]! << 8) | (buf[o + 2]! << 16) | (buf[o + 3]! << 24)) >>> 0;
}

/** Big-endian unsigned 32-bit value at `o`, without a bounds check (as u16). */
export function u32be(buf: Buffer, o: number): number {
  return ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
}

const DEC: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Dotted-quad IPv4 address from the 4 bytes at `o` (caller checked the bounds). */
export function ipv4At(buf: Buffer, o: number): string {
  return DEC[buf[o]!]! + '.' + DEC[buf[o + 1]!]! + '.' + DEC[buf[o + 2]!]! + '.' + DEC[buf[o + 3]!]!;
}

/** Colon-separated lower-case MAC (EUI-48) address from the 6 bytes at `o`. */
export function macAt(buf: Buffer, o: number): string {
  return (
    HEX2[buf[o]!]! + ':' + HEX2[buf[o + 1]!]! + ':' + HEX2[buf[o + 2]!]! + ':' +
    HEX2[buf[o + 3]!]! + ':' + HEX2[buf[o + 4]!]! + ':' + HEX2[buf[o + 5]!]!
  );
}

/** Colon-separated hex of `length` bytes at `o` (link-layer addresses that are not 6 bytes long). */
export function hexAddressAt(buf: Buffer, o: number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += (i === 0 ? '' : ':') + HEX2[buf[o + i]!]!;
  return text;
}

/** Start and length of the longest run (at least 2) of zero 16-bit groups, for RFC 5952 4.2.2. */
function longestZeroRun(buf: Buffer, o: number): [number, number] {
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && buf[o + 2 * g] === 0 && buf[o + 2 * g + 1] === 0;
    if (zero && runStart < 0) runStart = g;
    if (!zero && runStart >= 0) {
      if (g - runStart > bestLen) {
        bestStart = runStart;
        bestLen = g - runStart;
      }
      runStart = -1;
    }
  }
  return [bestStart, bestLen];
}

/**
 * IPv6 address from the 16 bytes at `o`, in RFC 5952 canonical text form (lower case, no leading
 * zeros, the longest run of two or more zero groups as "::"; IPv4-mapped addresses keep their
 * dotted tail as tshark and RFC 5952 5 show them).
 */
export function ipv6At(buf: Buffer, o: number): string {
  if (isV4Mapped(buf, o)) return '::ffff:' + ipv4At(buf, o + 12);
  const [zStart, zLen] = longestZeroRun(buf, o);
  let text = '';
  for (let g = 0; g < 8; g++) {
    if (g === zStart) {
      text += g === 0 ? '::' : ':';
      g += zLen - 1;
      continue;
    }
    const value = (buf[o + 2 * g]! << 8) | buf[o + 2 * g + 1]!;
    text += value.toString(16) + (g < 7 ? ':' : '');
  }
  return text;
}

function isV4Mapped(buf: Buffer, o: number): boolean {
  for (let i = 0; i < 10; i++) if (buf[o + i] !== 0) return false;
  return buf[o + 10] === 0xff && buf[o + 11] === 0xff;
}

/** "0x" and four hex digits: how EtherTypes and ids are shown. */
export function hex16(value: number): string {
  return '0x' + HEX2[(value >>> 8) & 0xff]! + HEX2[value & 0xff]!;
}
