/**
 * Application protocols named by port and confirmed by a look at the payload, one segment or
 * datagram at a time (no stream reassembly): HTTP requests and responses, TLS records (with the
 * Client Hello's server name), SSH, DHCP, NTP, SSDP, QUIC, and wirelab's own chat (the seed's framing
 * on TCP 10000) and gossip (a length-prefixed text frame on any port). DNS, mDNS and LLMNR, and the
 * broadcast envelope, are decoded by dns.ts and wirelab.ts. Every read is inside `[offset, end)`;
 * nothing here throws: a payload that does not fit its protocol is not named.
 */

/** What a payload was found to be. */
export interface AppMatch {
  /** the summary's protocol name ('HTTP', 'TLS', 'wirelab-chat', ...) */
  name: string;
  /** tshark-like info text (wire text in it is raw: the printers escape it) */
  info: string;
  /** fields for JSON (`app`): server name, method, message type... */
  fields?: Record<string, string | number>;
}

const HTTP_PORTS = new Set([80, 8080, 8000, 8008, 3128, 591]);
const TLS_PORTS = new Set([443, 8443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 5223, 6697]);
const PORT_SSH = 22;
const PORT_CHAT = 10000;
const PORT_DHCP_SERVER = 67;
const PORT_DHCP_CLIENT = 68;
const PORT_NTP = 123;
const PORT_SSDP = 1900;
const PORT_QUIC = 443;
/** longest text taken from a payload for a line (characters) */
const MAX_TEXT = 160;

/**
 * How much of a match to make: `name` only (statistics: the costly text, HTTP lines and headers and
 * the TLS server name, is not made and `info` may be empty), the `line`'s info text (no `fields`
 * beyond what the text needs: no HTTP header search), or everything for JSON (`fields`).
 */
export type AppDetail = 'name' | 'line' | 'fields';

/** The application protocol of a TCP payload, if one is recognised, made to the `detail` asked for. */
export function matchTcpApp(sport: number, dport: number, buf: Buffer, offset: number, end: number, detail: AppDetail = 'fields'): AppMatch | undefined {
  if (end <= offset) return undefined;
  if (HTTP_PORTS.has(dport) || HTTP_PORTS.has(sport)) return http(buf, offset, end, detail);
  if (TLS_PORTS.has(dport) || TLS_PORTS.has(sport)) return tls(buf, offset, end, true, detail);
  if (dport === PORT_SSH || sport === PORT_SSH) return ssh(buf, offset, end);
  if (dport === PORT_CHAT || sport === PORT_CHAT) return chat(buf, offset, end) ?? gossip(buf, offset, end);
  // any other port: only payloads whose first bytes leave little doubt
  return gossip(buf, offset, end) ?? tls(buf, offset, end, false, detail) ?? httpRequestAnywhere(buf, offset, end, detail);
}

/** Shared results for `detail` name: a name and nothing to make. */
const HTTP_NAME: AppMatch = { name: 'HTTP', info: '' };
const TLS_NAME: AppMatch = { name: 'TLS', info: '' };

/** The application protocol of a UDP payload, if one is recognised. */
export function matchUdpApp(sport: number, dport: number, buf: Buffer, offset: number, end: number): AppMatch | undefined {
  if (end <= offset) return undefined;
  const either = (port: number): boolean => sport === port || dport === port;
  if (either(PORT_DHCP_SERVER) || either(PORT_DHCP_CLIENT)) return dhcp(buf, offset, end);
  if (either(PORT_NTP)) return ntp(buf, offset, end);
  if (either(PORT_SSDP)) return ssdp(buf, offset, end);
  if (either(PORT_QUIC)) return quic(buf, offset, end);
  return undefined;
}

/** Bytes [from, to) as latin1 text, at most MAX_TEXT characters. */
function text(buf: Buffer, from: number, to: number): string {
  return buf.toString('latin1', from, Math.min(to, from + MAX_TEXT));
}

/** Index of the first CR or LF in [offset, end), or end. */
function lineEnd(buf: Buffer, offset: number, end: number): number {
  for (let i = offset; i < end; i++) if (buf[i] === 0x0d || buf[i] === 0x0a) return i;
  return end;
}

function startsWithAscii(buf: Buffer, offset: number, end: number, word: string): boolean {
  if (end - offset < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[offset + i] !== word.charCodeAt(i)) return false;
  return true;
}

const HTTP_METHODS = ['GET ', 'POST ', 'HEAD ', 'PUT ', 'DELETE ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE '];

