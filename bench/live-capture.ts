/**
 * Live capture benchmark: the highest rate at which `wirelab analyze --interface lo --stats` loses
 * nothing. Everything runs inside a network namespace this script makes (never on the machine's own
 * interfaces): a paced UDP sender (bench/support/paced-sender.ts, 64-byte payloads) to a socket on
 * 127.0.0.1 that nobody reads, for `--seconds` per rate step. For each step, in the same run:
 * wirelab with each engine (tcpdump, dumpcap), and the reference `tcpdump -i lo -w /dev/null` with the
 * same buffer. Reported: datagrams sent, packets seen, the kernel's drop count.
 * Run (root): node --import tsx bench/live-capture.ts [--rates 25000,50000,100000,200000] [--seconds 3]
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { parseTcpdumpStats } from '../src/capture/index.js';
import { LIVE_DRAIN_MS } from '../src/capture/constants.js';
import { Lab } from '../src/lab/hosts.js';
import { stopChild } from './support/stop-child.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const wirelab = here('../bin/wirelab.js');
const sender = here('./support/paced-sender.ts');
const PORT = 40000;
const FILTER = `udp and dst port ${PORT}`;
/** UDP payload bytes: 64 + 8 + 20 + 14 = a 106-byte frame on lo */
const PAYLOAD_BYTES = 64;
/** the buffer wirelab asks of its engine by default (LIVE_BUFFER_KIB), given to the reference too */
const BUFFER_KIB = 65_536;

interface Step {
  run: string;
  rate: number;
  sent: number;
  /** datagrams per second the sender achieved */
  achieved: number;
  seen: number | undefined;
  dropped: number | undefined;
}

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1]! : fallback;
}

/** Collect a child's output; resolve `ready` when `pattern` shows up in stdout or stderr (deadline 30 s). */
function watch(child: ChildProcess, pattern: RegExp): { out: () => string; err: () => string; ready: Promise<void> } {
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within 30 s: ${err.slice(-300)}`)), 30_000);
    const check = (): void => {
      if (pattern.test(out) || pattern.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', (t: string) => ((out += t), check()));
    child.stderr?.on('data', (t: string) => ((err = (err + t).slice(-16_384)), check()));
  });
  return { out: () => out, err: () => err, ready };
}

/** One capture at one rate: start it, send for `seconds`, stop it, read what it saw and dropped. */
async function step(lab: Lab, run: string, rate: number, seconds: number): Promise<Step> {
  const engine = run.startsWith('wirelab') ? run.split(' ')[1]! : undefined;
  const args = engine
    ? [process.execPath, [wirelab, 'analyze', '--interface', 'lo', '--engine', engine, '--filter', FILTER, '--stats', '--stats-interval', '1h', '--json']]
    : ['tcpdump', ['-i', 'lo', '-B', String(BUFFER_KIB), '--time-stamp-precision=nano', '-w', '/dev/null', FILTER]];
  const capture = lab.spawn('solo', args[0] as string, args[1] as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
  const io = watch(capture, engine ? /"event":"started"/ : /listening on/);
  try {
    await io.ready;
    const send = lab.spawn('solo', process.execPath, ['--import', 'tsx', sender, String(rate), String(rate * seconds), String(PORT), String(PAYLOAD_BYTES)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const sendIo = watch(send, /"sent"/);
    await once(send, 'exit');
    const report = JSON.parse(sendIo.out().trim().split('\n').at(-1) ?? '{}') as { sent?: number; rate?: number };
    // wirelab lets the kernel's last block arrive before it stops its engine; give the reference the same
    if (!engine) await new Promise((resolve) => setTimeout(resolve, LIVE_DRAIN_MS));
    await stopChild(capture);
    let seen: number | undefined;
    let dropped: number | undefined;
    if (engine) {
      const summary = io.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'summary');
      seen = summary?.packets as number | undefined;
      dropped = summary?.droppedByKernel as number | undefined;
    } else {
      const stats = parseTcpdumpStats(io.err());
      seen = stats.captured;
      dropped = stats.droppedByKernel;
    }
    return { run, rate, sent: report.sent ?? 0, achieved: Math.round(report.rate ?? 0), seen, dropped };
  } finally {
    await stopChild(capture);
  }
}

async function main(): Promise<void> {
  const reason = Lab.unavailableReason();
  if (reason) throw new Error(`this benchmark builds a namespace: ${reason}`);
  const rates = arg('--rates', '25000,50000,100000,200000').split(',').map(Number);
  const seconds = Number(arg('--seconds', '3'));
  const lab = await Lab.create({ hosts: ['solo'] });
  try {
    process.stdout.write(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    const rows: Step[] = [];
    for (const rate of rates) {
      for (const run of ['wirelab tcpdump', 'wirelab dumpcap', 'tcpdump -w /dev/null']) {
        process.stderr.write(`${run} at ${rate}/s\n`);
        rows.push(await step(lab, run, rate, seconds));
      }
    }
    process.stdout.write(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    process.stdout.write('| run | rate asked /s | sent | sender achieved /s | packets seen | kernel drops | lossless |\n| --- | --- | --- | --- | --- | --- | --- |\n');
    for (const r of rows) {
      const lossless = r.seen === r.sent && r.dropped === 0 ? 'yes' : 'no';
      process.stdout.write(`| ${r.run} | ${r.rate} | ${r.sent} | ${r.achieved} | ${r.seen ?? '?'} | ${r.dropped ?? '?'} | ${lossless} |\n`);
    }
    // the figure beside its reference: the highest step each run got through losing nothing
    const best = (run: string): number => Math.max(0, ...rows.filter((r) => r.run === run && r.seen === r.sent && r.dropped === 0).map((r) => r.rate));
    const reference = best('tcpdump -w /dev/null');
    for (const run of ['wirelab tcpdump', 'wirelab dumpcap']) {
      const ours = best(run);
      const ratio = reference > 0 ? (ours / reference).toFixed(2) : 'n/a';
      process.stdout.write(`highest lossless step, ${run}: ${ours}/s beside tcpdump -w /dev/null ${reference}/s (ratio ${ratio})\n`);
    }
  } finally {
    await lab.destroy();
  }
}
await main();
