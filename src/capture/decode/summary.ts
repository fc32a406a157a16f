/**
 * Rendering of a PacketSummary: one human line (the seed analyzer's log line), and a JSON object.
 * formatSummary runs per packet in bulk output, so it caches the formatted second and builds the
 * line by plain concatenation.
 */
import type { PacketSummary } from '../types.js';

let cachedSecond = Number.NaN;
let cachedSecondText = '';

/** "YYYY-MM-DD hh:mm:ss" in UTC for `sec`, computed once per distinct second. */
function secondText(sec: number): string {
  if (sec !== cachedSecond) {
    const iso = new Date(sec * 1000).toISOString();
    cachedSecondText = iso.slice(0, 10) + ' ' + iso.slice(11, 19);
    cachedSecond = sec;
  }
  return cachedSecondText;
}

/** "000".."999": the microsecond fraction is two lookups instead of a number conversion and padding. */
const DIGITS3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** Decimal text of 0..65535 (ports, most lengths), filled on first use; bounded by its size. */
const DECIMAL16: Array<string | undefined> = new Array<string | undefined>(65536);

function decimal(n: number): string {
  if (n >= 0 && n < 65536) return (DECIMAL16[n] ??= String(n));
  return String(n);
}

function endpoint(address: string | undefined, port: number | undefined, v6: boolean): string {
  const host = address ?? '?';
  if (port === undefined) return host;
  return (v6 ? '[' + host + ']' : host) + ':' + decimal(port);
}

/**
 * One human line: `IPv4 | 2024-01-01 12:00:00.123456 | 10.0.0.1:1234 -> 10.0.0.2:80 | TCP | 60 | SYN | info`.
 * Time is UTC with microseconds. Non-IP packets start with `WARN non-IP ` (the seed logged them as
 * warnings), and a decoding error is appended as `| error: reason`.
 */
export function formatSummary(s: PacketSummary): string {
  const ip = s.ipProto >= 0;
  const v6 = s.type === 'IPv6';
  const micros = Math.floor(s.tsNsec / 1000);
  const fraction = DIGITS3[Math.floor(micros / 1000)]! + DIGITS3[micros % 1000]!;
  const line =
    (ip ? s.type : 'WARN non-IP ' + s.type) + ' | ' +
    secondText(s.tsSec) + '.' + fraction + ' | ' +
    endpoint(s.src, s.sport, v6) + ' -> ' + endpoint(s.dst, s.dport, v6) + ' | ' +
    s.protocol + ' | ' + decimal(s.length) + ' | ' + s.flags + ' | ' + s.info;
  return s.error === undefined ? line : line + ' | error: ' + s.error;
}

/** Seconds with the full nanosecond fraction, e.g. "1700000000.123456789". */
export function timeText(tsSec: number, tsNsec: number): string {
  return tsSec + '.' + String(1_000_000_000 + tsNsec).slice(1);
}

/**
 * The summary as a JSON-ready object: type, time (seconds with nanoseconds, a string so no
 * precision is lost), src, dst, sport, dport, protocol, length, flags (absent ones null), plus info
 * and error when present.
 */
export function summaryToJson(s: PacketSummary): Record<string, unknown> {
  const json: Record<string, unknown> = {
    type: s.type,
    time: timeText(s.tsSec, s.tsNsec),
    src: s.src ?? null,
    dst: s.dst ?? null,
    sport: s.sport ?? null,
    dport: s.dport ?? null,
    protocol: s.protocol,
    length: s.length,
    flags: s.flags,
  };
  if (s.info !== '') json.info = s.info;
  if (s.error !== undefined) json.error = s.error;
  return json;
}