function httpMethod(buf: Buffer, offset: number, end: number): string | undefined {
  const first = buf[offset];
  // a cheap first-byte test before the words
  if (first !== 0x47 && first !== 0x50 && first !== 0x48 && first !== 0x44 && first !== 0x4f && first !== 0x43 && first !== 0x54) return undefined;
  return HTTP_METHODS.find((m) => startsWithAscii(buf, offset, end, m));
}

/** An HTTP/1.x request line or status line starting the segment. */
function http(buf: Buffer, offset: number, end: number, detail: AppDetail): AppMatch | undefined {
  const method = httpMethod(buf, offset, end);
  // a segment that starts neither a request nor a response ("HTTP/") is a continuation: not named
  if (method === undefined && !startsWithAscii(buf, offset, end, 'HTTP/')) return undefined;
  if (detail === 'name' && (method !== undefined || statusLine(buf, offset, end))) return HTTP_NAME;
  // the first line ends within MAX_TEXT characters for the line, or the header search covers it
  const eol = lineEnd(buf, offset, Math.min(end, offset + 8192));
  const line = text(buf, offset, eol);
  if (detail === 'line') return method !== undefined || statusLine(buf, offset, end) ? { name: 'HTTP', info: line } : undefined;
  if (method !== undefined) {
    const version = line.lastIndexOf(' HTTP/');
    const uri = line.slice(method.length, version > method.length - 1 ? version : line.length);
    const host = hostHeader(buf, eol, end);
    const fields: Record<string, string | number> = { method: method.trim(), uri };
    if (host !== undefined) fields.host = host;
    return { name: 'HTTP', info: line, fields };
  }
  const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(line);
  if (status) return { name: 'HTTP', info: line, fields: { status: Number(status[1]) } };
  return undefined;
}

/** "HTTP/d.d ddd" or "HTTP/d ddd" at offset, by bytes. */
function statusLine(buf: Buffer, offset: number, end: number): boolean {
  const isDigit = (i: number): boolean => i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39;
  let p = offset + 5;
  if (!isDigit(p)) return false;
  p++;
  if (p < end && buf[p] === 0x2e) p += isDigit(p + 1) ? 2 : 0;
  return p < end && buf[p] === 0x20 && isDigit(p + 1) && isDigit(p + 2) && isDigit(p + 3);
}

function httpRequestAnywhere(buf: Buffer, offset: number, end: number, detail: AppDetail): AppMatch | undefined {
  if (httpMethod(buf, offset, end) === undefined) return undefined;
  const line = text(buf, offset, lineEnd(buf, offset, Math.min(end, offset + 8192)));
  return / HTTP\/1\.[01]$/.test(line) ? http(buf, offset, end, detail) : undefined;
}

/** The value of header `name` (lower case) among the header lines after `from`, within this segment. */
/** Bytes searched for the Host header after the request line */
const HEADER_SEARCH_BYTES = 2048;

/** The Host header's value among the header lines after `from`, within this segment (a byte scan, no text made until found). */
function hostHeader(buf: Buffer, from: number, end: number): string | undefined {
  const stop = Math.min(end, from + HEADER_SEARCH_BYTES) - 6;
  for (let i = from; i < stop; i++) {
    // "\nhost:" in any case: 0x20 folds upper to lower case for letters
    if (buf[i] !== 0x0a || (buf[i + 1]! | 0x20) !== 0x68 || (buf[i + 2]! | 0x20) !== 0x6f || (buf[i + 3]! | 0x20) !== 0x73 || (buf[i + 4]! | 0x20) !== 0x74 || buf[i + 5] !== 0x3a) continue;
    let v = i + 6;
    while (v < end && (buf[v] === 0x20 || buf[v] === 0x09)) v++;
    return text(buf, v, lineEnd(buf, v, Math.min(end, v + MAX_TEXT)));
  }
  return undefined;
}

const TLS_CONTENT: Record<number, string> = { 20: 'Change Cipher Spec', 21: 'Alert', 22: 'Handshake', 23: 'Application Data', 24: 'Heartbeat' };
const TLS_HANDSHAKE: Record<number, string> = {
  1: 'Client Hello', 2: 'Server Hello', 4: 'New Session Ticket', 8: 'Encrypted Extensions', 11: 'Certificate',
  12: 'Server Key Exchange', 13: 'Certificate Request', 14: 'Server Hello Done', 15: 'Certificate Verify',
  16: 'Client Key Exchange', 20: 'Finished',
};

