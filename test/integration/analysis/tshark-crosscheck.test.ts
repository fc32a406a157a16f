/**
 * Cross-check of statistics and flows against Wireshark on a real capture: tshark (a real process,
 * an independent decoder) turns example.pcap into per-packet fields, which become PacketSummary
 * records for TrafficStats and FlowTable; the results must match tshark's own totals
 * (`-z io,stat,0`) and TCP/UDP conversation tables (`-z conv,tcp`, `-z conv,udp`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { PacketSummary } from '../../../src/capture/types.js';
import { FlowTable, TrafficStats, type FlowRecord } from '../../../src/analysis/index.js';
import { repoRoot } from '../../helpers/process.js';

const run = promisify(execFile);
const capture = resolve(repoRoot, 'test/fixtures/captures/pcapplusplus/example.pcap');
const haveTshark = existsSync('/usr/bin/tshark');
const skip = !haveTshark
  ? 'tshark is not installed'
  : !existsSync(capture)
    ? `no capture at ${capture}`
    : false;

const FIELDS = [
  'frame.number',
  'frame.time_epoch',
  'frame.len',
  'ip.src',
  'ip.dst',
  'ip.proto',
  'ipv6.src',
  'ipv6.dst',
  'ipv6.nxt',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'tcp.flags',
  '_ws.col.Protocol',
];

async function tshark(args: string[]): Promise<string> {
  const { stdout } = await run('tshark', ['-n', '-r', capture, ...args], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  return stdout;
}

/** The first value of a field that tshark may repeat (tunnels, ICMP quotes): "a,b" -> "a". */
function first(field: string | undefined): string | undefined {
  const value = field?.split(',')[0];
  return value === undefined || value === '' ? undefined : value;
}

function toSummary(line: string): PacketSummary {
  const f = line.split('\t');
  const [sec, frac = '0'] = f[1]!.split('.');
  const num = (i: number): number | undefined =>
    first(f[i]) === undefined ? undefined : Number(first(f[i]));
  return {
    index: Number(f[0]),
    tsSec: Number(sec),
    tsNsec: Number(frac.padEnd(9, '0').slice(0, 9)),
    type: first(f[3]) ? 'IPv4' : first(f[6]) ? 'IPv6' : 'other',
    src: first(f[3]) ?? first(f[6]),
    dst: first(f[4]) ?? first(f[7]),
    sport: num(9) ?? num(11),
    dport: num(10) ?? num(12),
    protocol: f[14] ?? '',
    ipProto: num(5) ?? num(8) ?? -1,
    length: Number(f[2]),
    tcpFlags: num(13) ?? 0,
    flags: '',
    info: '',
  };
}

interface Conversation {
  a: string;
  b: string;
  /** frames and bytes B -> A, A -> B */
  fromB: [number, number];
  fromA: [number, number];
  duration: number;
}

/** "468 kB" -> [468000, 1000]: value and rounding tolerance. */
function size(value: string, unit: string): [number, number] {
  const scale = unit === 'bytes' ? 1 : unit === 'kB' ? 1e3 : unit === 'MB' ? 1e6 : Number.NaN;
  return [Number(value) * scale, scale === 1 ? 0 : scale];
}

function parseConversations(text: string): Conversation[] {
  const row =
    /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+)\s+(bytes|kB|MB)\s+(\d+)\s+(\d+)\s+(bytes|kB|MB)\s+\d+\s+\d+\s+(?:bytes|kB|MB)\s+[\d.]+\s+([\d.]+)/;
  const result: Conversation[] = [];
  for (const line of text.split('\n')) {
    const m = row.exec(line);
    if (!m) continue;
    result.push({
      a: m[1]!,
      b: m[2]!,
      fromB: [Number(m[3]), size(m[4]!, m[5]!)[0]],
      fromA: [Number(m[6]), size(m[7]!, m[8]!)[0]],
      duration: Number(m[9]),
    });
  }
  return result;
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Flows summed by endpoint pair, seen from `a`: [frames, bytes] a -> b and b -> a, and the span. */
function sumFlows(
  flows: FlowRecord[],
  a: string,
  b: string,
): { fromA: [number, number]; fromB: [number, number]; duration: number; count: number } {
  const out = { fromA: [0, 0] as [number, number], fromB: [0, 0] as [number, number], duration: 0, count: 0 };
  let start = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const f of flows) {
    const orig = endpoint(f.src, f.sport);
    const resp = endpoint(f.dst, f.dport);
    if (!((orig === a && resp === b) || (orig === b && resp === a))) continue;
    const [toA, toB] = orig === a ? [out.fromA, out.fromB] : [out.fromB, out.fromA];
    toA[0] += f.origPackets;
    toA[1] += f.origBytes;
    toB[0] += f.respPackets;
    toB[1] += f.respBytes;
    start = Math.min(start, f.start);
    last = Math.max(last, f.last);
    out.count++;
  }
  out.duration = last - start;
  return out;
}

