/**
 * Rendering of a PacketSummary: one human line (tcpdump's habits: frame number, time of day in local
 * time or UTC, aligned columns) and one NDJSON object. Both run per packet in bulk output, so they
 * cache the formatted second and build the line by plain concatenation.
 */
import type { PacketSummary } from '../types.js';

/** "000".."999": the microsecond fraction is two lookups instead of a number conversion and padding. */
const DIGITS3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DIGITS2: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** Decimal text of 0..65535 (ports, most lengths), filled on first use; bounded by its size. */
const DECIMAL16: Array<string | undefined> = new Array<string | undefined>(65536);

function decimal(n: number): string {
  if (n >= 0 && n < 65536) return (DECIMAL16[n] ??= String(n));
  return String(n);
}

/** SPACES[n]: n spaces, for padding columns up to 64 wide. */
const SPACES: readonly string[] = Array.from({ length: 65 }, (_, i) => ' '.repeat(i));

function padStart(text: string, width: number): string {
  const gap = width - text.length;
  return gap <= 0 ? text : gap < SPACES.length ? SPACES[gap]! + text : text.padStart(width);
}

function padEnd(text: string, width: number): string {
  const gap = width - text.length;
  return gap <= 0 ? text : gap < SPACES.length ? text + SPACES[gap]! : text.padEnd(width);
}

/** Does the packet carry a timestamp? (pcapng Simple Packet Blocks do not: tsSec is NaN.) */
export function hasTime(s: { tsSec: number }): boolean {
  return Number.isFinite(s.tsSec);
}

/** Milliseconds beyond which a Date cannot be built (ECMA-262 21.4.1.22: ±8.64e15). */
const DATE_LIMIT_MS = 8.64e15;
const SECONDS_PER_DAY = 86_400;

