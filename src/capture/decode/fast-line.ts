/**
 * The human line (and the NDJSON line) of the commonest packets written straight into an output
 * buffer: Ethernet, IPv4 without options and not a later fragment, then TCP (with the application
 * protocols of app.ts: HTTP, TLS...) or UDP whose payload names no application protocol. No summary
 * object, no header objects, no address strings: the bytes of the line come from the packet through
 * digit tables, and each second's text is made once. Any other packet (or anything unusual about one of these)
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
/** The endpoint columns' width for IPv4 lines (as PacketLineFormatter). */
const ENDPOINT_WIDTH = 21;
const DOT = 0x2e;
const COLON = 0x3a;

/** "00".."99" as byte pairs: decimals are written two digits a step. */
const DIGIT_PAIRS = new Uint8Array(200);
/** Per byte value: its decimal length, then up to three digits (an IPv4 address is four lookups). */
const OCTETS = new Uint8Array(256 * 4);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 0x30 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 0x30 + (i % 10);
}
for (let i = 0; i < 256; i++) {
  const text = String(i);
  OCTETS[4 * i] = text.length;
  for (let k = 0; k < text.length; k++) OCTETS[4 * i + 1 + k] = text.charCodeAt(k);
}

/** Decimal digits of `n` (0..2^53), without making its text. */
function digits(n: number): number {
  if (n < 100000) return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5;
  let count = 6;
  for (let limit = 1_000_000; n >= limit && count < 16; limit *= 10) count++;
  return count;
}

/** Write `n` (a whole number, 0..2^53) in decimal at `pos`, two digits a step; returns the position after it. */
function writeDecimal(out: Buffer, pos: number, n: number): number {
  if (n < 10) {
    out[pos] = 0x30 + n;
    return pos + 1;
  }
  const end = pos + digits(n);
  let i = end;
  let v = n;
  while (v >= 100) {
    const q = Math.floor(v / 100);
    const r = (v - q * 100) * 2;
    out[--i] = DIGIT_PAIRS[r + 1]!;
    out[--i] = DIGIT_PAIRS[r]!;
    v = q;
  }
  if (v >= 10) {
    out[--i] = DIGIT_PAIRS[v * 2 + 1]!;
    out[--i] = DIGIT_PAIRS[v * 2]!;
  } else {
    out[--i] = 0x30 + v;
  }
  return end;
}

/** Spaces from `pos` up to `to` (none when `pos` is already there); returns the position after them. */
function padTo(out: Buffer, pos: number, to: number): number {
  let q = pos;
  while (q < to) out[q++] = SPACE;
  return q;
}

function ascii(out: Buffer, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[pos + i] = text.charCodeAt(i);
  return pos + text.length;
}

/** One address byte in decimal: three digit bytes are always written (the room is there), the length kept. */
function writeOctet(out: Buffer, pos: number, value: number): number {
  const t = value * 4;
  out[pos] = OCTETS[t + 1]!;
  out[pos + 1] = OCTETS[t + 2]!;
  out[pos + 2] = OCTETS[t + 3]!;
  return pos + OCTETS[t]!;
}

function writeAddress(out: Buffer, pos: number, buf: Buffer, o: number): number {
  let p = writeOctet(out, pos, buf[o]!);
  out[p++] = DOT;
  p = writeOctet(out, p, buf[o + 1]!);
  out[p++] = DOT;
  p = writeOctet(out, p, buf[o + 2]!);
  out[p++] = DOT;
  return writeOctet(out, p, buf[o + 3]!);
}

/** "a.b.c.d:port" padded with spaces to the endpoint column's width. */
function writeEndpoint(out: Buffer, pos: number, buf: Buffer, o: number, port: number): number {
  const p = writeAddress(out, pos, buf, o);
  out[p] = COLON;
  return padTo(out, writeDecimal(out, p + 1, port), pos + ENDPOINT_WIDTH);
}

/** Six digits of a microsecond count (0..999999). */
function writeMicros(out: Buffer, pos: number, micros: number): number {
  const a = Math.floor(micros / 10000);
  const rest = micros - a * 10000;
  const b = Math.floor(rest / 100);
  const c = (rest - b * 100) * 2;
  out[pos] = DIGIT_PAIRS[a * 2]!;
  out[pos + 1] = DIGIT_PAIRS[a * 2 + 1]!;
  out[pos + 2] = DIGIT_PAIRS[b * 2]!;
  out[pos + 3] = DIGIT_PAIRS[b * 2 + 1]!;
  out[pos + 4] = DIGIT_PAIRS[c]!;
  out[pos + 5] = DIGIT_PAIRS[c + 1]!;
  return pos + 6;
}

/**
 * The bytes of a time's whole-second part ("hh:mm:ss." or "1700000000."), made once per distinct
 * second from the formatter's own text, so that both paths print the same.
 */
const jsonSecondText = (sec: number): string => jsonTime(sec, 0);

class SecondText {
  private second = Number.NaN;
  private readonly bytes = new Uint8Array(40);
  private length = 0;

  /** Write the text for `sec` at `pos`; `make` gives the second's text with six fraction digits after it. */
  write(out: Buffer, pos: number, sec: number, make: (sec: number) => string): number {
    if (sec !== this.second) {
      const text = make(sec);
      this.length = Math.min(this.bytes.length, text.length - 6);
      for (let i = 0; i < this.length; i++) this.bytes[i] = text.charCodeAt(i);
      this.second = sec;
    }
    const n = this.length;
    const bytes = this.bytes;
    for (let i = 0; i < n; i++) out[pos + i] = bytes[i]!;
    return pos + n;
  }
}

