/**
 * The gossip wire protocol, pure (sans-IO): framing and the seed's (WhisperNet) text vocabulary.
 *
 * A frame is a 4-byte big-endian body length followed by that many bytes of UTF-8 text, so one message
 * can never run into the next (the seed wrote bare text on a TCP stream and split on luck). The length
 * is checked against a maximum before a byte of the body is buffered. docs/gossip.md is the spec.
 */
import { DecodeError } from '../common/errors.js';
import { MAX_FRAME_BYTES, MAX_GOSSIP_TEXT, MAX_LIST_ENTRIES } from './constants.js';

/** An IPv4 address and TCP port. */
export interface Endpoint {
  host: string;
  port: number;
}

/** A peer-list entry: an address and, from seeds that send it, the peer's id (its join order). */
export interface ListedPeer extends Endpoint {
  id?: number;
}

export type GossipMessage =
  | { type: 'register'; peer: Endpoint }
  /** `density`: joins per id handed out, per mille (IdAllocator.densityPerMille); 1000 when absent */
  | { type: 'registered'; id: number; density?: number }
  | { type: 'peer-list-request' }
  | { type: 'peer-list'; peers: ListedPeer[] }
  | { type: 'hello'; peer: Endpoint; id: number }
  | { type: 'welcome'; peer: Endpoint; id: number; neighbours: Endpoint[] }
  | { type: 'busy'; peer: Endpoint }
  | { type: 'liveness-request'; timestamp: number; peer: Endpoint }
  | { type: 'liveness-reply'; timestamp: number; peer: Endpoint; replier: Endpoint }
  | { type: 'gossip'; text: string; timestamp: number; origin: Endpoint; seq: number }
  | { type: 'ihave'; hash: string; origin: Endpoint }
  | { type: 'iwant'; hash: string }
  | { type: 'prune'; origin: Endpoint }
  | { type: 'anchor' }
  | { type: 'dead-node'; peer: Endpoint; timestamp: number; reporter: string }
  | { type: 'report-noted'; peer: Endpoint }
  /** seed -> seed: which id do you hold for this address? */
  | { type: 'id-query'; peer: Endpoint }
  /** the answer: the id held (absent: none), the highest id the seed knows in use (-1: none), the fresh ids it handed out */
  | { type: 'id-answer'; id?: number; highest: number; fresh: number };

export interface ProtocolLimits {
  /** bytes */
  maxFrameBytes: number;
  maxListEntries: number;
}

export const defaultLimits: ProtocolLimits = { maxFrameBytes: MAX_FRAME_BYTES, maxListEntries: MAX_LIST_ENTRIES };

const HEADER_BYTES = 4;

/** Frame one message text: 4-byte big-endian length, then UTF-8. */
export function encodeFrame(text: string, maxFrameBytes = MAX_FRAME_BYTES): Buffer {
  const body = Buffer.from(text, 'utf8');
  if (body.length > maxFrameBytes) {
    throw new DecodeError('E_TOO_LARGE', `frame of ${body.length} bytes exceeds ${maxFrameBytes}`);
  }
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

/**
 * Stream decoder: push() TCP chunks in any split, get whole frame texts out. After an error it stays
 * failed (the caller closes the connection), so no later byte is misread as a frame boundary.
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  private bodyLength = -1;
  private bodyParts: Buffer[] = [];
  private bodyFill = 0;
  private offset = 0;
  private failed: DecodeError | undefined;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Feed bytes; returns every frame completed by them, as text. Throws DecodeError on bad input. */
  push(chunk: Uint8Array): string[] {
    return this.pushRaw(chunk).map((body) => this.text(body));
  }

  /** Feed bytes; returns the bodies of every frame completed by them (for a layer that decrypts them). */
  pushRaw(chunk: Uint8Array): Buffer[] {
    if (this.failed) throw this.failed;
    const frames: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      at = this.bodyLength < 0 ? this.readHeader(chunk, at) : this.readBody(chunk, at, frames);
    }
    this.offset += chunk.length;
    return frames;
  }

  /** Decode a body as UTF-8 text; a failure fails the decoder. */
  text(body: Buffer): string {
    try {
      return this.utf8.decode(body);
    } catch {
      this.failed = new DecodeError('E_DECODE', 'frame is not valid UTF-8', this.offset);
      throw this.failed;
    }
  }

  private readHeader(chunk: Uint8Array, at: number): number {
    const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - at);
    this.header.set(chunk.subarray(at, at + take), this.headerFill);
    this.headerFill += take;
    if (this.headerFill === HEADER_BYTES) {
      const length = this.header.readUInt32BE(0);
      if (length > this.maxFrameBytes) {
        this.failed = new DecodeError('E_TOO_LARGE', `frame length ${length} exceeds ${this.maxFrameBytes}`, this.offset + at);
        throw this.failed;
      }
      this.bodyLength = length;
      this.headerFill = 0;
    }
    return at + take;
  }

  private readBody(chunk: Uint8Array, at: number, frames: Buffer[]): number {
    const take = Math.min(this.bodyLength - this.bodyFill, chunk.length - at);
    if (take > 0) this.bodyParts.push(Buffer.from(chunk.subarray(at, at + take)));
    this.bodyFill += take;
    if (this.bodyFill === this.bodyLength) {
      const body = this.bodyParts.length === 1 ? this.bodyParts[0]! : Buffer.concat(this.bodyParts, this.bodyFill);
      this.bodyParts = [];
      this.bodyFill = 0;
      this.bodyLength = -1;
      frames.push(body);
    }
    return at + take;
  }

  /** Bytes of an unfinished frame held (for stats and tests). */
  get pending(): number {
    return this.bodyLength < 0 ? this.headerFill : HEADER_BYTES + this.bodyFill;
  }
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const UINT = /^\d{1,15}$/;
const HASH = /^[0-9a-f]{64}$/;

