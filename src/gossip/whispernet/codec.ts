/**
 * The original WhisperNet wire text (docs/whispernet.md), pure (sans-IO): records as the original seeds
 * and peers write them, and their parsing once the splitter (splitter.ts) has cut them out of the
 * stream. Fields are separated by `:`; peer-to-peer records and Dead Node are padded with spaces to
 * 1024 bytes; timestamps are float seconds; `localhost` is an address.
 */
import { DecodeError, WirelabError } from '../../common/errors.js';
import { BLOCK_BYTES, MAX_LIST_ENTRIES } from './constants.js';

/** A host as written on the wire (an IPv4 address or `localhost`) and a TCP port. */
export interface WhisperEndpoint {
  host: string;
  port: number;
}

export type WhisperMessage =
  | { type: 'register'; peer: WhisperEndpoint }
  | { type: 'registered' }
  | { type: 'peer-list-request' }
  | { type: 'peer-list'; peers: WhisperEndpoint[] }
  | { type: 'connection'; peer: WhisperEndpoint }
  /** `text` is everything after the fourth `:`, padding removed; `ts` float seconds as sent */
  | { type: 'gmessage'; ts: string; origin: WhisperEndpoint; text: string }
  | { type: 'forwarding' }
  | { type: 'liveness-request'; ts: string; peer: WhisperEndpoint }
  | { type: 'liveness-reply'; ts: string; peer: WhisperEndpoint; replier: WhisperEndpoint }
  | { type: 'dead-node'; peer: WhisperEndpoint; ts: string; reporter: WhisperEndpoint };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const SECONDS = /^\d{1,12}(\.\d{1,9})?$/;

function bad(message: string): DecodeError {
  return new DecodeError('E_DECODE', message);
}

/** Control characters escaped, for logs and terminals: wire text is never printed raw. */
export function printable(text: string, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > max ? `${escaped.slice(0, max)}...` : escaped;
}

/** An IPv4 address or `localhost` (the original always announces `localhost`). */
export function parseHost(text: string | undefined): string {
  if (text === undefined || (text !== 'localhost' && !IPV4.test(text))) throw bad(`bad host '${printable(String(text), 32)}'`);
  return text;
}