/** A TLS record header (RFC 8446 5.1): type 20..24, version 3.0..3.4, length up to 2^14 + 2048. */
function tls(buf: Buffer, offset: number, end: number, onPort: boolean, detail: AppDetail): AppMatch | undefined {
  if (end - offset < 5) return undefined;
  const type = buf[offset]!;
  const major = buf[offset + 1]!;
  const minor = buf[offset + 2]!;
  const length = (buf[offset + 3]! << 8) | buf[offset + 4]!;
  if (TLS_CONTENT[type] === undefined || major !== 3 || minor > 4 || length > 18432) return undefined;
  // off its ports, only a handshake record is taken for TLS
  if (!onPort && type !== 22) return undefined;
  if (detail === 'name' && onPort) return TLS_NAME;
  if (type !== 22 || end - offset < 6) return { name: 'TLS', info: TLS_CONTENT[type] };
  const hsType = buf[offset + 5]!;
  const what = TLS_HANDSHAKE[hsType] ?? (onPort ? 'Encrypted Handshake Message' : undefined);
  if (what === undefined) return undefined;
  if (hsType !== 1 || detail === 'name') return { name: 'TLS', info: what };
  const sni = serverName(buf, offset + 5, Math.min(end, offset + 5 + length));
  return sni === undefined ? { name: 'TLS', info: what } : { name: 'TLS', info: `${what} (SNI=${sni})`, fields: { sni } };
}

/** The server_name extension (RFC 6066 3) of a Client Hello at `p` (the handshake header), if whole here. */
function serverName(buf: Buffer, p: number, end: number): string | undefined {
  let q = p + 4 + 2 + 32; // handshake header, client version, random
  if (q + 1 > end) return undefined;
  q += 1 + buf[q]!; // session id
  if (q + 2 > end) return undefined;
  q += 2 + ((buf[q]! << 8) | buf[q + 1]!); // cipher suites
  if (q + 1 > end) return undefined;
  q += 1 + buf[q]!; // compression methods
  if (q + 2 > end) return undefined;
  const extEnd = Math.min(end, q + 2 + ((buf[q]! << 8) | buf[q + 1]!));
  q += 2;
  while (q + 4 <= extEnd) {
    const type = (buf[q]! << 8) | buf[q + 1]!;
    const len = (buf[q + 2]! << 8) | buf[q + 3]!;
    q += 4;
    if (type === 0) {
      // server_name_list length (2), name type (1) = host_name 0, name length (2), name
      if (q + 5 > extEnd || buf[q + 2] !== 0) return undefined;
      const nameLen = (buf[q + 3]! << 8) | buf[q + 4]!;
      if (q + 5 + nameLen > extEnd || nameLen === 0) return undefined;
      return text(buf, q + 5, q + 5 + nameLen);
    }
    q += len;
  }
  return undefined;
}

function ssh(buf: Buffer, offset: number, end: number): AppMatch {
  if (startsWithAscii(buf, offset, end, 'SSH-')) {
    const banner = text(buf, offset, lineEnd(buf, offset, end));
    return { name: 'SSH', info: `Protocol (${banner})`, fields: { banner } };
  }
  return { name: 'SSH', info: `Encrypted packet (len=${end - offset})` };
}

const CHAT_HEADERS = new Set(['msg', 'cmd', 'to', 'info', 'error', 'file_transfer', 'quiz_question', 'quiz_answer']);

/** The seed chat's record: u16 BE header length, the header word, u32 BE payload length, payload. */
function chat(buf: Buffer, offset: number, end: number): AppMatch | undefined {
  if (end - offset < 2) return undefined;
  const hl = (buf[offset]! << 8) | buf[offset + 1]!;
  if (hl < 2 || hl > 16 || offset + 2 + hl > end) return undefined;
  const header = buf.toString('latin1', offset + 2, offset + 2 + hl);
  if (!CHAT_HEADERS.has(header)) return undefined;
  const p = offset + 2 + hl;
  const length = p + 4 <= end ? buf.readUInt32BE(p) : undefined;
  const info = length === undefined ? header : `${header}, ${length} bytes`;
  return { name: 'wirelab-chat', info, fields: length === undefined ? { type: header } : { type: header, length } };
}