function bad(message: string): DecodeError {
  return new DecodeError('E_DECODE', message);
}

function parseUint(text: string | undefined, what: string): number {
  if (text === undefined || !UINT.test(text)) throw bad(`bad ${what}: '${String(text).slice(0, 32)}'`);
  return Number(text);
}

function parseHost(text: string | undefined): string {
  if (text === undefined || !IPV4.test(text)) throw bad(`bad IPv4 address: '${String(text).slice(0, 32)}'`);
  return text;
}

function parsePortText(text: string | undefined): number {
  const port = parseUint(text, 'port');
  if (port < 1 || port > 65535) throw bad(`port out of range: ${port}`);
  return port;
}

/** `ip` and `port` fields at `parts[i]`, `parts[i+1]`. */
function endpointAt(parts: string[], i: number): Endpoint {
  return { host: parseHost(parts[i]), port: parsePortText(parts[i + 1]) };
}

/** `ip#port` list entries, as in the seed's peer list, or `ip#port#id` (our seeds add the id). */
function parseList(items: string[], limits: ProtocolLimits): ListedPeer[] {
  if (items.length > limits.maxListEntries) {
    throw new DecodeError('E_TOO_LARGE', `list of ${items.length} entries exceeds ${limits.maxListEntries}`);
  }
  return items.map((item) => {
    const [host, port, id, extra] = item.split('#', 4);
    if (extra !== undefined) throw bad(`bad list entry '${item.slice(0, 32)}'`);
    const entry: ListedPeer = { host: parseHost(host), port: parsePortText(port) };
    if (id !== undefined) entry.id = parseUint(id, 'id');
    return entry;
  });
}

function hashField(parts: string[], what: string): string {
  expectFields(parts, 2, what);
  if (!HASH.test(parts[1]!)) throw bad(`${what}: bad hash`);
  return parts[1]!;
}

function expectFields(parts: string[], count: number, what: string): void {
  if (parts.length !== count) throw bad(`${what}: expected ${count - 1} fields, got ${parts.length - 1}`);
}

type Parser = (parts: string[], limits: ProtocolLimits) => GossipMessage;

const parsers: Record<string, Parser> = {
  register: (p) => (expectFields(p, 3, 'register'), { type: 'register', peer: endpointAt(p, 1) }),
  'registered successfully': (p) => {
    if (p.length === 2) return { type: 'registered', id: parseUint(p[1], 'id') };
    expectFields(p, 3, 'registered');
    const density = parseUint(p[2], 'id density');
    if (density < 1 || density > 1000) throw bad(`id density out of range: ${density}`);
    return { type: 'registered', id: parseUint(p[1], 'id'), density };
  },
  'peer list': (p, limits) => ({ type: 'peer-list', peers: p[1] === '' && p.length === 2 ? [] : parseList(p.slice(1), limits) }),
  hello: (p) => (expectFields(p, 4, 'hello'), { type: 'hello', peer: endpointAt(p, 1), id: parseUint(p[3], 'id') }),
  welcome: (p, limits) => {
    if (p.length < 4) throw bad('welcome: too few fields');
    return { type: 'welcome', peer: endpointAt(p, 1), id: parseUint(p[3], 'id'), neighbours: parseList(p.slice(4), limits) };
  },
  busy: (p) => (expectFields(p, 3, 'busy'), { type: 'busy', peer: endpointAt(p, 1) }),
  'Liveness Request': (p) => {
    expectFields(p, 4, 'liveness request');
    return { type: 'liveness-request', timestamp: parseUint(p[1], 'timestamp'), peer: endpointAt(p, 2) };
  },
  'Liveness Reply': (p) => {
    expectFields(p, 6, 'liveness reply');
    return { type: 'liveness-reply', timestamp: parseUint(p[1], 'timestamp'), peer: endpointAt(p, 2), replier: endpointAt(p, 4) };
  },
  gossip: (p) => {
    expectFields(p, 5, 'gossip');
    const text = p.slice(1).join(':');
    if (text.length > MAX_GOSSIP_TEXT) throw new DecodeError('E_TOO_LARGE', `gossip text of ${text.length} characters`);
    return { type: 'gossip', text, timestamp: parseUint(p[1], 'timestamp'), origin: endpointAt(p, 2), seq: parseUint(p[4], 'sequence number') };
  },
  ihave: (p) => {
    expectFields(p, 4, 'ihave');
    return { type: 'ihave', hash: hashField(p.slice(0, 2), 'ihave'), origin: endpointAt(p, 2) };
  },
  iwant: (p) => ({ type: 'iwant', hash: hashField(p, 'iwant') }),
  prune: (p) => (expectFields(p, 3, 'prune'), { type: 'prune', origin: endpointAt(p, 1) }),
  anchor: (p) => (expectFields(p, 1, 'anchor'), { type: 'anchor' }),
  'Dead Node': (p) => {
    expectFields(p, 5, 'dead node');
    return { type: 'dead-node', peer: endpointAt(p, 1), timestamp: parseUint(p[3], 'timestamp'), reporter: parseHost(p[4]) };
  },
  'report noted': (p) => (expectFields(p, 3, 'report noted'), { type: 'report-noted', peer: endpointAt(p, 1) }),
  'id query': (p) => (expectFields(p, 3, 'id query'), { type: 'id-query', peer: endpointAt(p, 1) }),
  id: (p) => {
    expectFields(p, 4, 'id answer');
    const highest = p[2] === '-' ? -1 : parseUint(p[2], 'highest id');
    const fresh = parseUint(p[3], 'fresh ids');
    if (fresh > highest + 1) throw bad(`id answer: ${fresh} fresh ids below the highest ${highest}`);
    if (p[1] === '-') return { type: 'id-answer', highest, fresh };
    const id = parseUint(p[1], 'id');
    if (id > highest) throw bad(`id answer: id ${id} above the highest ${highest}`);
    return { type: 'id-answer', id, highest, fresh };
  },
};