test(
  'TrafficStats and FlowTable agree with tshark on example.pcap',
  { skip, timeout: 120_000 },
  async (t) => {
    const fieldArgs = ['-T', 'fields', '-E', 'separator=/t', ...FIELDS.flatMap((f) => ['-e', f])];
    const [dump, totals, tcpConv, udpConv] = await Promise.all([
      tshark(fieldArgs),
      tshark(['-q', '-z', 'io,stat,0']),
      tshark(['-q', '-z', 'conv,tcp']),
      tshark(['-q', '-z', 'conv,udp']),
    ]);
    const packets = dump
      .split('\n')
      .filter((line) => line.length > 0)
      .map(toSummary);
    assert.equal(packets.length, 4631, 'the capture README count');

    const stats = new TrafficStats();
    const table = new FlowTable();
    const flows: FlowRecord[] = [];
    for (const p of packets) {
      stats.add(p);
      flows.push(...table.push(p));
    }
    flows.push(...table.flush());

    const total = /\|\s*[\d.]+\s*<>\s*[\d.]+\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/.exec(totals);
    assert.ok(total, `io,stat output: ${totals}`);
    const snapshot = stats.snapshot();
    assert.equal(snapshot.packets, Number(total[1]));
    assert.equal(snapshot.bytes, Number(total[2]));
    assert.equal(
      snapshot.protocols.reduce((s, p) => s + p.packets, 0),
      snapshot.packets,
    );
    assert.ok(
      snapshot.lastTs! - snapshot.firstTs! > 15 && snapshot.lastTs! - snapshot.firstTs! < 16,
      'io,stat spans 15.6 s',
    );

    for (const [name, text, proto] of [
      ['tcp', tcpConv, 6],
      ['udp', udpConv, 17],
    ] as const) {
      const conversations = parseConversations(text);
      assert.ok(conversations.length > 10, `${name} conversations parsed`);
      for (const c of conversations) {
        const ours = sumFlows(
          flows.filter((f) => f.ipProto === proto),
          c.a,
          c.b,
        );
        assert.ok(ours.count >= 1, `${name} ${c.a} <-> ${c.b}: no flow`);
        assert.equal(ours.fromA[0], c.fromA[0], `${name} ${c.a} -> ${c.b} frames`);
        assert.equal(ours.fromB[0], c.fromB[0], `${name} ${c.b} -> ${c.a} frames`);
        assert.ok(
          Math.abs(ours.fromA[1] - c.fromA[1]) <= Math.max(1000, c.fromA[1] * 0.01),
          `${name} ${c.a} -> ${c.b} bytes ${ours.fromA[1]} vs ${c.fromA[1]}`,
        );
        assert.ok(
          Math.abs(ours.duration - c.duration) < 1e-3,
          `${name} ${c.a} <-> ${c.b} duration ${ours.duration} vs ${c.duration}`,
        );
      }
      t.diagnostic(`${name}: ${conversations.length} conversations match`);
    }
    const states = new Map<string, number>();
    for (const f of flows.filter((x) => x.ipProto === 6))
      states.set(f.connState, (states.get(f.connState) ?? 0) + 1);
    t.diagnostic(`TCP conn_state: ${JSON.stringify(Object.fromEntries(states))}`);
    assert.ok((states.get('SF') ?? 0) > 0, 'some connections closed normally');
  },
);
