/**
 * A lab of separate hosts on one machine, built from Linux network namespaces (DESIGN.md, "Several
 * hosts on one machine"). One namespace holds a bridge, the "switch"; each host is a namespace with a
 * veth pair whose far end is plugged into that bridge. Addresses come from 198.18.0.0/15 (RFC 2544,
 * reserved for benchmarks), one random /24 per lab (a second one for hosts on "another subnet").
 * Nothing is added to the machine's own namespace: veth pairs are made inside the switch namespace.
 * Needs root and iproute2; `Lab.unavailableReason()` says why not, so tests can skip with a reason.
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { WirelabError } from '../common/errors.js';

const execFileAsync = promisify(execFile);

export interface HostSpec {
  name: string;
  /** 0: the lab's main /24; 1: a second /24 on the same bridge */
  subnet?: 0 | 1;
}

export interface LabHost {
  name: string;
  /** the namespace's name, for `ip netns exec` */
  netns: string;
  /** the host's IPv4 address on eth0 */
  address: string;
  prefix: number;
  /** the directed broadcast address of its subnet */
  broadcast: string;
  subnet: 0 | 1;
}

export interface LabOptions {
  hosts: (HostSpec | string)[];
  /** hears each namespace's name just before it is made (the demo's reaper: src/lab/reaper.ts) */
  onNamespace?: (name: string) => void;
}

/** Labs alive in this process, torn down on exit and on signals. */
const liveLabs = new Set<Lab>();
let signalHandlersInstalled = false;

function installSignalHandlers(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  process.on('exit', () => {
    for (const lab of liveLabs) lab.destroySync();
  });
  // A signal nobody else handles would end the process without 'exit': tear the labs down, then let
  // the signal do what it would have done. When the command handles it (a clean stop that closes its
  // lab after its processes), stay out of the way: the 'exit' hook above is the backstop.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (process.listenerCount(signal) > 1) return;
    for (const lab of liveLabs) lab.destroySync();
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

async function ip(args: string[]): Promise<void> {
  try {
    await execFileAsync('ip', args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new WirelabError('E_LAB', `ip ${args.join(' ')} failed: ${stderr || String(err)}`, { cause: err });
  }
}

export class Lab {
  /** the host name that means the switch's own namespace (where the bridge br0 is), for spawn() */
  static readonly SWITCH = '(switch)';
  readonly id: string;
  readonly switchNetns: string;
  private readonly hostsByName = new Map<string, LabHost>();
  private readonly namespaces: string[] = [];
  private destroyed = false;

  private constructor(
    id: string,
    private readonly subnets: [string, string],
    private readonly onNamespace?: (name: string) => void,
  ) {
    this.id = id;
    this.switchNetns = `wl-${id}-sw`;
  }

  /** Why labs cannot be built here, or undefined when they can. */
  static unavailableReason(): string | undefined {
    if (process.platform !== 'linux') return 'network namespaces need Linux';
    if (process.getuid?.() !== 0) return 'network namespaces need root';
    try {
      execFileSync('ip', ['-V'], { stdio: 'ignore' });
    } catch {
      return "the 'ip' command (iproute2) is missing";
    }
    return undefined;
  }

  /** Build the switch and every host. On failure, whatever was made is torn down. */
  static async create(options: LabOptions): Promise<Lab> {
    const reason = Lab.unavailableReason();
    if (reason) throw new WirelabError('E_PERMISSION', `cannot build a lab: ${reason}`);
    const third = randomBytes(1)[0]! % 255; // 198.18.x.0/24 and 198.18.(x+1).0/24
    const lab = new Lab(randomBytes(3).toString('hex'), [`198.18.${third}`, `198.18.${third + 1}`], options.onNamespace);
    installSignalHandlers();
    liveLabs.add(lab);
    try {
      await lab.build(options.hosts.map((h) => (typeof h === 'string' ? { name: h } : h)));
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  private async build(specs: HostSpec[]): Promise<void> {
    await this.addNamespace(this.switchNetns);
    await ip(['-n', this.switchNetns, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', this.switchNetns, 'link', 'set', 'br0', 'up']);
    const counters = [1, 1];
    for (const [index, spec] of specs.entries()) {
      if (this.hostsByName.has(spec.name)) throw new WirelabError('E_LAB', `duplicate host name ${spec.name}`);
      const subnet = spec.subnet ?? 0;
      const hostNumber = counters[subnet]!++;
      if (hostNumber > 254) throw new WirelabError('E_LAB', 'a lab subnet holds at most 254 hosts');
      await this.addHost(spec.name, index, subnet, hostNumber);
    }
  }

  private async addNamespace(name: string): Promise<void> {
    this.onNamespace?.(name);
    await ip(['netns', 'add', name]);
    this.namespaces.push(name);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  }

  private async addHost(name: string, index: number, subnet: 0 | 1, hostNumber: number): Promise<void> {
    const netns = `wl-${this.id}-h${index}`;
    await this.addNamespace(netns);
    const port = `p${index}`;
    await ip(['-n', this.switchNetns, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await ip(['-n', this.switchNetns, 'link', 'set', port, 'master', 'br0']);
    await ip(['-n', this.switchNetns, 'link', 'set', port, 'up']);
    const base = this.subnets[subnet];
    const address = `${base}.${hostNumber}`;
    await ip(['-n', netns, 'addr', 'add', `${address}/24`, 'broadcast', `${base}.255`, 'dev', 'eth0']);
    await ip(['-n', netns, 'link', 'set', 'eth0', 'up']);
    this.hostsByName.set(name, { name, netns, address, prefix: 24, broadcast: `${base}.255`, subnet });
  }

  host(name: string): LabHost {
    const host = this.hostsByName.get(name);
    if (!host) throw new WirelabError('E_LAB', `no host named ${name} in this lab`);
    return host;
  }

  get hosts(): LabHost[] {
    return [...this.hostsByName.values()];
  }

  /** Start a process inside a host's namespace (or the switch's: `Lab.SWITCH`). */
  spawn(hostName: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const netns = hostName === Lab.SWITCH ? this.switchNetns : this.host(hostName).netns;
    return spawn('ip', ['netns', 'exec', netns, command, ...args], options);
  }

  /** Run a command inside a host's namespace and return its stdout. */
  async exec(hostName: string, command: string, args: string[]): Promise<string> {
    const host = this.host(hostName);
    const { stdout } = await execFileAsync('ip', ['netns', 'exec', host.netns, command, ...args]);
    return stdout;
  }

  /** Cut a host off the switch (link down), or plug it back in. */
  async setLink(hostName: string, up: boolean): Promise<void> {
    const host = this.host(hostName);
    await ip(['-n', host.netns, 'link', 'set', 'eth0', up ? 'up' : 'down']);
  }

  /** Remove every namespace of the lab (which removes its veths and bridge). Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    liveLabs.delete(this);
    for (const name of this.namespaces.reverse()) {
      await execFileAsync('ip', ['netns', 'del', name]).catch(() => undefined);
    }
  }

  /** Synchronous teardown for exit and signal handlers. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveLabs.delete(this);
    for (const name of this.namespaces.reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}
