/**
 * The human line (and the NDJSON line) of the commonest packets written straight into an output buffer: Ethernet, IPv4
 * without options and not a later fragment, then TCP or UDP whose payload names no application
 * protocol. No summary object, no header objects, no address strings: the bytes of the line come
 * from the packet through digit tables. Any other packet (or anything unusual about one of these)
 * is declined, and the caller prints it through decodePacket and the PacketLineFormatter: both
 * write the same line (test/unit/capture/decode/fast-line.test.ts checks it over every fixture).
 */
import { ETHERTYPE_IPV4, IPPROTO_TCP, IPPROTO_UDP, LINKTYPE_ETHERNET, PORT_DNS, PORT_LLMNR, PORT_MDNS } from './constants.js';
import { IPV4_FLAG_TEXT } from './ipv4.js';
import { TCP_FLAG_TEXT } from './tcp.js';
import { hasWirelabPort } from './wirelab.js';
import { matchTcpApp, matchUdpApp } from './app.js';
import { escapeControl, jsonTime, type PacketLineFormatter } from './summary.js';
import type { AppMatch } from './app.js';

/** Bytes a line can take at most here: index, time, two endpoints, protocol, length, flags, info, seq/ack/win. */
export const FAST_LINE_MAX_BYTES = 1024;

const SPACE = 0x20;
const DOT = 0x2e;
const COLON = 0x3a;

/** Decimal digits of `n` (0..2^32-1). */
function digits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : String(n).length;
}

