/**
 * wirelab's own protocols, recognised by transport and port plus a look at the payload. Only the
 * broadcast envelope is known so far (UDP 12345, starts with ASCII "WLB1 ", see src/broadcast);
 * gossip and chat add an entry to WIRELAB_PROTOCOLS when their wire formats settle.
 */
import { PORT_WIRELAB_BROADCAST } from './constants.js';

export interface WirelabProtocol {
  /** the summary's protocol name, e.g. 'wirelab-broadcast' */
  name: string;
  transport: 'udp' | 'tcp';
  /** ports on which to look (either side) */
  ports: readonly number[];
  /** does the payload `buf[offset, end)` look like this protocol? Must only read inside the bounds. */
  matches(buf: Buffer, offset: number, end: number): boolean;
  /** a short line for the packet */
  describe(buf: Buffer, offset: number, end: number): string;
}

/** "WLB1 " in ASCII: the broadcast envelope's magic. */
const BROADCAST_MAGIC = Buffer.from('WLB1 ', 'latin1');

const broadcast: WirelabProtocol = {
  name: 'wirelab-broadcast',
  transport: 'udp',
  ports: [PORT_WIRELAB_BROADCAST],
  matches: (buf, offset, end) => startsWith(buf, offset, end, BROADCAST_MAGIC),
  describe: (_buf, offset, end) => `wirelab broadcast envelope, ${end - offset} bytes`,
};

/**
 * Do the bytes `buf[offset, end)` start with `magic`? A byte loop: for a magic of a few bytes it is
 * several times cheaper than Buffer.compare's native call, and this runs for every packet on the port.
 */
function startsWith(buf: Buffer, offset: number, end: number, magic: Buffer): boolean {
  if (end - offset < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (buf[offset + i] !== magic[i]) return false;
  return true;
}

/** Every wirelab protocol the decoder recognises. */
export const WIRELAB_PROTOCOLS: readonly WirelabProtocol[] = [broadcast];

function byPort(transport: 'udp' | 'tcp'): ReadonlyMap<number, readonly WirelabProtocol[]> {
  const map = new Map<number, WirelabProtocol[]>();
  for (const proto of WIRELAB_PROTOCOLS) {
    if (proto.transport !== transport) continue;
    for (const port of proto.ports) map.set(port, [...(map.get(port) ?? []), proto]);
  }
  return map;
}

const UDP_PORTS = byPort('udp');
const TCP_PORTS = byPort('tcp');

/** The wirelab protocol carried by this UDP/TCP payload, if any. */
export function matchWirelab(transport: 'udp' | 'tcp', sport: number, dport: number, buf: Buffer, offset: number, end: number): WirelabProtocol | undefined {
  const ports = transport === 'udp' ? UDP_PORTS : TCP_PORTS;
  return firstMatch(ports.get(dport), buf, offset, end) ?? (sport === dport ? undefined : firstMatch(ports.get(sport), buf, offset, end));
}

function firstMatch(candidates: readonly WirelabProtocol[] | undefined, buf: Buffer, offset: number, end: number): WirelabProtocol | undefined {
  if (candidates === undefined) return undefined;
  for (const proto of candidates) if (proto.matches(buf, offset, end)) return proto;
  return undefined;
}

/** Could a packet between these ports be one of wirelab's protocols (before its payload is looked at)? */
export function hasWirelabPort(transport: 'udp' | 'tcp', sport: number, dport: number): boolean {
  const ports = transport === 'udp' ? UDP_PORTS : TCP_PORTS;
  return ports.has(sport) || ports.has(dport);
}
