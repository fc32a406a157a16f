/**
 * A generated capture for the dashboard's tests: seeded Ethernet/IPv4 traffic over 40 s of packet
 * time from a handful of hosts: TCP connections (handshake, data, close), UDP datagrams, DNS queries
 * (one of them naming `<img src=x onerror=...>`, for the escaping test) and pings. Written with
 * capture's own CaptureWriter, so the file is what tcpdump and wirelab analyze read.
 */
import { CaptureWriter, type RawPacket } from '../../../src/capture/index.js';
import { mulberry32 } from '../../helpers/random.js';

const EPOCH = 1_700_000_000;
const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const PSH = 0x08;

/** The DNS name whose label is markup: the page must show it as text. */
export const HOSTILE_NAME = '<img src=x onerror=alert(1)>.example';

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

function frame(src: string, dst: string, proto: number, transport: Buffer): Buffer {
  const eth = Buffer.from([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00]);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + transport.length, 2);
  ip.writeUInt16BE(0x4000, 6);
  ip[8] = 64;
  ip[9] = proto;
  Buffer.from(ipv4Bytes(src)).copy(ip, 12);
  Buffer.from(ipv4Bytes(dst)).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  return Buffer.concat([eth, ip, transport]);
}

function tcp(sport: number, dport: number, flags: number, payload: number): Buffer {
  const h = Buffer.alloc(20 + payload);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(1000, 4);
  h[12] = 0x50;
  h[13] = flags;
  h.writeUInt16BE(65535, 14);
  return h;
}

function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

function dnsQuery(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)]));
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2);
  head.writeUInt16BE(1, 4);
  return Buffer.concat([head, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

function ping(seq: number, size: number): Buffer {
  const h = Buffer.alloc(8 + size);
  h[0] = 8;
  h.writeUInt16BE(7, 4);
  h.writeUInt16BE(seq, 6);
  return h;
}

interface Timed {
  t: number;
  data: Buffer;
}

/** The packets, in time order. */
export function generateTraffic(seed = 7): Buffer[] {
  const rand = mulberry32(seed);
  const clients = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.1.9', '192.168.5.20'];
  const server = '10.0.0.100';
  const out: Timed[] = [];
  let port = 40000;
  for (let i = 0; i < 120; i++) {
    const c = clients[Math.floor(rand() * clients.length)]!;
    let t = rand() * 38;
    const sp = port++;
    const step = (): number => (t += 0.001 + rand() * 0.01);
    out.push({ t: step(), data: frame(c, server, 6, tcp(sp, 80, SYN, 0)) });
    out.push({ t: step(), data: frame(server, c, 6, tcp(80, sp, SYN | ACK, 0)) });
    out.push({ t: step(), data: frame(c, server, 6, tcp(sp, 80, ACK, 0)) });
    const n = 1 + Math.floor(rand() * 8);
    for (let k = 0; k < n; k++) out.push({ t: step(), data: frame(server, c, 6, tcp(80, sp, PSH | ACK, 200 + Math.floor(rand() * 1200))) });
    out.push({ t: step(), data: frame(c, server, 6, tcp(sp, 80, FIN | ACK, 0)) });
    out.push({ t: step(), data: frame(server, c, 6, tcp(80, sp, FIN | ACK, 0)) });
    out.push({ t: step(), data: frame(c, server, 6, tcp(sp, 80, ACK, 0)) });
  }
  for (let i = 0; i < 400; i++) {
    const c = clients[Math.floor(rand() * clients.length)]!;
    out.push({ t: rand() * 40, data: frame(c, '10.0.0.200', 17, udp(5000 + (i % 3), 6000, Buffer.alloc(Math.floor(rand() * 900)))) });
  }
  for (let i = 0; i < 80; i++) {
    const c = clients[i % clients.length]!;
    const name = i === 40 ? HOSTILE_NAME : `host${i}.example`;
    out.push({ t: rand() * 40, data: frame(c, '10.0.0.53', 17, udp(30000 + i, 53, dnsQuery(i, name))) });
  }
  for (let i = 0; i < 60; i++) out.push({ t: i * 0.6, data: frame('10.0.0.2', '8.8.8.8', 1, ping(i, 56)) });
  out.sort((a, b) => a.t - b.t);
  return out.map((p) => p.data).map((data, i) => Object.assign(data, { t: out[i]!.t }));
}

/** Write the generated traffic to `path` (.pcap: pcap, else pcapng); returns the packet count. */
export async function writeTraffic(path: string, seed = 7): Promise<number> {
  const rand = mulberry32(seed);
  const frames = generateTraffic(seed);
  const writer = new CaptureWriter({ path });
  await writer.start();
  let t = 0;
  frames.forEach((data, i) => {
    t = Math.max(t, (data as Buffer & { t: number }).t);
    // whole microseconds: tcpdump (the BPF path of analyze) writes microsecond pcap
    const ns = (Math.floor((t % 1) * 1e6) + Math.floor(rand() * 10)) * 1000;
    const packet: RawPacket = { index: i + 1, linkType: 1, tsSec: EPOCH + Math.floor(t), tsNsec: Math.min(ns, 999_999_000), originalLength: data.length, data, interfaceId: 0 };
    writer.write(packet);
  });
  await writer.close();
  return frames.length;
}
