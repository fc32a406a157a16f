/**
 * The dashboard's view filters: source address or CIDR, destination address or CIDR, protocol. A
 * filter is parsed once (zod for the shape, then the addresses) into a matcher over PacketSummary.
 */
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import type { PacketSummary } from '../capture/index.js';
import { WirelabError } from '../common/errors.js';
import { MAX_FILTER_CHARS } from './constants.js';

/** A filter as the URL and the API carry it: every field optional, empty means "any". */
export interface ViewFilter {
  src?: string;
  dst?: string;
  protocol?: string;
}

const field = z.string().trim().max(MAX_FILTER_CHARS).optional();

/** zod schema of a filter in a query string or a WebSocket message. */
export const viewFilterSchema = z.object({ src: field, dst: field, protocol: field });

/** IP protocol numbers of the transports a protocol filter also matches by number. */
const TRANSPORTS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };

type AddressTest = (address: string | undefined) => boolean;

function ipv4Number(address: string): number {
  let n = 0;
  for (const part of address.split('.')) n = n * 256 + Number(part);
  return n;
}

/** A test for one address or CIDR block ("10.0.0.1", "10.0.0.0/8", "2001:db8::/32"). */
function addressTest(text: string, what: string): AddressTest {
  const parts = text.split('/');
  const [address = '', prefixText] = parts;
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (family === 0 || parts.length > 2 || !/^\d+$/.test(prefixText ?? '0') || !(prefix >= 0 && prefix <= max)) {
    throw new WirelabError('E_USAGE', `${what}: '${text}' is not an IP address or CIDR block`);
  }
  if (family === 4) {
    const size = 2 ** (32 - prefix);
    const base = Math.floor(ipv4Number(address) / size) * size;
    return (a) => a !== undefined && isIP(a) === 4 && Math.floor(ipv4Number(a) / size) * size === base;
  }
  const list = new BlockList();
  list.addSubnet(address, prefix, 'ipv6');
  return (a) => a !== undefined && isIP(a) === 6 && list.check(a, 'ipv6');
}

/** A parsed filter: its canonical form (the key of its view) and its matcher. */
export class PacketFilter {
  readonly filter: Readonly<ViewFilter>;
  /** the same for equal filters: "src=..&dst=..&protocol=.." */
  readonly key: string;
  private readonly src: AddressTest | undefined;
  private readonly dst: AddressTest | undefined;
  private readonly protocol: string | undefined;
  private readonly ipProto: number | undefined;

  constructor(filter: ViewFilter = {}) {
    const clean: ViewFilter = {};
    for (const k of ['src', 'dst', 'protocol'] as const) {
      const v = filter[k]?.trim();
      if (v) clean[k] = v;
    }
    this.filter = Object.freeze(clean);
    this.src = clean.src ? addressTest(clean.src, 'source') : undefined;
    this.dst = clean.dst ? addressTest(clean.dst, 'destination') : undefined;
    this.protocol = clean.protocol?.toLowerCase();
    this.ipProto = this.protocol === undefined ? undefined : TRANSPORTS[this.protocol];
    this.key = new URLSearchParams(Object.entries(clean) as [string, string][]).toString();
  }

  /** Parse an untrusted filter (query string, WebSocket message); a bad one is an E_USAGE error. */
  static parse(input: unknown): PacketFilter {
    const result = viewFilterSchema.safeParse(input ?? {});
    if (!result.success) throw new WirelabError('E_USAGE', `bad filter: ${result.error.issues[0]?.message ?? 'invalid'}`);
    return new PacketFilter(result.data);
  }

  get empty(): boolean {
    return this.key === '';
  }

  /** Does the packet pass? A protocol filter matches the top protocol by name or the transport ('udp' takes DNS too). */
  matches(p: PacketSummary): boolean {
    if (this.src !== undefined && !this.src(p.src)) return false;
    if (this.dst !== undefined && !this.dst(p.dst)) return false;
    if (this.protocol === undefined) return true;
    return p.protocol.toLowerCase() === this.protocol || (this.ipProto !== undefined && p.ipProto === this.ipProto);
  }

  /** The same test for a record with the fields a packet has (anomalies, flows). */
  matchesFields(f: { src: string | undefined; dst: string | undefined; protocol: string }): boolean {
    if (this.src !== undefined && !this.src(f.src)) return false;
    if (this.dst !== undefined && !this.dst(f.dst)) return false;
    return this.protocol === undefined || f.protocol.toLowerCase() === this.protocol;
  }
}
