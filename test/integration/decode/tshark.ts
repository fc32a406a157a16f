/**
 * The reference: run tshark on a capture and compare its fields with our summaries, field by field.
 * tshark runs with IP reassembly off, so that, like our decoder, only a first fragment shows ports.
 */
import { execFileSync } from 'node:child_process';
import type { DecodedPacket } from '../../../src/capture/decode/index.js';
import type { PacketSummary } from '../../../src/capture/types.js';

const FIELDS = [
  'frame.number', 'frame.len', 'eth.src', 'eth.dst', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst',
  'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'ip.proto', 'tcp.flags', 'dns.qry.name',
  'icmp.type', 'icmpv6.type', 'arp.opcode', 'frame.protocols',
] as const;

export type TsharkRow = Record<(typeof FIELDS)[number], string>;

/** tshark's fields for every frame of `file` (first occurrence of each field: the outer header). */
export function tsharkRows(file: string): TsharkRow[] {
  const args = ['-n', '-r', file, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f'];
  for (const f of FIELDS) args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const values = line.split('\t');
      return Object.fromEntries(FIELDS.map((f, i) => [f, values[i] ?? ''])) as TsharkRow;
    });
}

export interface Comparison {
  compared: number;
  agreed: number;
  mismatches: string[];
  /** differences we make on purpose, by reason */
  deliberate: Map<string, number>;
}

function check(c: Comparison, frame: string, field: string, ours: unknown, theirs: unknown): void {
  c.compared++;
  if (String(ours) === String(theirs)) c.agreed++;
  else if (c.mismatches.length < 20) c.mismatches.push(`frame ${frame} ${field}: ours ${String(ours)} tshark ${String(theirs)}`);
  else c.mismatches.push('');
}

function deliberate(c: Comparison, reason: string): void {
  c.deliberate.set(reason, (c.deliberate.get(reason) ?? 0) + 1);
}

/** Where in tshark's layer list ("eth:ethertype:ip:udp:dns") the outer and inner IP and the first transport sit. */
function layerPositions(r: TsharkRow): { outerV6: boolean; innerIp: number; transport: number } {
  const layers = r['frame.protocols'].split(':');
  const ips = layers.flatMap((l, i) => (l === 'ip' || l === 'ipv6' ? [i] : []));
  const transport = layers.findIndex((l) => l === 'tcp' || l === 'udp');
  return { outerV6: ips[0] !== undefined && layers[ips[0]] === 'ipv6', innerIp: ips[1] ?? -1, transport };
}

function comparePorts(c: Comparison, s: PacketSummary, r: TsharkRow): void {
  const tcp = r['tcp.srcport'] !== '';
  const udp = r['udp.srcport'] !== '';
  if (!tcp && !udp) {
    check(c, r['frame.number'], 'ports', `${s.sport}/${s.dport}`, 'undefined/undefined');
    return;
  }
  // ICMP errors quote the offending packet and tunnels carry a whole one: tshark shows the inner
  // packet's ports, we stop at the outer header's protocol.
  const { innerIp, transport } = layerPositions(r);
  if (innerIp >= 0 && transport > innerIp) return deliberate(c, 'inner ports of a quoted or tunnelled packet');
  check(c, r['frame.number'], 'sport', s.sport, tcp ? r['tcp.srcport'] : r['udp.srcport']);
  check(c, r['frame.number'], 'dport', s.dport, tcp ? r['tcp.dstport'] : r['udp.dstport']);
  if (tcp) check(c, r['frame.number'], 'tcp.flags', s.tcpFlags, Number(r['tcp.flags']) & 0xff);
}

function compareAddresses(c: Comparison, s: PacketSummary, r: TsharkRow): void {
  const frame = r['frame.number'];
  if (r['ip.src'] !== '' || r['ipv6.src'] !== '') {
    // ip.* and ipv6.* each give their first occurrence; the outer header is whichever comes first.
    const v4 = !layerPositions(r).outerV6;
    check(c, frame, 'type', s.type, v4 ? 'IPv4' : 'IPv6');
    check(c, frame, 'src', s.src, v4 ? r['ip.src'] : r['ipv6.src']);
    check(c, frame, 'dst', s.dst, v4 ? r['ip.dst'] : r['ipv6.dst']);
    if (v4) check(c, frame, 'ip.proto', s.ipProto, r['ip.proto']);
  } else if (r['eth.src'] !== '') {
    check(c, frame, 'src', s.src, r['eth.src']);
    check(c, frame, 'dst', s.dst, r['eth.dst']);
  }
}

/** The first DNS question's name in our layer tree, or '' */
function firstQuestion(p: DecodedPacket): string {
  for (const layer of p.layers) {
    const questions = layer.fields.questions as Array<{ name: string }> | undefined;
    if (questions && questions.length > 0) return questions[0]!.name;
  }
  return '';
}

/** Compare our decoded packets with tshark's rows, frame by frame. */
export function compareWithTshark(packets: DecodedPacket[], rows: TsharkRow[]): Comparison {
  const summaries = packets.map((p) => p.summary);
  const c: Comparison = { compared: 0, agreed: 0, mismatches: [], deliberate: new Map() };
  check(c, '-', 'frame count', summaries.length, rows.length);
  for (let i = 0; i < Math.min(summaries.length, rows.length); i++) {
    const s = summaries[i]!;
    const r = rows[i]!;
    check(c, r['frame.number'], 'frame.number', s.index, r['frame.number']);
    check(c, r['frame.number'], 'length', s.length, r['frame.len']);
    compareAddresses(c, s, r);
    comparePorts(c, s, r);
    if (r['dns.qry.name'] !== '' && s.protocol.endsWith('DNS')) check(c, r['frame.number'], 'dns.qry.name', firstQuestion(packets[i]!), r['dns.qry.name']);
  }
  return c;
}
