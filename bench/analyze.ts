/**
 * Analyzer benchmark: writes a capture of 1,000,000 packets (Ethernet; a TCP/UDP/DNS/ICMP mix) with
 * our own writer into a temp dir, then times, in the same run, `wirelab analyze --read F` printing a
 * line per packet to /dev/null against `tcpdump -nn -r F` and `tshark -r F` doing the same, plus
 * reading alone and reading + decoding alone. Peak RSS comes from /usr/bin/time -v.
 * Run: node --import tsx bench/analyze.ts [--packets N] [--no-tshark] [--stats-only]
 * (--stats-only: only `--stats` beside tcpdump, capinfos and tshark's io,stat, and the fast path's parts;
 * `--stats` runs both as an installed package runs it, compiled in dist/ (the bench builds it first),
 * and as a checkout runs it, through tsx, each beside its start-up alone)
 * (Also: --generate FILE N writes the capture only, for profiling; --inner read|decode FILE runs the
 * in-process loops being measured.)
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureWriter, decodePacket, readCaptureFile, readCaptureFileInto, StatsFieldsDecoder, type RawPacket } from '../src/capture/index.js';
import { TrafficStats } from '../src/analysis/index.js';
import { mulberry32 } from '../src/common/prng.js';
import { build, measure, type Measured } from './support/measure.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const wirelab = here('../bin/wirelab.js');
/** the compiled CLI, as an installed package runs it (built by the bench: `npm run build`) */
const compiled = here('../dist/cli/main.js');
const self = here('./analyze.ts');

/** Ethernet + IPv4 header for `proto` with `l4Bytes` after the IP header. */
function frame(proto: number, l4Bytes: number, random: () => number): Buffer {
  const buf = Buffer.alloc(14 + 20 + l4Bytes);
  buf.write('020000000001020000000002', 0, 'hex');
  buf.writeUInt16BE(0x0800, 12);
  buf.writeUInt8(0x45, 14);
  buf.writeUInt16BE(20 + l4Bytes, 16);
  buf.writeUInt16BE(Math.floor(random() * 65536), 18);
  buf.writeUInt16BE(0x4000, 20); // DF
  buf.writeUInt8(64, 22);
  buf.writeUInt8(proto, 23);
  buf.writeUInt32BE((0x0a000000 | Math.floor(random() * 250)) >>> 0, 26);
  buf.writeUInt32BE((0xc0a80000 | Math.floor(random() * 250)) >>> 0, 30);
  return buf;
}

const TCP_FLAGS = [0x10, 0x10, 0x10, 0x18, 0x18, 0x02, 0x12, 0x11, 0x04];

function tcp(random: () => number): Buffer {
  const payload = random() < 0.5 ? 0 : 100 + Math.floor(random() * 500);
  const buf = frame(6, 20 + payload, random);
  buf.writeUInt16BE(1024 + Math.floor(random() * 60000), 34);
  buf.writeUInt16BE(random() < 0.5 ? 443 : 80, 36);
  buf.writeUInt32BE(Math.floor(random() * 2 ** 32), 38);
  buf.writeUInt32BE(Math.floor(random() * 2 ** 32), 42);
  buf.writeUInt8(0x50, 46);
  buf.writeUInt8(TCP_FLAGS[Math.floor(random() * TCP_FLAGS.length)]!, 47);
  buf.writeUInt16BE(64240, 48);
  return buf;
}

/** A DNS query for a short name (RFC 1035 4.1), so the decoder's DNS path is in the mix. */
function dns(random: () => number): Buffer {
  const name = Buffer.from('\x03www\x07example\x03com\x00', 'latin1');
  const buf = frame(17, 8 + 12 + name.length + 4, random);
  buf.writeUInt16BE(1024 + Math.floor(random() * 60000), 34);
  buf.writeUInt16BE(53, 36);
  buf.writeUInt16BE(8 + 12 + name.length + 4, 38);
  buf.writeUInt16BE(Math.floor(random() * 65536), 42);
  buf.writeUInt16BE(0x0100, 44);
  buf.writeUInt16BE(1, 46);
  name.copy(buf, 54);
  buf.writeUInt16BE(1, 54 + name.length);
  buf.writeUInt16BE(1, 56 + name.length);
  return buf;
}