/** Write `n` (0..2^32-1) in decimal at `pos`; returns the position after it. */
function writeDecimal(out: Buffer, pos: number, n: number): number {
  const len = digits(n);
  let v = n;
  for (let i = pos + len - 1; i >= pos; i--) {
    out[i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return pos + len;
}

function spaces(out: Buffer, pos: number, count: number): number {
  for (let i = 0; i < count; i++) out[pos + i] = SPACE;
  return pos + (count > 0 ? count : 0);
}

function ascii(out: Buffer, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[pos + i] = text.charCodeAt(i);
  return pos + text.length;
}

/** Characters of "a.b.c.d:port" for the IPv4 address at buf[o]. */
function endpointLength(buf: Buffer, o: number, port: number): number {
  return digits(buf[o]!) + digits(buf[o + 1]!) + digits(buf[o + 2]!) + digits(buf[o + 3]!) + 4 + digits(port);
}

function writeAddress(out: Buffer, pos: number, buf: Buffer, o: number): number {
  let p = writeDecimal(out, pos, buf[o]!);
  out[p++] = DOT;
  p = writeDecimal(out, p, buf[o + 1]!);
  out[p++] = DOT;
  p = writeDecimal(out, p, buf[o + 2]!);
  out[p++] = DOT;
  return writeDecimal(out, p, buf[o + 3]!);
}

function writeEndpoint(out: Buffer, pos: number, buf: Buffer, o: number, port: number): number {
  const p = writeAddress(out, pos, buf, o);
  out[p] = COLON;
  return writeDecimal(out, p + 1, port);
}

/** The endpoint columns' width for IPv4 lines (as PacketLineFormatter). */
const ENDPOINT_WIDTH = 21;

function isDnsPort(port: number): boolean {
  return port === PORT_DNS || port === PORT_MDNS || port === PORT_LLMNR;
}

/** Writes the lines it can; shares the formatter's time cache, protocol column and options. */
export class FastLineWriter {
  constructor(private readonly lines: PacketLineFormatter) {}

  /**
   * Append the line (with its newline) for the packet `buf[at, at + capLen)` to `out` at `pos`, which
   * must have FAST_LINE_MAX_BYTES free. Returns the position after it, or -1: not one for this path.
   */
  write(out: Buffer, pos: number, buf: Buffer, at: number, capLen: number, wireLen: number, tsSec: number, tsNsec: number, linkType: number, index: number): number {
    if (!this.parse(buf, at, capLen, linkType, true)) return -1;
    return this.line(out, pos, buf, this.ip, this.sport, this.dport, this.protocol, wireLen, this.flags, this.info, this.tcp, tsSec, tsNsec, index);
  }

  /**
   * The packet's NDJSON line (packetJsonLine's text, with its newline) into `out` at `pos`, which must
   * have FAST_LINE_MAX_BYTES free; -1: not one for this path.
   */
  writeJson(out: Buffer, pos: number, buf: Buffer, at: number, capLen: number, wireLen: number, tsSec: number, tsNsec: number, linkType: number, index: number): number {
    if (!this.parse(buf, at, capLen, linkType, false)) return -1;
    const ip = this.ip;
    let q = ascii(out, pos, '{"event":"packet","frame":');
    q = writeDecimal(out, q, index);
    q = ascii(out, q, ',"time":');
    q = ascii(out, q, jsonTime(tsSec, tsNsec));
    q = ascii(out, q, ',"type":"IPv4","src":"');
    q = writeAddress(out, q, buf, ip + 12);
    q = ascii(out, q, '","dst":"');
    q = writeAddress(out, q, buf, ip + 16);
    q = ascii(out, q, '","sport":');
    q = writeDecimal(out, q, this.sport);
    q = ascii(out, q, ',"dport":');
    q = writeDecimal(out, q, this.dport);
    q = ascii(out, q, this.protocol === 'TCP' ? ',"protocol":"TCP","length":' : ',"protocol":"UDP","length":');
    q = writeDecimal(out, q, wireLen);
    q = ascii(out, q, ',"flags":"');
    q = ascii(out, q, this.flags);
    q = ascii(out, q, '","info":"Len=');
    q = writeDecimal(out, q, this.info);
    out[q++] = 0x22;
    const tcp = this.tcp;
    if (tcp >= 0) {
      q = ascii(out, q, ',"seq":');
      q = writeDecimal(out, q, buf.readUInt32BE(tcp + 4));
      q = ascii(out, q, ',"ack":');
      q = writeDecimal(out, q, buf.readUInt32BE(tcp + 8));
      q = ascii(out, q, ',"window":');
      q = writeDecimal(out, q, (buf[tcp + 14]! << 8) | buf[tcp + 15]!);
    }
    out[q++] = 0x7d;
    out[q++] = 0x0a;
    return q;
  }

  // the last packet parse()d: its IP header offset, ports, protocol, flags text, payload length, TCP header offset (-1: UDP)
  private ip = 0;
  private sport = 0;
  private dport = 0;
  private protocol = 'TCP';
  private flags = '';
  private info = 0;
  /** a TCP application protocol's line text (human lines only), or undefined for "Len=N" */
  private appInfo: string | undefined = undefined;
  private tcp = -1;

  /** Is the packet one for this path? If so its fields are left in the fields above. */
  private parse(buf: Buffer, at: number, capLen: number, linkType: number, withApp: boolean): boolean {
    this.appInfo = undefined;
    if (linkType !== LINKTYPE_ETHERNET || capLen < 34) return false;
    if (((buf[at + 12]! << 8) | buf[at + 13]!) !== ETHERTYPE_IPV4 || buf[at + 14] !== 0x45) return false;
    const ip = at + 14;
    const end = at + capLen;
    const totalLength = (buf[ip + 2]! << 8) | buf[ip + 3]!;
    if (totalLength !== 0 && totalLength < 20) return false;
    const frag = (buf[ip + 6]! << 8) | buf[ip + 7]!;
    if ((frag & 0x1fff) !== 0) return false;
    const proto = buf[ip + 9]!;
    const ipEnd = totalLength === 0 ? end : Math.min(end, ip + totalLength);
    const p = ip + 20;
    if (p + 4 > ipEnd) return false;
    const sport = (buf[p]! << 8) | buf[p + 1]!;
    const dport = (buf[p + 2]! << 8) | buf[p + 3]!;
    let info: number;
    let flags: string;
    let tcpHeader = -1;
    if (proto === IPPROTO_TCP) {
      if (p + 20 > ipEnd) return false;
      const headerLength = (buf[p + 12]! >>> 4) * 4;
      if (headerLength < 20 || p + headerLength > ipEnd) return false;
      const payload = p + headerLength;
      if (payload < ipEnd) {
        if (isDnsPort(sport) || isDnsPort(dport) || hasWirelabPort('tcp', sport, dport)) return false;
        // human lines take TCP application protocols too (their name and info text); JSON would need their fields
        const app = matchTcpApp(sport, dport, buf, payload, ipEnd, withApp);
        if (app !== undefined && !(withApp && this.takeApp(app))) return false;
      }
      info = ipEnd - payload;
      flags = TCP_FLAG_TEXT[buf[p + 13]!]!;
      tcpHeader = p;
    } else if (proto === IPPROTO_UDP) {
      if (p + 8 > ipEnd) return false;
      const length = (buf[p + 4]! << 8) | buf[p + 5]!;
      if (length !== 0 && length < 8) return false;
      const payloadEnd = length === 0 ? ipEnd : Math.min(ipEnd, p + length);
      const hasPayload = length === 0 ? p + 8 < payloadEnd : length > 8;
      if (hasPayload && (isDnsPort(sport) || isDnsPort(dport) || hasWirelabPort('udp', sport, dport) || matchUdpApp(sport, dport, buf, p + 8, payloadEnd) !== undefined)) return false;
      info = payloadEnd - (p + 8);
      flags = IPV4_FLAG_TEXT[frag >>> 13]!;
    } else {
      return false;
    }
    this.ip = ip;
    this.sport = sport;
    this.dport = dport;
    if (this.appInfo === undefined) this.protocol = proto === IPPROTO_TCP ? 'TCP' : 'UDP';
    this.flags = flags;
    this.info = info;
    this.tcp = tcpHeader;
    return true;
  }

  /** Keep an application match for the line, if its text fits the line's room; false: decline. */
  private takeApp(app: AppMatch): boolean {
    const info = escapeControl(app.info);
    // UTF-8 takes at most 3 bytes per UTF-16 unit; the rest of the line needs far less than 256
    if (info === '' || info.length * 3 + app.name.length > FAST_LINE_MAX_BYTES - 256) return false;
    this.appInfo = info;
    this.protocol = app.name;
    return true;
  }

  private line(out: Buffer, pos: number, buf: Buffer, ip: number, sport: number, dport: number, protocol: string, wireLen: number, flags: string, info: number, tcp: number, tsSec: number, tsNsec: number, index: number): number {
    let q = spaces(out, pos, 6 - digits(index));
    q = writeDecimal(out, q, index);
    out[q++] = SPACE;
    q = ascii(out, q, this.lines.time(tsSec, tsNsec));
    out[q++] = SPACE;
    q = writeEndpoint(out, q, buf, ip + 12, sport);
    q = spaces(out, q, ENDPOINT_WIDTH - endpointLength(buf, ip + 12, sport));
    q = ascii(out, q, ' -> ');
    q = writeEndpoint(out, q, buf, ip + 16, dport);
    q = spaces(out, q, ENDPOINT_WIDTH - endpointLength(buf, ip + 16, dport));
    out[q++] = SPACE;
    q = ascii(out, q, protocol);
    q = spaces(out, q, this.lines.protocolWidth(protocol) - protocol.length + 1);
    q = spaces(out, q, 5 - digits(wireLen));
    q = writeDecimal(out, q, wireLen);
    if (flags !== '') {
      q = ascii(out, q, ' [');
      q = ascii(out, q, flags);
      out[q++] = 0x5d;
    }
    if (this.appInfo === undefined) {
      q = ascii(out, q, ' Len=');
      q = writeDecimal(out, q, info);
    } else {
      out[q++] = SPACE;
      q += out.write(this.appInfo, q, 'utf8');
    }
    if (tcp >= 0 && this.lines.verbose) {
      q = ascii(out, q, ' seq ');
      q = writeDecimal(out, q, buf.readUInt32BE(tcp + 4));
      q = ascii(out, q, ' ack ');
      q = writeDecimal(out, q, buf.readUInt32BE(tcp + 8));
      q = ascii(out, q, ' win ');
      q = writeDecimal(out, q, (buf[tcp + 14]! << 8) | buf[tcp + 15]!);
    }
    out[q++] = 0x0a;
    return q;
  }
}
