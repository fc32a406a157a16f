/**
 * What the broadcast hostile tests share: a lab of hosts (network namespaces), real `wirelab
 * broadcast node` processes in it, and the attacker (test/fixtures/broadcast/attacker.py), which sends
 * raw IPv4/UDP datagrams with any source address and port from inside its own namespace.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Lab } from '../../../src/lab/hosts.js';
import { WirelabProcess } from '../../helpers/process.js';

export const attackerScript = fileURLToPath(new URL('../../fixtures/broadcast/attacker.py', import.meta.url));

export type After = { after: (fn: () => unknown) => void };

export async function buildLab(t: After, hosts: string[]): Promise<Lab> {
  const lab = await Lab.create({ hosts });
  t.after(() => lab.destroy());
  return lab;
}

/** Start `wirelab broadcast node --json` on a lab host and wait until it listens. */
export async function startNode(t: After, lab: Lab, host: string, extra: string[] = []): Promise<WirelabProcess> {
  const node = WirelabProcess.start(['broadcast', 'node', '--name', host, '--json', ...extra], { lab, host });
  t.after(() => node.stop());
  await node.waitFor((e) => e.event === 'listening', 20_000, `${host} listening`);
  return node;
}

export interface AttackOptions {
  dst: string;
  dport?: number;
  src?: string;
  sport?: number;
  count?: number;
  payloads?: Buffer[];
  /** payload texts, used in turn, with {i} for the datagram's index and \\n for a line feed */
  templates?: string[];
  /** the source port grows by this much per datagram */
  sportStep?: number;
  /** random payloads of this many bytes (with `seed`) instead of `payloads` */
  junk?: number;
  seed?: number;
}

/** Run the attacker's `send` on a lab host; resolves with the number of datagrams sent. */
export async function attack(lab: Lab, host: string, o: AttackOptions): Promise<number> {
  const args = [attackerScript, 'send', '--dst', o.dst, '--dport', String(o.dport ?? 12345), '--sport', String(o.sport ?? 40000), '--count', String(o.count ?? 1)];
  if (o.src) args.push('--src', o.src);
  if (o.sportStep) args.push('--sport-step', String(o.sportStep));
  if (o.templates) args.push('--template', ...o.templates);
  else if (o.payloads) args.push('--hex', ...o.payloads.map((p) => p.toString('hex')));
  else args.push('--junk', String(o.junk ?? 1), '--seed', String(o.seed ?? 1));
  const out = await lab.exec(host, 'python3', args);
  return (JSON.parse(out.trim().split('\n').pop()!) as { sent: number }).sent;
}

/** Resident memory of a process, bytes (/proc/PID/status VmRSS). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** The process is still running. */
export function alive(p: WirelabProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

export const skipReason = Lab.unavailableReason();

/** Run the attacker's `probe` (send from an ordinary socket, count the replies for `seconds`). */
export async function probe(lab: Lab, host: string, dst: string, payloads: Buffer[], seconds = 1): Promise<{ datagrams: number; bytes: number }> {
  const out = await lab.exec(host, 'python3', [attackerScript, 'probe', '--dst', dst, '--seconds', String(seconds), '--hex', ...payloads.map((p) => p.toString('hex'))]);
  return JSON.parse(out.trim().split('\n').pop()!) as { datagrams: number; bytes: number };
}

/** Start the attacker's `listen` on a lab host (a victim counting what reaches it); resolves once it listens. */
export async function listen(lab: Lab, host: string, port: number, seconds: number): Promise<() => Promise<{ datagrams: number; bytes: number }>> {
  const child = lab.spawn(host, 'python3', [attackerScript, 'listen', '--port', String(port), '--seconds', String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let onLine: (() => void) | undefined;
  child.stdout!.setEncoding('utf8');
  let buffered = '';
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    onLine?.();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000);
  await Promise.race([new Promise<void>((resolve) => (onLine = () => lines.length > 0 && resolve())), exited]);
  return async () => {
    await exited;
    clearTimeout(killer);
    return JSON.parse(lines.at(-1)!) as { datagrams: number; bytes: number };
  };
}