function isDnsPort(port: number): boolean {
  return port === PORT_DNS || port === PORT_MDNS || port === PORT_LLMNR;
}

/** Writes the lines it can; shares the formatter's time cache, protocol column and options. */
export class FastLineWriter {
  private readonly second = new SecondText();
  private readonly jsonSecond = new SecondText();
  /** the formatter's time text of a second (its fraction zero) */
  private readonly timeText: (sec: number) => string;

  constructor(private readonly lines: PacketLineFormatter) {
    this.timeText = (sec) => lines.time(sec, 0);
  }

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
    const micros = Math.floor(tsNsec / 1000);
    // a time before 1970 with a fraction is written by toFixed (jsonTime): not on this path's digits
    if (tsSec >= 0 && micros <= 999_999) q = writeMicros(out, this.jsonSecond.write(out, q, tsSec, jsonSecondText), micros);
    else q = ascii(out, q, jsonTime(tsSec, tsNsec));
    q = ascii(out, q, ',"type":"IPv4","src":"');
    q = writeAddress(out, q, buf, ip + 12);
    q = ascii(out, q, '","dst":"');
    q = writeAddress(out, q, buf, ip + 16);
    q = ascii(out, q, '","sport":');
    q = writeDecimal(out, q, this.sport);
    q = ascii(out, q, ',"dport":');
    q = writeDecimal(out, q, this.dport);
    // protocol names are wirelab's own (TCP, UDP, HTTP, TLS, wirelab-chat...): nothing to escape
    q = ascii(out, q, ',"protocol":"');
    q = ascii(out, q, this.protocol);
    q = ascii(out, q, '","length":');
    q = writeDecimal(out, q, wireLen);
    q = ascii(out, q, ',"flags":"');
    q = ascii(out, q, this.flags);
    const appJson = this.appJson;
    if (appJson === undefined) {
      q = ascii(out, q, '","info":"Len=');
      q = writeDecimal(out, q, this.info);
      out[q++] = 0x22;
    } else {
      q = ascii(out, q, '","info":');
      q += out.write(appJson, q, 'utf8');
    }
    const tcp = this.tcp;
    if (tcp >= 0) {
      q = ascii(out, q, ',"seq":');
      q = writeDecimal(out, q, buf.readUInt32BE(tcp + 4));
      q = ascii(out, q, ',"ack":');
      q = writeDecimal(out, q, buf.readUInt32BE(tcp + 8));
      q = ascii(out, q, ',"window":');
      q = writeDecimal(out, q, (buf[tcp + 14]! << 8) | buf[tcp + 15]!);
    }
    if (appJson !== undefined && this.appFieldsJson !== '') {
      q = ascii(out, q, ',"app":');
      q += out.write(this.appFieldsJson, q, 'utf8');
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
  /** a TCP application protocol's info as JSON text, for JSON lines */
  private appJson: string | undefined = undefined;
  /** its fields as a JSON object's text (`app`), or '' when it has none */
  private appFieldsJson = '';
  private tcp = -1;

  /** Is the packet one for this path? If so its fields are left in the fields above. */
  private parse(buf: Buffer, at: number, capLen: number, linkType: number, human: boolean): boolean {
    this.appInfo = undefined;
    this.appJson = undefined;
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
        // human lines take the application's info text; JSON its info and fields
        const app = matchTcpApp(sport, dport, buf, payload, ipEnd, human ? 'line' : 'fields');
        if (app !== undefined && !(human ? this.takeApp(app) : this.takeAppJson(app))) return false;
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
    if (this.appInfo === undefined && this.appJson === undefined) this.protocol = proto === IPPROTO_TCP ? 'TCP' : 'UDP';
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
  /** Keep an application match for the JSON line (as packetJsonLine writes it), if it fits the line's room; false: decline. */
  private takeAppJson(app: AppMatch): boolean {
    if (app.info === '') return false;
    const info = JSON.stringify(app.info);
    const fields = app.fields === undefined ? '' : JSON.stringify(app.fields);
    if ((info.length + fields.length) * 3 + app.name.length > FAST_LINE_MAX_BYTES - 256) return false;
    this.appJson = info;
    this.appFieldsJson = fields;
    this.protocol = app.name;
    return true;
  }


  /** "hh:mm:ss.uuuuuu" as the formatter writes it: the second's bytes cached, the fraction from digit pairs. */
  private writeTime(out: Buffer, pos: number, tsSec: number, tsNsec: number): number {
    const micros = Math.floor(tsNsec / 1000);
    if (!Number.isFinite(tsSec) || micros > 999_999) return ascii(out, pos, this.lines.time(tsSec, tsNsec));
    return writeMicros(out, this.second.write(out, pos, tsSec, this.timeText), micros);
  }

  private line(out: Buffer, pos: number, buf: Buffer, ip: number, sport: number, dport: number, protocol: string, wireLen: number, flags: string, info: number, tcp: number, tsSec: number, tsNsec: number, index: number): number {
    let q = writeDecimal(out, padTo(out, pos, pos + 6 - digits(index)), index);
    out[q++] = SPACE;
    q = this.writeTime(out, q, tsSec, tsNsec);
    out[q++] = SPACE;
    q = writeEndpoint(out, q, buf, ip + 12, sport);
    q = ascii(out, q, ' -> ');
    q = writeEndpoint(out, q, buf, ip + 16, dport);
    out[q++] = SPACE;
    const protoStart = q;
    q = padTo(out, ascii(out, q, protocol), protoStart + this.lines.protocolWidth(protocol) + 1);
    q = writeDecimal(out, padTo(out, q, q + 5 - digits(wireLen)), wireLen);
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
