/**
 * The scene of the gossip attack tests: a lab with a seed host, honest peer hosts and an attacker
 * host, the real `wirelab gossip` processes on them, and the attacker script (gossip-attacker.ts).
 */
import type { TestContext } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../../../src/lab/hosts.js';
import { WirelabProcess, repoRoot } from '../../helpers/process.js';

export const labSkip = Lab.unavailableReason();
const attackerScript = fileURLToPath(new URL('./gossip-attacker.ts', import.meta.url));

export const SEED_PORT = 7400;
export const PEER_PORT = 7500;

export interface Scene {
  lab: Lab;
  dir: string;
  config: string;
  seed: WirelabProcess;
  seedKey: string;
  procs: WirelabProcess[];
  peer(host: string, extra?: string[]): WirelabProcess;
  attack(mode: string, args: Record<string, unknown>): Attacker;
}

/** The attacker script's process: its NDJSON result lines. */
export class Attacker {
  readonly events: Record<string, unknown>[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    readonly mode: string,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) this.events.push(JSON.parse(line) as Record<string, unknown>);
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** The result line named `event`, once the attack ends (bounded by `timeoutMs`). */
  async result(event: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    const found = this.events.find((e) => e.event === event);
    if (!found) throw new Error(`attacker ${this.mode}: no '${event}' result; events ${JSON.stringify(this.events)}; stderr ${this.stderr.slice(-2000)}`);
    return found;
  }

  /** Wait (bounded) for a line named `event` while the attack goes on. */
  async seen(event: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.event === event);
      if (found) return found;
      if (Date.now() > until || this.child.exitCode !== null) throw new Error(`attacker ${this.mode}: no '${event}' line; stderr ${this.stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Build the lab (hosts `s` for the seed, `x` for the attacker, and `peers`) and start the seed. */
export async function scene(t: TestContext, peers: string[], seedArgs: string[] = [], secret?: string): Promise<Scene> {
  const lab = await Lab.create({ hosts: ['s', 'x', ...peers] });
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-hostile-'));
  const procs: WirelabProcess[] = [];
  const attackers: Attacker[] = [];
  t.after(async () => {
    for (const a of attackers) a.kill();
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  const seedHost = lab.host('s').address;
  const config = join(dir, 'seeds.txt');
  await writeFile(config, `${seedHost}:${SEED_PORT}\n`);
  const keyArgs: string[] = [];
  if (secret !== undefined) {
    await writeFile(join(dir, 'secret'), secret, { mode: 0o600 });
    keyArgs.push('--secret-file', join(dir, 'secret'));
  }
  const seed = WirelabProcess.start(['gossip', 'seed', '--host', seedHost, '--port', String(SEED_PORT), '--json', ...keyArgs, ...seedArgs], { lab, host: 's', label: 'seed' });
  procs.push(seed);
  await seed.waitFor((e) => e.event === 'listening', 30_000, 'seed listening');
  return {
    lab,
    dir,
    config,
    seed,
    seedKey: `${seedHost}:${SEED_PORT}`,
    procs,
    peer(host, extra = []) {
      const args = ['gossip', 'peer', '--host', lab.host(host).address, '--port', String(PEER_PORT), '--config', config, '--json', ...keyArgs, ...extra];
      const p = WirelabProcess.start(args, { lab, host, label: `peer ${host}` });
      procs.push(p);
      return p;
    },
    attack(mode, args) {
      const argv = ['--import', 'tsx', attackerScript, mode, JSON.stringify({ self: lab.host('x').address, ...args })];
      const child = lab.spawn('x', process.execPath, argv, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      const a = new Attacker(child, mode);
      attackers.push(a);
      return a;
    },
  };
}

/** Resident memory of a process (MiB), from /proc. */
export async function rssMiB(proc: WirelabProcess): Promise<number> {
  const status = await readFile(`/proc/${proc.child.pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
  return kib / 1024;
}

/** Assert-friendly: the process is still running (no crash). */
export function alive(proc: WirelabProcess): boolean {
  return proc.child.exitCode === null && proc.child.signalCode === null;
}
