/**
 * `wirelab analyze --flows`: one record per connection when it ends, from the analysis flow table,
 * with Zeek conn.log's field names where the meaning is the same (ts, uid, id.orig_h, id.orig_p,
 * id.resp_h, id.resp_p, proto, service, duration, orig_pkts, resp_pkts, conn_state). Zeek's byte
 * counts are payload bytes; ours are bytes on the wire, so they carry their own names
 * (orig_wire_bytes, resp_wire_bytes). Zeek's `history` is not kept.
 */
import { hasTime, type PacketSummary, type RawPacket } from '../capture/index.js';
import { FlowTable, flowKey, type FlowRecord } from '../analysis/index.js';
import type { PacketConsumer, PacketPrinter } from './analyze-consumers.js';

/** Summary protocols that name the transport or network, not a service. */
const NOT_A_SERVICE = new Set(['TCP', 'UDP', 'ICMP', 'ICMPv6', 'IPv4', 'IPv6', 'ARP', '']);

/** Zeek's proto: the transport's name in lower case. */
function protoName(ipProto: number): string {
  return ipProto === 6 ? 'tcp' : ipProto === 17 ? 'udp' : ipProto === 1 ? 'icmp' : ipProto === 58 ? 'icmp' : ipProto < 0 ? 'other' : `ip-${ipProto}`;
}

/** A flow as a conn.log-style object. */
export function flowFields(f: FlowRecord, uid: string, service: string | undefined): Record<string, unknown> {
  return {
    ts: f.start,
    uid,
    'id.orig_h': f.src,
    'id.orig_p': f.sport,
    'id.resp_h': f.dst,
    'id.resp_p': f.dport,
    proto: protoName(f.ipProto),
    service: service ?? null,
    duration: Math.round(f.duration * 1e6) / 1e6,
    orig_pkts: f.origPackets,
    orig_wire_bytes: f.origBytes,
    resp_pkts: f.respPackets,
    resp_wire_bytes: f.respBytes,
    conn_state: f.connState,
    end_reason: f.endReason,
  };
}

/** Collects flows from every timed packet and prints each one as it ends, the rest at the end. */
export class FlowConsumer implements PacketConsumer {
  private readonly table = new FlowTable();
  /** flow key -> the application protocol seen in it (entries leave with their flow) */
  private readonly services = new Map<string, string>();
  private flows = 0;

  constructor(private readonly printer: PacketPrinter) {}

  accept(_raw: RawPacket, s: PacketSummary): boolean {
    if (!hasTime(s)) return true;
    if (!NOT_A_SERVICE.has(s.protocol)) {
      const key = flowKey(s);
      if (!this.services.has(key)) this.services.set(key, s.protocol);
    }
    for (const f of this.table.push(s)) this.show(f);
    return true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  finish(): Promise<void> {
    return Promise.resolve();
  }

  /** End of the run: every flow still open is reported. */
  report(): void {
    for (const f of this.table.flush()) this.show(f);
  }

  private show(f: FlowRecord): void {
    this.flows++;
    const service = this.services.get(f.key);
    this.services.delete(f.key);
    const fields = flowFields(f, 'C' + this.flows.toString(36).padStart(6, '0'), service);
    if (this.printer.json) {
      this.printer.print(JSON.stringify({ event: 'flow', time: f.start, ...fields }));
      return;
    }
    const v6 = f.src.includes(':');
    const at = (h: string, p: number): string => (v6 ? `[${h}]` : h) + (f.ipProto === 6 || f.ipProto === 17 ? `:${p}` : '');
    this.printer.print(
      `${this.printer.timeText(f.start)} flow ${fields.uid as string} ${fields.proto as string} ${at(f.src, f.sport)} -> ${at(f.dst, f.dport)}` +
        `${service ? ' ' + service : ''} ${(fields.duration as number).toFixed(6)} s ${f.origPackets}/${f.respPackets} packets ` +
        `${f.origBytes}/${f.respBytes} bytes ${f.connState} (${f.endReason})`,
    );
  }
}
