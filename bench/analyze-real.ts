/**
 * Analyzer on real traffic: the sample captures (test/fixtures/captures/pcapplusplus/example.pcap and
 * many-protocols.pcap) appended to themselves until each holds at least 100,000 packets, then, in the
 * same run and each several times (the median kept): `tcpdump -nn -r F` and `wirelab analyze -r F`
 * printing a line per packet, `--json`, and `--stats` beside `capinfos F`. wirelab runs compiled
 * (dist/, as installed; the bench builds it first); output goes to /dev/null; start-up included.
 * Each file is made at every size asked (`--sizes`, packets at least: 100k, where start-up weighs,
 * and 1M, where the per-packet cost does), and `node -e 0` is timed beside them: the floor of any
 * Node program's start-up on this machine.
 * Run: node --import tsx bench/analyze-real.ts [--sizes 100000,1000000] [--repeat R]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureReader } from '../src/capture/index.js';
import { build, measure, type Measured } from './support/measure.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const compiled = here('../dist/cli/main.js');
const samples = here('../test/fixtures/captures/pcapplusplus');
/** pcap file header bytes: the records follow */
const PCAP_HEADER_BYTES = 24;

/** The sample appended to itself until it holds at least `minPackets`; returns the path and the count. */
async function appended(dir: string, name: string, minPackets: number): Promise<[string, number]> {
  const bytes = readFileSync(join(samples, name));
  const reader = new CaptureReader();
  const per = reader.push(bytes).length;
  const copies = Math.ceil(minPackets / per);
  const records = bytes.subarray(PCAP_HEADER_BYTES);
  const path = join(dir, `${name}.x${copies}.pcap`);
  await writeFile(path, Buffer.concat([bytes.subarray(0, PCAP_HEADER_BYTES), ...Array.from({ length: copies }, () => records)]));
  return [path, per * copies];
}

/** Median of R runs by wall time (CPU reported for the same run). */
async function median(cmd: string, args: string[], repeat: number): Promise<Measured> {
  const runs: Measured[] = [];
  for (let i = 0; i < repeat; i++) runs.push(await measure(cmd, args));
  runs.sort((a, b) => a.seconds - b.seconds);
  return runs[Math.floor(runs.length / 2)]!;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line(rows[0]!), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join('\n');
}

/** The five runs on one file, each beside its reference (tcpdump or capinfos) from the same run. */
async function runsOn(file: string, what: string, repeat: number): Promise<string[][]> {
  const runs: Array<[string, string, string[], string]> = [
    ['tcpdump -nn -r F', 'tcpdump', ['-nn', '-r', file], 'tcpdump'],
    ['wirelab analyze -r F', process.execPath, [compiled, 'analyze', '-r', file], 'tcpdump'],
    ['wirelab analyze -r F --json', process.execPath, [compiled, 'analyze', '-r', file, '--json'], 'tcpdump'],
    ['capinfos F', 'capinfos', [file], 'capinfos'],
    ['wirelab analyze -r F --stats', process.execPath, [compiled, 'analyze', '-r', file, '--stats'], 'capinfos'],
  ];
  const measured = new Map<string, Measured>();
  const rows: string[][] = [];
  for (const [label, cmd, args, ref] of runs) {
    process.stderr.write(`running: ${what} ${label}\n`);
    const m = await median(cmd, args, repeat);
    measured.set(label, m);
    const r = measured.get(ref === 'tcpdump' ? 'tcpdump -nn -r F' : 'capinfos F')!;
    rows.push([
      what, label, m.seconds.toFixed(2), m.cpuSeconds?.toFixed(2) ?? '?',
      (r.seconds / m.seconds).toFixed(2) + 'x', m.cpuSeconds && r.cpuSeconds ? (r.cpuSeconds / m.cpuSeconds).toFixed(2) + 'x' : '?', ref,
    ]);
  }
  return rows;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const option = (name: string, fallback: string): string => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
  const sizes = option('--sizes', option('--min-packets', '100000,1000000')).split(',').map(Number);
  const repeat = Number(option('--repeat', '3'));
  process.stderr.write('building dist/ (npm run build)\n');
  await build(here('..'));
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-bench-real-'));
  const before = loadavg();
  try {
    const rows = [['file (packets)', 'run', 'wall s', 'CPU s', 'vs reference (wall)', 'vs reference (CPU)', 'reference']];
    const floor = await median(process.execPath, ['-e', '0'], repeat);
    rows.push(['-', 'node -e 0 (Node start-up alone)', floor.seconds.toFixed(3), floor.cpuSeconds?.toFixed(3) ?? '?', '-', '-', '-']);
    for (const minPackets of sizes) {
      for (const name of ['example.pcap', 'many-protocols.pcap']) {
        const [file, packets] = await appended(dir, name, minPackets);
        rows.push(...(await runsOn(file, `${name} (${packets.toLocaleString('en-US')})`, repeat)));
        await rm(file);
      }
    }
    const after = loadavg();
    process.stdout.write(table(rows) + '\n');
    process.stdout.write(`(x > 1: faster than the reference; median of ${repeat} runs each; load average ${before.map((l) => l.toFixed(2)).join(' ')} before, ${after.map((l) => l.toFixed(2)).join(' ')} after, on ${process.platform})\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