/** "hh:mm:ss" of `sec` (seconds since the epoch, any finite value), local time unless `utc`. */
export function timeOfDay(sec: number, utc: boolean): string {
  const ms = sec * 1000;
  if (!utc && Math.abs(ms) < DATE_LIMIT_MS) {
    const d = new Date(ms);
    return DIGITS2[d.getHours()]! + ':' + DIGITS2[d.getMinutes()]! + ':' + DIGITS2[d.getSeconds()]!;
  }
  // UTC, or a time no Date can hold (a pcapng offset of centuries): plain arithmetic in UTC
  const day = ((Math.floor(sec) % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
  return DIGITS2[Math.floor(day / 3600)]! + ':' + DIGITS2[Math.floor(day / 60) % 60]! + ':' + DIGITS2[day % 60]!;
}

/** Control characters (C0 but tab, DEL, C1) that must not reach a terminal as they are. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/; // eslint-disable-line no-control-regex
const CONTROL_ALL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g; // eslint-disable-line no-control-regex

/** Wire text made safe for a terminal: control characters as \xHH. */
export function escapeControl(text: string): string {
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROL_ALL, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

/** Options of {@link PacketLineFormatter}. */
export interface LineFormatOptions {
  /** times in UTC instead of local time (TZ) */
  utc?: boolean;
  /** TCP lines also carry `seq N ack N win N` (tcpdump's -v habit) */
  verbose?: boolean;
}

/** Width of the time column: "hh:mm:ss.uuuuuu". */
const TIME_WIDTH = 15;
const NO_TIME = SPACES[TIME_WIDTH]!;

/**
 * One human line per packet, as tcpdump and tshark users read them:
 * `    12 20:20:33.491822 10.0.0.6:21536         -> 10.0.0.138:53         DNS       76 [DF] Standard query ...`.
 * Frame number, time of day with microseconds (blank when the capture has none), source and
 * destination, protocol, length on the wire, flags in brackets, the top layer's info, and a decoding
 * error as `[error: reason]`. Columns are aligned: IPv4 and MAC endpoints fit 21 characters; IPv6
 * endpoint columns grow to the widest seen so far (never shrinking), and so does the protocol column.
 */
export class PacketLineFormatter {
  private readonly utc: boolean;
  /** TCP lines carry seq/ack/window */
  readonly verbose: boolean;
  private cachedSecond = Number.NaN;
  private cachedText = '';
  /** IPv6 widths of the source and destination columns (they grow); other lines keep 21 ("255.255.255.255:65535") */
  private srcWidth = 21;
  private dstWidth = 21;
  private protoWidth = 6;

  constructor(options: LineFormatOptions = {}) {
    this.utc = options.utc === true;
    this.verbose = options.verbose === true;
  }

  /** "hh:mm:ss.uuuuuu", the second's text computed once per distinct second. */
  time(tsSec: number, tsNsec: number): string {
    if (!Number.isFinite(tsSec)) return NO_TIME;
    if (tsSec !== this.cachedSecond) {
      this.cachedText = timeOfDay(tsSec, this.utc) + '.';
      this.cachedSecond = tsSec;
    }
    const micros = Math.floor(tsNsec / 1000);
    return this.cachedText + DIGITS3[Math.floor(micros / 1000)]! + DIGITS3[micros % 1000]!;
  }

  /** The protocol column's width once `name` has been seen (it grows, never shrinks). */
  protocolWidth(name: string): number {
    if (name.length > this.protoWidth) this.protoWidth = Math.min(name.length, 32);
    return this.protoWidth;
  }

  format(s: PacketSummary): string {
    const v6 = s.type === 'IPv6';
    const src = endpoint(s.src, s.sport, v6);
    const dst = endpoint(s.dst, s.dport, v6);
    let srcWidth = 21;
    let dstWidth = 21;
    if (v6) {
      if (src.length > this.srcWidth) this.srcWidth = Math.min(src.length, 64);
      if (dst.length > this.dstWidth) this.dstWidth = Math.min(dst.length, 64);
      srcWidth = this.srcWidth;
      dstWidth = this.dstWidth;
    }
    this.protocolWidth(s.protocol);
    let line =
      padStart(decimal(s.index), 6) + ' ' + this.time(s.tsSec, s.tsNsec) + ' ' +
      padEnd(src, srcWidth) + ' -> ' + padEnd(dst, dstWidth) + ' ' +
      padEnd(s.protocol, this.protoWidth) + ' ' + padStart(decimal(s.length), 5);
    if (s.flags !== '') line += ' [' + s.flags + ']';
    if (s.info !== '') line += ' ' + escapeControl(s.info);
    if (this.verbose && s.seq !== undefined) line += ' seq ' + s.seq + ' ack ' + s.ack + ' win ' + s.window;
    return s.error === undefined ? line : line + ' [error: ' + escapeControl(s.error) + ']';
  }
}

function endpoint(address: string | undefined, port: number | undefined, v6: boolean): string {
  const host = address ?? '?';
  if (port === undefined) return host;
  return (v6 ? '[' + host + ']' : host) + ':' + decimal(port);
}

const defaultFormatter = new PacketLineFormatter({ utc: true });

/** One human line with a shared formatter in UTC (tests, one-off lines); bulk output uses a PacketLineFormatter. */
export function formatSummary(s: PacketSummary): string {
  return defaultFormatter.format(s);
}

/** Seconds with the full nanosecond fraction, e.g. "1700000000.123456789" (an exact text; "" without a time). */
export function timeText(tsSec: number, tsNsec: number): string {
  if (!Number.isFinite(tsSec)) return '';
  return tsSec + '.' + String(1_000_000_000 + tsNsec).slice(1);
}

/**
 * JSON `time`: seconds since the epoch with the microseconds, as number text ("1700000000.123456"),
 * or "null" when the capture carries no timestamp.
 */
export function jsonTime(tsSec: number, tsNsec: number): string {
  if (!Number.isFinite(tsSec)) return 'null';
  const micros = Math.floor(tsNsec / 1000);
  if (tsSec < 0 && micros > 0) return (tsSec + micros / 1e6).toFixed(6);
  return tsSec + '.' + DIGITS3[Math.floor(micros / 1000)]! + DIGITS3[micros % 1000]!;
}

/** A string as JSON; our own names and addresses need no escaping, wire text does. */
function jsonText(text: string | undefined): string {
  return text === undefined ? 'null' : JSON.stringify(text);
}

/**
 * The packet event as one NDJSON line, built by concatenation (the bulk path): event, frame, time
 * (a number, or null), type, src, dst, sport, dport, protocol, length, flags, then info and error
 * when present, then the TCP and application fields when decoded. `JSON.parse` of it equals
 * `{ event: 'packet', ...summaryToJson(s) }`.
 */
export function packetJsonLine(s: PacketSummary): string {
  let line =
    '{"event":"packet","frame":' + s.index + ',"time":' + jsonTime(s.tsSec, s.tsNsec) +
    ',"type":' + jsonText(s.type) + ',"src":' + jsonText(s.src) + ',"dst":' + jsonText(s.dst) +
    ',"sport":' + (s.sport ?? 'null') + ',"dport":' + (s.dport ?? 'null') +
    ',"protocol":' + jsonText(s.protocol) + ',"length":' + s.length + ',"flags":"' + s.flags + '"';
  if (s.info !== '') line += ',"info":' + JSON.stringify(s.info);
  if (s.error !== undefined) line += ',"error":' + JSON.stringify(s.error);
  if (s.seq !== undefined) line += ',"seq":' + s.seq + ',"ack":' + s.ack + ',"window":' + s.window;
  if (s.app !== undefined) line += ',"app":' + JSON.stringify(s.app);
  return line + '}';
}

/**
 * The summary as a JSON-ready object: frame, time (a number: epoch seconds with microseconds; null
 * without a timestamp), type, src, dst, sport, dport, protocol, length, flags (absent ones null),
 * info and error when present, seq/ack/window for TCP, and `app` (application fields) when decoded.
 */
export function summaryToJson(s: PacketSummary): Record<string, unknown> {
  const { event: _event, ...rest } = JSON.parse(packetJsonLine(s)) as Record<string, unknown>;
  return rest;
}