function udp(random: () => number): Buffer {
  if (random() < 0.3) return dns(random);
  const payload = 20 + Math.floor(random() * 300);
  const buf = frame(17, 8 + payload, random);
  buf.writeUInt16BE(1024 + Math.floor(random() * 60000), 34);
  buf.writeUInt16BE(12345, 36);
  buf.writeUInt16BE(8 + payload, 38);
  return buf;
}

function icmp(random: () => number): Buffer {
  const buf = frame(1, 64, random);
  buf.writeUInt8(random() < 0.5 ? 8 : 0, 34);
  return buf;
}

async function generate(path: string, count: number): Promise<number> {
  const random = mulberry32(42);
  const writer = new CaptureWriter({ path });
  await writer.start();
  let tsSec = 1_700_000_000;
  let tsNsec = 0;
  for (let index = 1; index <= count; index++) {
    const r = random();
    const data = r < 0.6 ? tcp(random) : r < 0.9 ? udp(random) : icmp(random);
    tsNsec += 1000 + Math.floor(random() * 50_000);
    if (tsNsec >= 1e9) {
      tsSec++;
      tsNsec -= 1e9;
    }
    const packet: RawPacket = { index, linkType: 1, tsSec, tsNsec, originalLength: data.length, data, interfaceId: 0 };
    if (!writer.write(packet)) await writer.drained();
  }
  await writer.close();
  return (await stat(path)).size;
}

/**
 * The loops measured in a child process of their own: read only, read + decode (RawPacket batches and
 * decodePacket), or the --stats fast path's parts: the callback reader alone (`sink`), with the lean
 * field decoder (`lean`), and with TrafficStats too (`stats`). Prints the in-loop time, without startup.
 */