const GOSSIP_TYPES: ReadonlyArray<[string, string]> = [
  ['register:', 'register'], ['registered successfully:', 'registered'], ['peer list', 'peer-list'], ['hello:', 'hello'],
  ['welcome:', 'welcome'], ['busy:', 'busy'], ['Liveness Request:', 'liveness-request'], ['Liveness Reply:', 'liveness-reply'],
  ['gossip:', 'gossip'], ['ihave:', 'ihave'], ['iwant:', 'iwant'], ['prune:', 'prune'], ['anchor', 'anchor'], ['Dead Node:', 'dead-node'],
  ['report noted:', 'report-noted'], ['id query:', 'id-query'], ['id:', 'id-answer'],
];

/** A gossip frame (docs/gossip.md): u32 BE body length, then text opening with a message keyword. */
function gossip(buf: Buffer, offset: number, end: number): AppMatch | undefined {
  if (end - offset < 9 || buf[offset] !== 0 || buf[offset + 1]! > 3) return undefined;
  const length = buf.readUInt32BE(offset);
  if (length < 5) return undefined;
  const body = offset + 4;
  for (const [word, type] of GOSSIP_TYPES) {
    if (!startsWithAscii(buf, body, end, word)) continue;
    // 'peer list' alone is the request; with ':' after it, the list
    const kind = type === 'peer-list' && (length === 9 || body + 9 >= end || buf[body + 9] !== 0x3a) ? 'peer-list-request' : type;
    return { name: 'wirelab-gossip', info: `${kind}, ${length} bytes`, fields: { type: kind, length } };
  }
  return undefined;
}

const DHCP_TYPES = ['', 'Discover', 'Offer', 'Request', 'Decline', 'ACK', 'NAK', 'Release', 'Inform'];

/** BOOTP with the DHCP magic cookie (RFC 2131 3, RFC 2132 9.6: option 53 is the message type). */
function dhcp(buf: Buffer, offset: number, end: number): AppMatch | undefined {
  if (end - offset < 240 || buf.readUInt32BE(offset + 236) !== 0x63825363) return undefined;
  const xid = buf.readUInt32BE(offset + 4).toString(16).padStart(8, '0');
  let p = offset + 240;
  let type = 0;
  while (p < end && buf[p] !== 255) {
    const code = buf[p]!;
    if (code === 0) {
      p++;
      continue;
    }
    if (p + 2 > end) break;
    const len = buf[p + 1]!;
    if (code === 53 && len >= 1 && p + 3 <= end) type = buf[p + 2]!;
    p += 2 + len;
  }
  const name = DHCP_TYPES[type] ?? `type ${type}`;
  return { name: 'DHCP', info: `DHCP ${name || (buf[offset] === 1 ? 'request' : 'reply')} - Transaction ID 0x${xid}`, fields: { type: name || 'BOOTP', xid: `0x${xid}` } };
}

const NTP_MODES = ['reserved', 'symmetric active', 'symmetric passive', 'client', 'server', 'broadcast', 'control', 'private'];

function ntp(buf: Buffer, offset: number, end: number): AppMatch | undefined {
  if (end - offset < 48) return undefined;
  const version = (buf[offset]! >>> 3) & 7;
  if (version < 1 || version > 4) return undefined;
  const mode = NTP_MODES[buf[offset]! & 7]!;
  return { name: 'NTP', info: `NTP Version ${version}, ${mode}`, fields: { version, mode } };
}

function ssdp(buf: Buffer, offset: number, end: number): AppMatch | undefined {
  const line = text(buf, offset, lineEnd(buf, offset, end));
  if (!/^(M-SEARCH|NOTIFY) \* HTTP\/1\.1$|^HTTP\/1\.1 \d{3}/.test(line)) return undefined;
  return { name: 'SSDP', info: line, fields: { start: line } };
}

const QUIC_LONG_TYPES = ['Initial', '0-RTT', 'Handshake', 'Retry'];

/** QUIC (RFC 9000 17): the fixed bit set; a long header names its version and packet type. */
function quic(buf: Buffer, offset: number, end: number): AppMatch | undefined {
  const first = buf[offset]!;
  if ((first & 0x40) === 0) return undefined;
  if ((first & 0x80) === 0) return { name: 'QUIC', info: 'Protected Payload (short header)' };
  if (end - offset < 7) return undefined;
  const version = buf.readUInt32BE(offset + 1);
  if (version === 0) return { name: 'QUIC', info: 'Version Negotiation' };
  const type = QUIC_LONG_TYPES[(first >>> 4) & 3]!;
  return { name: 'QUIC', info: `${type}, version 0x${version.toString(16).padStart(8, '0')}`, fields: { type, version } };
}