/** Parse one frame's text. Throws DecodeError for anything outside the vocabulary. */
export function parseMessage(text: string, limits: ProtocolLimits = defaultLimits): GossipMessage {
  if (text === 'peer list') return { type: 'peer-list-request' };
  const parts = text.split(':', limits.maxListEntries + 8);
  const parser = Object.hasOwn(parsers, parts[0]!) ? parsers[parts[0]!] : undefined;
  if (!parser) throw bad(`unknown message type '${parts[0]!.slice(0, 32)}'`);
  return parser(parts, limits);
}

const ep = (e: Endpoint): string => `${e.host}:${e.port}`;
const list = (items: ListedPeer[]): string => items.map((e) => `:${e.host}#${e.port}${e.id === undefined ? '' : `#${e.id}`}`).join('');

/** The text of a gossip message as the seed made it: `<timestamp>:<ip>:<port>:<n>`. */
export function gossipText(timestamp: number, origin: Endpoint, seq: number): string {
  return `${timestamp}:${ep(origin)}:${seq}`;
}

/** Format a message in the wire vocabulary (the frame's text). */
export function formatMessage(m: GossipMessage): string {
  switch (m.type) {
    case 'register':
      return `register:${ep(m.peer)}`;
    case 'registered':
      return m.density === undefined || m.density === 1000 ? `registered successfully:${m.id}` : `registered successfully:${m.id}:${m.density}`;
    case 'peer-list-request':
      return 'peer list';
    case 'peer-list':
      return m.peers.length === 0 ? 'peer list:' : `peer list${list(m.peers)}`;
    case 'hello':
      return `hello:${ep(m.peer)}:${m.id}`;
    case 'welcome':
      return `welcome:${ep(m.peer)}:${m.id}${list(m.neighbours)}`;
    case 'busy':
      return `busy:${ep(m.peer)}`;
    case 'liveness-request':
      return `Liveness Request:${m.timestamp}:${ep(m.peer)}`;
    case 'liveness-reply':
      return `Liveness Reply:${m.timestamp}:${ep(m.peer)}:${ep(m.replier)}`;
    case 'gossip':
      return `gossip:${m.text}`;
    case 'ihave':
      return `ihave:${m.hash}:${ep(m.origin)}`;
    case 'iwant':
      return `iwant:${m.hash}`;
    case 'prune':
      return `prune:${ep(m.origin)}`;
    case 'anchor':
      return 'anchor';
    case 'dead-node':
      return `Dead Node:${ep(m.peer)}:${m.timestamp}:${m.reporter}`;
    case 'report-noted':
      return `report noted:${ep(m.peer)}`;
    case 'id-query':
      return `id query:${ep(m.peer)}`;
    case 'id-answer':
      return `id:${m.id ?? '-'}:${m.highest < 0 ? '-' : m.highest}:${m.fresh}`;
  }
}

/** `ip:port`, the key of a peer everywhere in the system. */
export function endpointKey(e: Endpoint): string {
  return ep(e);
}

/** Parse `ip:port` (as in the seeds' config file). Throws DecodeError. */
export function parseEndpoint(text: string): Endpoint {
  const parts = text.trim().split(':');
  if (parts.length !== 2) throw bad(`expected IP:PORT, got '${text.slice(0, 64)}'`);
  return endpointAt(parts, 0);
}