async function inner(mode: string, path: string): Promise<void> {
  let packets = 0;
  let bytes = 0;
  const start = process.hrtime.bigint();
  if (mode === 'read' || mode === 'decode') {
    for await (const batch of readCaptureFile(path)) {
      for (const raw of batch) {
        packets++;
        bytes += mode === 'decode' ? decodePacket(raw).length : raw.originalLength;
      }
    }
  } else {
    const decoder = new StatsFieldsDecoder();
    const stats = new TrafficStats();
    await readCaptureFileInto(path, {
      packet(buf, at, capLen, origLen, tsSec, tsNsec, linkType): void {
        packets++;
        if (mode === 'sink') bytes += origLen;
        else {
          const s = decoder.decode(buf, at, capLen, origLen, tsSec, tsNsec, linkType, packets);
          bytes += s.length;
          if (mode === 'stats') stats.add(s, decoder.srcV4, decoder.dstV4);
        }
      },
    });
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(`${packets} ${bytes} ${seconds.toFixed(3)}\n`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--inner') return inner(argv[1]!, argv[2]!);
  if (argv[0] === '--generate') {
    // for profiling by hand: bench/analyze.ts --generate FILE N
    await generate(argv[1]!, Number(argv[2] ?? 1_000_000));
    return;
  }
  const countAt = argv.indexOf('--packets');
  const count = countAt >= 0 ? Number(argv[countAt + 1]) : 1_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-bench-analyze-'));
  try {
    const file = join(dir, 'mix.pcap');
    const tiny = join(dir, 'one.pcap');
    await generate(tiny, 1);
    const genStart = process.hrtime.bigint();
    const size = await generate(file, count);
    const genSeconds = Number(process.hrtime.bigint() - genStart) / 1e9;
    process.stdout.write(`capture: ${count} packets, ${(size / 2 ** 20).toFixed(1)} MiB (written in ${genSeconds.toFixed(1)} s)\n`);
    // the same packets as pcapng (what dumpcap and `analyze --write` write), for --stats on both formats
    const fileNg = join(dir, 'mix.pcapng');
    await generate(fileNg, count);
    const loop = (mode: string): string[] => ['--import', 'tsx', self, '--inner', mode, file];
    const printing: [string, string, string[]][] = [
      ['tcpdump -nn -r F', 'tcpdump', ['-nn', '-r', file]],
      ['wirelab analyze --read F', process.execPath, [wirelab, 'analyze', '--read', file]],
      ['wirelab analyze --read F --json', process.execPath, [wirelab, 'analyze', '--read', file, '--json']],
      ['read only (in-process loop)', process.execPath, loop('read')],
      ['read + decode (in-process loop)', process.execPath, loop('decode')],
    ];
    if (!argv.includes('--no-tshark')) printing.push(['tshark -r F', 'tshark', ['-r', file]]);
    // --stats alone, beside the cheapest references that also read every packet
    const statsRuns: [string, string, string[]][] = [
      ['tcpdump -nn -r F (reference)', 'tcpdump', ['-nn', '-r', file]],
      ['capinfos F', 'capinfos', [file]],
      ['tshark -q -z io,stat,0 -r F', 'tshark', ['-q', '-z', 'io,stat,0', '-r', file]],
      ['wirelab analyze --read F --stats (dist/, as installed)', process.execPath, [compiled, 'analyze', '--read', file, '--stats']],
      ['  startup alone (dist/, a 1-packet file)', process.execPath, [compiled, 'analyze', '--read', tiny, '--stats']],
      ['wirelab analyze --read F.pcapng --stats (dist/; the same packets as pcapng)', process.execPath, [compiled, 'analyze', '--read', fileNg, '--stats']],
      ['wirelab analyze --read F --stats (checkout, through tsx)', process.execPath, [wirelab, 'analyze', '--read', file, '--stats']],
      ['  startup alone (checkout, a 1-packet file)', process.execPath, [wirelab, 'analyze', '--read', tiny, '--stats']],
      ['callback reader only (in-process loop)', process.execPath, loop('sink')],
      ['callback reader + lean fields (in-process loop)', process.execPath, loop('lean')],
      ['callback reader + lean fields + TrafficStats (in-process loop)', process.execPath, loop('stats')],
    ];
    const runs = argv.includes('--stats-only') ? statsRuns : [...printing, ...statsRuns.slice(1)];
    process.stderr.write('building dist/ (npm run build)\n');
    await build(here('..'));
    const results: [string, Measured][] = [];
    for (const [name, cmd, args] of runs) {
      process.stderr.write(`running: ${name}\n`);
      const m = await measure(cmd, args);
      results.push([name, m]);
      if (m.loopSeconds !== undefined) results.push([`  ${name.replace(' (in-process loop)', '')}: loop time alone`, { ...m, seconds: m.loopSeconds, cpuSeconds: undefined }]);
    }
    const reference = results[0]![1];
    const rows = results.map(([name, m]) => [
      name,
      m.seconds.toFixed(2),
      m.cpuSeconds === undefined ? '?' : m.cpuSeconds.toFixed(2),
      Math.round(count / m.seconds).toLocaleString('en-US'),
      (reference.seconds / m.seconds).toFixed(2) + 'x',
      m.cpuSeconds === undefined || reference.cpuSeconds === undefined ? '?' : (reference.cpuSeconds / m.cpuSeconds).toFixed(2) + 'x',
      m.peakRssMiB === undefined ? '?' : m.peakRssMiB.toFixed(0),
      m.code === 0 ? 'ok' : `exit ${m.code}`,
    ]);
    const header = ['run', 'wall s', 'CPU s', 'packets/s (wall)', 'wall vs tcpdump', 'CPU vs tcpdump', 'peak RSS MiB', 'status'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
    process.stdout.write([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
