/**
 * The reference for `wirelab analyze --json`: `tshark -T json -r FILE`, reduced to the seed's fields
 * (type, time, src, dst, sport, dport, protocol, length, flags) the way our decoder defines them, so
 * the two can be compared packet by packet. IP reassembly is off, as in our decoder.
 */
import { execFileSync } from 'node:child_process';

export interface SeedFields {
  type: string;
  time: string;
  src: string | null;
  dst: string | null;
  sport: number | null;
  dport: number | null;
  protocol: string;
  length: number;
  flags: string;
}

type Layer = Record<string, unknown>;
type Layers = Record<string, Layer | Layer[]>;

/** With --no-duplicate-keys a repeated layer is an array: the outer header is its first element. */
function layer(layers: Layers, name: string): Layer | undefined {
  const value = layers[name];
  return Array.isArray(value) ? value[0] : value;
}

function field(l: Layer | undefined, name: string): string | undefined {
  const value = l?.[name];
  return typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}

function num(value: string | undefined): number | null {
  return value === undefined ? null : Number(value);
}

const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];
const IP_PROTOCOLS: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6' };
const TRANSPORTS: Record<string, string> = { tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', icmpv6: 'ICMPv6' };

function tcpFlags(hex: string): string {
  const bits = Number(hex) & 0xff;
  return TCP_FLAG_NAMES.filter((_, i) => (bits >>> i) & 1).join(',');
}

function ipv4Flags(ip: Layer): string {
  const tree = ip['ip.flags_tree'] as Layer | undefined;
  const names = [['ip.flags.rb', 'RB'], ['ip.flags.df', 'DF'], ['ip.flags.mf', 'MF']];
  return names.filter(([key]) => field(tree, key!) === '1').map(([, name]) => name).join(',');
}

/** The highest protocol as our decoder names it: DNS by port, else the transport, else the IP protocol number. */
function protocolOf(protocols: string[], ipProto: number | null): string {
  if (protocols.includes('dns')) return 'DNS';
  if (protocols.includes('arp')) return 'ARP';
  const transport = protocols.find((p) => TRANSPORTS[p] !== undefined);
  if (transport !== undefined) return TRANSPORTS[transport]!;
  return ipProto === null ? '' : IP_PROTOCOLS[ipProto] ?? `IP proto ${ipProto}`;
}

/** Source and destination of a frame without IP: the link addresses (cooked captures have no destination). */
function linkAddresses(layers: Layers): [string | null, string | null] {
  const eth = layer(layers, 'eth');
  if (eth) return [field(eth, 'eth.src') ?? null, field(eth, 'eth.dst') ?? null];
  const sll = layer(layers, 'sll');
  return [field(sll, 'sll.src.eth') ?? null, null];
}

function toSeedFields(layers: Layers): SeedFields {
  const frame = layer(layers, 'frame')!;
  const protocols = (field(frame, 'frame.protocols') ?? '').split(':');
  const ip = layer(layers, 'ip');
  const ipv6 = layer(layers, 'ipv6');
  const tcp = layer(layers, 'tcp');
  const udp = layer(layers, 'udp');
  const transport = tcp ?? udp;
  const prefix = tcp ? 'tcp' : 'udp';
  const ipProto = ip ? num(field(ip, 'ip.proto')) : ipv6 ? num(field(ipv6, 'ipv6.nxt')) : null;
  const [linkSrc, linkDst] = linkAddresses(layers);
  return {
    type: ip ? 'IPv4' : ipv6 ? 'IPv6' : protocols.includes('arp') ? 'ARP' : (protocols.at(-1) ?? ''),
    // our JSON time keeps microseconds (a number): tshark's nanosecond text cut to the same
    time: microseconds(field(frame, 'frame.time_epoch') ?? ''),
    src: ip ? field(ip, 'ip.src')! : ipv6 ? field(ipv6, 'ipv6.src')! : linkSrc,
    dst: ip ? field(ip, 'ip.dst')! : ipv6 ? field(ipv6, 'ipv6.dst')! : linkDst,
    sport: transport ? num(field(transport, `${prefix}.srcport`)) : null,
    dport: transport ? num(field(transport, `${prefix}.dstport`)) : null,
    protocol: protocolOf(protocols, ipProto),
    length: Number(field(frame, 'frame.len')),
    flags: tcp ? tcpFlags(field(tcp, 'tcp.flags') ?? '0') : ip ? ipv4Flags(ip) : '',
  };
}

/** "1700000000.123456789" -> "1700000000.123456" (truncated, as our time is); '' stays ''. */
function microseconds(epoch: string): string {
  const dot = epoch.indexOf('.');
  return dot < 0 ? epoch : epoch.slice(0, dot + 7).padEnd(dot + 7, '0');
}

/** tshark's view of every frame of `file`, in our fields. */
export function tsharkSeedFields(file: string): SeedFields[] {
  const args = ['-n', '-r', file, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-T', 'json', '--no-duplicate-keys'];
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'] });
  const frames = JSON.parse(out) as Array<{ _source: { layers: Layers } }>;
  return frames.map((f) => toSeedFields(f._source.layers));
}

/** Our `--json` packet events reduced to the same fields. */
export function ourSeedFields(events: Array<Record<string, unknown>>): SeedFields[] {
  return events
    .filter((e) => e.event === 'packet')
    .map((e) => ({
      type: e.type as string,
      time: e.time === null ? '' : (e.time as number).toFixed(6),
      src: e.src as string | null,
      dst: e.dst as string | null,
      sport: e.sport as number | null,
      dport: e.dport as number | null,
      protocol: e.protocol as string,
      length: e.length as number,
      flags: e.flags as string,
    }));
}