function parsePort(text: string | undefined): number {
  if (text === undefined || !/^\d{1,5}$/.test(text)) throw bad(`bad port '${printable(String(text), 32)}'`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw bad(`port out of range: ${port}`);
  return port;
}

function parseSeconds(text: string | undefined): string {
  if (text === undefined || !SECONDS.test(text)) throw bad(`bad timestamp '${printable(String(text), 32)}'`);
  return text;
}

function endpointAt(parts: string[], i: number): WhisperEndpoint {
  return { host: parseHost(parts[i]), port: parsePort(parts[i + 1]) };
}

function expectFields(parts: string[], count: number, what: string): void {
  if (parts.length !== count) throw bad(`${what}: expected ${count - 1} fields, got ${parts.length - 1}`);
}

/** The address a host names, for comparing and dialling: `localhost` is 127.0.0.1, as the original binds it. */
export function canonicalHost(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}

/** `ip:port` with `localhost` canonical: the key of a peer. */
export function whisperKey(e: WhisperEndpoint): string {
  return `${canonicalHost(e.host)}:${e.port}`;
}

/** Float seconds since the epoch, as Python's time.time() prints them (ms precision). */
export function formatSeconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** Float seconds text to ms since the epoch. */
export function secondsToMs(ts: string): number {
  return Math.round(Number(ts) * 1000);
}

function parseList(body: string): WhisperEndpoint[] {
  // `peer list::a#p:b#q` (the original's double colon) or `peer list:a#p` (tolerated)
  const items = body.split(':').filter((item, i) => !(i === 0 && item === ''));
  if (items.length > MAX_LIST_ENTRIES) throw new DecodeError('E_TOO_LARGE', `peer list of ${items.length} entries exceeds ${MAX_LIST_ENTRIES}`);
  return items.map((item) => {
    const [host, port, extra] = item.split('#');
    if (extra !== undefined) throw bad(`bad peer list entry '${printable(item, 32)}'`);
    return { host: parseHost(host), port: parsePort(port) };
  });
}

/** Parse one record cut out by the splitter (padding already removed). Throws DecodeError. */
export function parseRecord(text: string): WhisperMessage {
  if (text === 'registered successfully') return { type: 'registered' };
  if (text === 'peer list') return { type: 'peer-list-request' };
  if (text === 'forwarding') return { type: 'forwarding' };
  if (text.startsWith('peer list:')) return { type: 'peer-list', peers: parseList(text.slice('peer list:'.length)) };
  const parts = text.split(':');
  switch (parts[0]) {
    case 'register':
      expectFields(parts, 3, 'register');
      return { type: 'register', peer: endpointAt(parts, 1) };
    case 'Connection with Peer':
      expectFields(parts, 3, 'Connection with Peer');
      return { type: 'connection', peer: endpointAt(parts, 1) };
    case 'gmessage': {
      if (parts.length < 5) throw bad('gmessage: too few fields');
      return { type: 'gmessage', ts: parseSeconds(parts[1]), origin: endpointAt(parts, 2), text: parts.slice(4).join(':') };
    }
    case 'Liveness Request':
      expectFields(parts, 4, 'Liveness Request');
      return { type: 'liveness-request', ts: parseSeconds(parts[1]), peer: endpointAt(parts, 2) };
    case 'Liveness Reply':
      expectFields(parts, 6, 'Liveness Reply');
      return { type: 'liveness-reply', ts: parseSeconds(parts[1]), peer: endpointAt(parts, 2), replier: endpointAt(parts, 4) };
    case 'Dead Node':
      expectFields(parts, 6, 'Dead Node');
      return { type: 'dead-node', peer: endpointAt(parts, 1), ts: parseSeconds(parts[3]), reporter: endpointAt(parts, 4) };
    default:
      throw bad(`unknown record '${printable(parts[0] ?? '', 32)}'`);
  }
}

const ep = (e: WhisperEndpoint): string => `${e.host}:${e.port}`;

/** The record's text, unpadded. */
export function formatRecord(m: WhisperMessage): string {
  switch (m.type) {
    case 'register':
      return `register:${ep(m.peer)}`;
    case 'registered':
      return 'registered successfully';
    case 'peer-list-request':
      return 'peer list';
    case 'peer-list':
      return `peer list:${m.peers.map((p) => `:${p.host}#${p.port}`).join('')}`;
    case 'connection':
      return `Connection with Peer:${ep(m.peer)}`;
    case 'gmessage':
      return `gmessage:${m.ts}:${ep(m.origin)}:${m.text}`;
    case 'forwarding':
      return 'forwarding';
    case 'liveness-request':
      return `Liveness Request:${m.ts}:${ep(m.peer)}`;
    case 'liveness-reply':
      return `Liveness Reply:${m.ts}:${ep(m.peer)}:${ep(m.replier)}`;
    case 'dead-node':
      return `Dead Node:${ep(m.peer)}:${m.ts}:${ep(m.reporter)}`;
  }
}

/** Records the original sends bare; every other one (peer to peer, Dead Node) is padded. */
const UNPADDED = new Set<WhisperMessage['type']>(['register', 'registered', 'peer-list-request', 'peer-list']);

/**
 * The bytes of a record as they go on the wire: padded with spaces to exactly 1024 bytes where the
 * original pads (so an original reading 1024 bytes at a time stays aligned), bare otherwise.
 */
export function encodeRecord(m: WhisperMessage): Buffer {
  const body = Buffer.from(formatRecord(m), 'utf8');
  if (UNPADDED.has(m.type)) return body;
  if (body.length > BLOCK_BYTES) throw new WirelabError('E_TOO_LARGE', `${m.type} record of ${body.length} bytes exceeds ${BLOCK_BYTES}`);
  const block = Buffer.alloc(BLOCK_BYTES, 0x20);
  body.copy(block);
  return block;
}

/**
 * The peer list a seed answers, within `maxBytes` (the original peer reads it with one recv(1024)):
 * every peer in order when they fit, else as many whole entries as fit, in the order given.
 */
export function peerListWithin(peers: WhisperEndpoint[], maxBytes: number): WhisperMessage {
  let bytes = 'peer list:'.length;
  const chosen: WhisperEndpoint[] = [];
  for (const p of peers) {
    const entry = Buffer.byteLength(`:${p.host}#${p.port}`);
    if (bytes + entry > maxBytes) continue;
    bytes += entry;
    chosen.push(p);
  }
  return { type: 'peer-list', peers: chosen };
}

/** `2026-12-01 23:10:14,179`: Python logging's default asctime, in local time (or UTC). */
export function pythonLogTime(ms: number, utc = false): string {
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const [y, mo, da, h, mi, s] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  return `${y}-${p2(mo)}-${p2(da)} ${p2(h)}:${p2(mi)}:${p2(s)},${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** The original's config.txt lines may name `localhost`: read as 127.0.0.1, where the original binds it. */
export function localhostAsIpv4(configText: string): string {
  return configText.replace(/^(\s*)localhost(\s*:)/gim, '$1127.0.0.1$2');
}
