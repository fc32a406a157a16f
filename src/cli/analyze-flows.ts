/**
 * `wirelab analyze --flows`: one record per connection when it ends, from the analysis flow table,
 * with Zeek conn.log's field names where the meaning is the same (ts, uid, id.orig_h, id.orig_p,
 * id.resp_h, id.resp_p, proto, service, duration, orig_pkts, resp_pkts, conn_state). Zeek's byte
 * counts are payload bytes; ours are bytes on the wire, so they carry their own names
 * (orig_wire_bytes, resp_wire_bytes). `history` has Zeek's letters for TCP (S SYN, H SYN-ACK, A pure
 * ACK, D data, F FIN, R RST; upper case from the originator, lower case from the responder), each
 * letter once per side, in the order first seen (Zeek repeats some letters at 10, 100... times: not here).
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
export function flowFields(f: FlowRecord, uid: string, service: string | undefined, history = ''): Record<string, unknown> {
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
    history,
    end_reason: f.endReason,
  };
}

/** What the consumer adds to a flow of the table: its service, and its TCP history as seen by the first packet's sender. */
interface FlowNotes {
  service: string | undefined;
  /** the first packet's source, "address|port" */
  first: string;
  history: string;
}

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;

/** Zeek's history letter of a TCP segment (upper case), or '' for none. */
function historyLetters(s: PacketSummary): string {
  const f = s.tcpFlags;
  let letters = '';
  if (f & SYN) letters += f & ACK ? 'H' : 'S';
  else if (f & ACK && !(f & (FIN | RST)) && s.info === 'Len=0') letters += 'A';
  if ((s.info.startsWith('Len=') && s.info !== 'Len=0') || (s.protocol !== 'TCP' && s.protocol !== '')) letters += 'D';
  if (f & FIN) letters += 'F';
  if (f & RST) letters += 'R';
  return letters;
}

/** Collects flows from every timed packet and prints each one as it ends, the rest at the end. */
export class FlowConsumer implements PacketConsumer {
  private readonly table = new FlowTable();
  /** flow key -> service and history (entries leave with their flow; the table bounds the flows) */
  private readonly notes = new Map<string, FlowNotes>();
  private flows = 0;

  constructor(private readonly printer: PacketPrinter) {}

  accept(_raw: RawPacket, s: PacketSummary): boolean {
    if (!hasTime(s)) return true;
    const service = NOT_A_SERVICE.has(s.protocol) ? undefined : s.protocol;
    const tcp = s.ipProto === 6;
    if (service !== undefined || tcp) {
      const key = flowKey(s);
      const from = `${s.src ?? ''}|${s.sport ?? 0}`;
      let notes = this.notes.get(key);
      if (notes === undefined) {
        notes = { service: undefined, first: from, history: '' };
        this.notes.set(key, notes);
      }
      notes.service ??= service;
      if (tcp) {
        for (const letter of historyLetters(s)) {
          const mark = from === notes.first ? letter : letter.toLowerCase();
          if (!notes.history.includes(mark)) notes.history += mark;
        }
      }
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
    const notes = this.notes.get(f.key);
    this.notes.delete(f.key);
    const service = notes?.service;
    // the table's originator may be the first packet's receiver (a flow seen from its SYN-ACK): swap the case
    const swapped = notes !== undefined && notes.first !== `${f.src}|${f.sport}`;
    const history = swapped ? swapCase(notes.history) : notes?.history ?? '';
    const fields = flowFields(f, 'C' + this.flows.toString(36).padStart(6, '0'), service, history);
    if (this.printer.json) {
      this.printer.print(JSON.stringify({ event: 'flow', time: f.start, ...fields }));
      return;
    }
    const v6 = f.src.includes(':');
    const at = (h: string, p: number): string => (v6 ? `[${h}]` : h) + (f.ipProto === 6 || f.ipProto === 17 ? `:${p}` : '');
    this.printer.print(
      `${this.printer.timeText(f.start)} flow ${fields.uid as string} ${fields.proto as string} ${at(f.src, f.sport)} -> ${at(f.dst, f.dport)}` +
        `${service ? ' ' + service : ''} ${(fields.duration as number).toFixed(6)} s ${f.origPackets}/${f.respPackets} packets ` +
        `${f.origBytes}/${f.respBytes} bytes ${f.connState}${history === '' ? '' : ' ' + history} (${f.endReason})`,
    );
  }
}

function swapCase(text: string): string {
  let out = '';
  for (const c of text) out += c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
  return out;
}
