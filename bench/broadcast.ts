/**
 * Broadcast benchmark: across a bridge between network namespaces, the highest message rate at which
 * four nodes on other hosts lose nothing, and the master-to-node latency (p50/p99), for `wirelab
 * broadcast node` beside a bare dgram receiver loop (bench/support/udp-receiver.ts) measured in the
 * same run. Needs root. Run: node --import tsx bench/broadcast.ts
 */
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Lab } from '../src/lab/hosts.js';
import { percentile } from '../src/common/percentile.js';

const NODES = ['n1', 'n2', 'n3', 'n4'];
const RATES = [1_000, 2_000, 5_000, 10_000, 20_000, 40_000, 80_000];
const PORT = 12345;
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const wirelab = here('../bin/wirelab.js');
const workDir = mkdtempSync(join(tmpdir(), 'wirelab-bench-broadcast-'));

type Impl = 'wirelab' | 'raw';
interface Round { rate: number; impl: Impl; sent: number; received: number[]; p50Us: number | undefined; p99Us: number | undefined }

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  createInterface({ input: child.stdout! }).on('line', onLine);
}

/**
 * Start one receiver; resolves when it listens. `result()` stops it and returns count and latencies.
 * The wirelab node prints one NDJSON line per message, as it does for a user; it writes them to a file
 * read after the round, so that this process does not compete with the receivers for the CPU.
 */
async function receiver(lab: Lab, host: string, impl: Impl): Promise<() => Promise<{ count: number; latencies: number[] }>> {
  const file = join(workDir, `${host}-${impl}.ndjson`);
  const fd = openSync(file, 'w');
  const child = impl === 'wirelab'
    ? lab.spawn(host, process.execPath, [wirelab, 'broadcast', 'node', '--json', '--quiet', '--port', String(PORT)], { stdio: ['ignore', fd, 'ignore'] })
    : lab.spawn(host, process.execPath, ['--import', 'tsx', here('support/udp-receiver.ts'), String(PORT)], { stdio: ['ignore', fd, 'ignore'] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  // Wait (bounded) for the "listening" line in its output file.
  for (let i = 0; i < 300 && !readFileSync(file, 'utf8').includes('"listening"'); i++) await new Promise((r) => setTimeout(r, 50));
  return async () => {
    child.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
    const latencies: number[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.startsWith('{"event":"message"')) latencies.push((JSON.parse(line) as { latencyUs: number }).latencyUs);
      else if (line.startsWith('{"event":"summary"') && impl === 'raw') latencies.push(...(JSON.parse(line) as { latencies: number[] }).latencies);
    }
    return { count: latencies.length, latencies };
  };
}

async function round(lab: Lab, impl: Impl, rate: number): Promise<Round> {
  const count = Math.min(rate * 2, 40_000);
  const stops = await Promise.all(NODES.map((host) => receiver(lab, host, impl)));
  const sender = lab.spawn('master', process.execPath, ['--import', 'tsx', here('support/udp-sender.ts'), impl, String(rate), String(count), lab.host('master').broadcast, String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sent = 0;
  lines(sender, (line) => (sent = (JSON.parse(line) as { sent: number }).sent));
  await new Promise((resolve) => sender.once('exit', resolve));
  // Let the receivers drain their socket buffers (bounded: a quarter of a second).
  await new Promise((resolve) => setTimeout(resolve, 250));
  const results = await Promise.all(stops.map((stop) => stop()));
  const all = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return { rate, impl, sent, received: results.map((r) => r.count), p50Us: percentile(all, 0.5), p99Us: percentile(all, 0.99) };
}

const fmtUs = (us: number | undefined): string => (us === undefined ? '-' : `${(us / 1000).toFixed(3)} ms`);

async function main(): Promise<void> {
  const reason = Lab.unavailableReason();
  if (reason) {
    console.error(`bench/broadcast: ${reason}`);
    process.exit(1);
  }
  const lab = await Lab.create({ hosts: ['master', ...NODES] });
  const best: Record<Impl, Round | undefined> = { wirelab: undefined, raw: undefined };
  const first: Record<Impl, Round | undefined> = { wirelab: undefined, raw: undefined };
  const stillLossless: Record<Impl, boolean> = { wirelab: true, raw: true };
  try {
    console.log('rate/s   impl      sent    received by n1..n4            p50        p99');
    for (const rate of RATES) {
      for (const impl of ['wirelab', 'raw'] as const) {
        if (!stillLossless[impl]) continue;
        const r = await round(lab, impl, rate);
        const lossless = r.received.every((c) => c === r.sent);
        first[impl] ??= r;
        if (lossless) best[impl] = r;
        else stillLossless[impl] = false;
        console.log(`${String(rate).padEnd(8)} ${impl.padEnd(8)} ${String(r.sent).padEnd(7)} ${r.received.join(' ').padEnd(29)} ${fmtUs(r.p50Us).padEnd(10)} ${fmtUs(r.p99Us)}${lossless ? '' : '  (loss)'}`);
      }
      if (!stillLossless.wirelab && !stillLossless.raw) break;
    }
  } finally {
    await lab.destroy();
    rmSync(workDir, { recursive: true, force: true });
  }
  const w = best.wirelab?.rate ?? 0;
  const r = best.raw?.rate ?? 0;
  console.log('\nfigure                                   wirelab node   bare dgram loop   ratio');
  console.log(`highest lossless rate, 4 nodes (msg/s)   ${String(w).padEnd(14)} ${String(r).padEnd(17)} ${r ? (w / r).toFixed(2) : '-'}`);
  const lw = first.wirelab;
  const lr = first.raw;
  for (const [name, key] of [['p50', 'p50Us'], ['p99', 'p99Us']] as const) {
    const a = lw?.[key];
    const b = lr?.[key];
    console.log(`latency ${name} at ${RATES[0]} msg/s               ${fmtUs(a).padEnd(14)} ${fmtUs(b).padEnd(17)} ${a !== undefined && b ? (a / b).toFixed(2) : '-'}`);
  }
  console.log('(rates tried: ' + RATES.join(', ') + '; 2 s of messages each, at most 40,000; the steps bound the figure)');
}

await main();
