/**
 * Decoder benchmark: decode + summary (+ the human line) of every packet of a capture, repeated,
 * in packets per second, beside tshark reading the same file once (its one-line summaries), as a ratio.
 * Usage: npx tsx bench/decode.ts [FILE] [ROUNDS]   (default test/fixtures/captures/pcapplusplus/example.pcap, 200)
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePacket, formatSummary, readCaptureFile, type RawPacket } from '../src/capture/index.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const file = process.argv[2] ?? resolve(repoRoot, 'test/fixtures/captures/pcapplusplus/example.pcap');
const rounds = Number(process.argv[3] ?? 200);

async function load(path: string): Promise<RawPacket[]> {
  const packets: RawPacket[] = [];
  for await (const batch of readCaptureFile(path)) packets.push(...batch);
  return packets;
}

interface Rate {
  /** packets per second of wall-clock time */
  wall: number;
  /** packets per second of CPU time (user + system): steadier on a shared machine */
  cpu: number;
}

/** Rates over `rounds` passes; `work` returns a number so nothing is optimised away. */
function measure(packets: RawPacket[], work: (p: RawPacket) => number): Rate {
  let sink = 0;
  for (let r = 0; r < 5; r++) for (const p of packets) sink += work(p); // warm-up: let the JIT settle
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const p of packets) sink += work(p);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (sink === -1) process.stdout.write('');
  const n = packets.length * rounds;
  return { wall: n / seconds, cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

/** tshark's rate on the same file, wall-clock only (the child's CPU time is not reported). */
function tsharkRate(path: string, count: number): Rate {
  const start = process.hrtime.bigint();
  execFileSync('tshark', ['-n', '-r', path], { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 30 });
  const wall = count / (Number(process.hrtime.bigint() - start) / 1e9);
  return { wall, cpu: Number.NaN };
}

const packets = await load(file);
const decodeOnly = measure(packets, (p) => decodePacket(p).length);
const withLine = measure(packets, (p) => formatSummary(decodePacket(p)).length);
const tshark = tsharkRate(file, packets.length);
const fmt = (n: number): string => (Number.isNaN(n) ? '-' : Math.round(n).toLocaleString('en-US')).padStart(14);
const row = (name: string, rate: Rate): string => `${name.padEnd(34)} ${fmt(rate.wall)} ${fmt(rate.cpu)} ${(rate.wall / tshark.wall).toFixed(1).padStart(8)}x`;
process.stdout.write(
  [
    `${packets.length} packets x ${rounds} rounds from ${file}`,
    `${'implementation'.padEnd(34)} ${'packets/s wall'.padStart(14)} ${'packets/s cpu'.padStart(14)} ${'vs tshark'.padStart(9)}`,
    row('wirelab decodePacket', decodeOnly),
    row('wirelab decodePacket+formatSummary', withLine),
    row('tshark -r (one-line summaries)', tshark),
  ].join('\n') + '\n',
);
