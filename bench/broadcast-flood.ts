/**
 * Broadcast under a junk flood (issue 13, broadcast 5): across a bridge between network namespaces, a
 * sender paces genuine messages to one node while an attacker host floods the same port with random
 * datagrams; how many of the genuine messages the node delivers, with and without the flood, for
 * `wirelab broadcast node --json` beside the bare dgram receiver loop (bench/support/udp-receiver.ts),
 * in the same run. Needs root.
 * Run: node --import tsx bench/broadcast-flood.ts [--rate 2000] [--seconds 2]
 */
import { fileURLToPath } from 'node:url';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Lab } from '../src/lab/hosts.js';

const PORT = 12345;
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const wirelab = here('../bin/wirelab.js');
const attacker = here('../test/fixtures/broadcast/attacker.py');
const workDir = mkdtempSync(join(tmpdir(), 'wirelab-bench-flood-'));
const { values } = parseArgs({ options: { rate: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '2' } } });
const RATE = Number(values.rate);
const COUNT = Math.round(RATE * Number(values.seconds));
/** junk datagrams the attacker may send at most (it is stopped when the genuine messages are out) */
const FLOOD_MAX = 2_000_000;

type Impl = 'wirelab' | 'raw';
interface Round { impl: Impl; flood: boolean; sent: number; delivered: number; junkSeen: number; junkSent: number }

/** Start the receiver on the node host; returns a function that stops it and counts. */
async function receiver(lab: Lab, impl: Impl): Promise<() => Promise<{ delivered: number; junkSeen: number }>> {
  const file = join(workDir, `${impl}-${randomBytes(3).toString('hex')}.ndjson`);
  const fd = openSync(file, 'w');
  const args = impl === 'wirelab'
    ? [wirelab, 'broadcast', 'node', '--json', '--quiet', '--port', String(PORT)]
    : ['--import', 'tsx', here('support/udp-receiver.ts'), String(PORT)];
  const child = lab.spawn('node', process.execPath, args, { stdio: ['ignore', fd, 'ignore'] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  for (let i = 0; i < 300 && !readFileSync(file, 'utf8').includes('"listening"'); i++) await new Promise((r) => setTimeout(r, 50));
  return async () => {
    child.kill('SIGTERM');
    await exited;
    clearTimeout(killer);
    let delivered = 0;
    let junkSeen = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.startsWith('{"event":"message"')) delivered++;
      else if (line.startsWith('{"event":"invalid"')) junkSeen++;
      else if (line.startsWith('{"event":"summary"') && impl === 'raw') {
        const s = JSON.parse(line) as { messages: number; other: number };
        delivered = s.messages;
        junkSeen = s.other;
      }
    }
    return { delivered, junkSeen };
  };
}

async function round(lab: Lab, impl: Impl, flood: boolean): Promise<Round> {
  const stop = await receiver(lab, impl);
  const junk = Array.from({ length: 16 }, () => randomBytes(48).toString('hex'));
  const flooder = flood
    ? lab.spawn('attacker', 'python3', [attacker, 'send', '--dst', lab.host('attacker').broadcast, '--count', String(FLOOD_MAX), '--hex', ...junk], { stdio: ['ignore', 'pipe', 'ignore'] })
    : undefined;
  let junkSent = 0;
  flooder?.stdout!.on('data', (d: Buffer) => (junkSent = (JSON.parse(d.toString()) as { sent: number }).sent));
  const flooderExit = flooder ? new Promise<void>((resolve) => flooder.once('exit', () => resolve())) : Promise.resolve();
  if (flooder) await new Promise((r) => setTimeout(r, 300)); // the flood is under way before the first genuine message
  const sender = lab.spawn('master', process.execPath, ['--import', 'tsx', here('support/udp-sender.ts'), impl, String(RATE), String(COUNT), lab.host('master').broadcast, String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sent = 0;
  sender.stdout!.on('data', (d: Buffer) => (sent = (JSON.parse(d.toString()) as { sent: number }).sent));
  await new Promise((resolve) => sender.once('exit', resolve));
  flooder?.kill('SIGINT'); // python prints nothing on SIGINT: count what the node saw instead
  await flooderExit;
  await new Promise((r) => setTimeout(r, 250)); // let the receiver drain its buffer
  const { delivered, junkSeen } = await stop();
  return { impl, flood, sent, delivered, junkSeen, junkSent };
}

async function main(): Promise<void> {
  const reason = Lab.unavailableReason();
  if (reason) {
    console.error(`bench/broadcast-flood: ${reason}`);
    process.exit(1);
  }
  const lab = await Lab.create({ hosts: ['master', 'node', 'attacker'] });
  const rounds: Round[] = [];
  try {
    console.log(`genuine messages: ${COUNT} at ${RATE}/s; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log('impl      flood   sent    delivered   junk seen by the receiver');
    for (const impl of ['wirelab', 'raw'] as const) {
      for (const flood of [false, true]) {
        const r = await round(lab, impl, flood);
        rounds.push(r);
        console.log(`${impl.padEnd(9)} ${String(flood).padEnd(7)} ${String(r.sent).padEnd(7)} ${String(r.delivered).padEnd(11)} ${r.junkSeen}`);
      }
    }
  } finally {
    await lab.destroy();
    rmSync(workDir, { recursive: true, force: true });
  }
  const share = (impl: Impl, flood: boolean): number => {
    const r = rounds.find((x) => x.impl === impl && x.flood === flood)!;
    return r.sent ? r.delivered / r.sent : 0;
  };
  console.log('\nfigure                                       wirelab node   bare dgram loop   ratio');
  for (const flood of [false, true]) {
    const w = share('wirelab', flood);
    const b = share('raw', flood);
    console.log(`genuine delivered, ${flood ? 'under the flood' : 'no flood       '}          ${(w * 100).toFixed(1).padStart(5)} %        ${(b * 100).toFixed(1).padStart(5)} %           ${b ? (w / b).toFixed(2) : '-'}`);
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

await main();
