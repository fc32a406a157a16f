/**
 * `wirelab demo`: a whole small network on one machine. As root the hosts are network namespaces on a
 * bridge (src/lab/hosts.ts); otherwise everything keeps to loopback and its broadcast address
 * 127.255.255.255. Never the machine's real interfaces. For now: a broadcast master and four nodes.
 */
import { EventEmitter } from 'node:events';
import { freePort } from '../common/net.js';
import { Lab } from './hosts.js';
import { WirelabProcess, type WirelabEvent } from './processes.js';

export const DEMO_NODES = ['node1', 'node2', 'node3', 'node4'];
const LOOPBACK_BROADCAST = '127.255.255.255';
/** ms a child may take to come up */
const START_TIMEOUT_MS = 30_000;

export interface DemoOptions {
  /** use namespaces (default: when root and available) */
  namespaces?: boolean;
  /** ms between broadcasts */
  intervalMs?: number;
  /** the message */
  message?: string;
}

export interface DemoEvents {
  /** what the demo built: mode, hosts and addresses */
  ready: [{ mode: 'namespaces' | 'loopback'; hosts: { name: string; address: string }[]; target: string; namespaces: string[] }];
  /** a broadcast left the master */
  sent: [{ seq: number; target: string }];
  /** a node got a message */
  received: [{ node: string; seq: number; text: string; latencyUs: number | undefined }];
  /** the master's report on one message */
  report: [{ seq: number; delivered: number; nodes: string[]; p50Ms: number | undefined; p99Ms: number | undefined }];
  /** a child process died unexpectedly */
  failed: [{ label: string; reason: string }];
}

export class Demo extends EventEmitter<DemoEvents> {
  private lab: Lab | undefined;
  private readonly children: WirelabProcess[] = [];
  private closing = false;

  constructor(private readonly options: DemoOptions = {}) {
    super();
  }

  /** Why namespaces cannot be used here (then the demo runs on loopback). */
  static namespaceUnavailableReason(): string | undefined {
    return Lab.unavailableReason();
  }

  async start(): Promise<void> {
    const useNamespaces = this.options.namespaces ?? Lab.unavailableReason() === undefined;
    try {
      if (useNamespaces) await this.startInNamespaces();
      else await this.startOnLoopback();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  private async startInNamespaces(): Promise<void> {
    const lab = await Lab.create({ hosts: ['master', ...DEMO_NODES] });
    this.lab = lab;
    await Promise.all(DEMO_NODES.map((name) => this.startNode(name, ['--name', name], { lab, host: name })));
    const target = `${lab.host('master').broadcast}:12345`;
    this.emit('ready', {
      mode: 'namespaces',
      hosts: lab.hosts.map((h) => ({ name: h.name, address: h.address })),
      target,
      namespaces: [lab.switchNetns, ...lab.hosts.map((h) => h.netns)],
    });
    this.startMaster([], { lab, host: 'master' });
  }

  private async startOnLoopback(): Promise<void> {
    const port = String(await freePort('udp'));
    await Promise.all(DEMO_NODES.map((name) => this.startNode(name, ['--name', name, '--port', port])));
    this.emit('ready', {
      mode: 'loopback',
      hosts: ['master', ...DEMO_NODES].map((name) => ({ name, address: '127.0.0.1' })),
      target: `${LOOPBACK_BROADCAST}:${port}`,
      namespaces: [],
    });
    this.startMaster(['--to', LOOPBACK_BROADCAST, '--port', port]);
  }

  private spawn(label: string, args: string[], where?: { lab: Lab; host: string }): WirelabProcess {
    const child = WirelabProcess.start([...args, '--json', '--quiet'], { label, keep: false, ...where });
    child.on('exit', ({ code, stderrTail }) => {
      if (!this.closing) this.emit('failed', { label, reason: `exited with code ${code}: ${stderrTail.trim().split('\n').at(-1) ?? ''}` });
    });
    this.children.push(child);
    return child;
  }

  private async startNode(name: string, args: string[], where?: { lab: Lab; host: string }): Promise<void> {
    const child = this.spawn(name, ['broadcast', 'node', ...args], where);
    child.on('event', (e) => {
      if (e.event === 'message') {
        this.emit('received', { node: name, seq: Number(e.seq), text: String(e.text), latencyUs: e.latencyUs as number | undefined });
      }
    });
    await child.waitFor((e) => e.event === 'listening', START_TIMEOUT_MS);
  }

  private startMaster(args: string[], where?: { lab: Lab; host: string }): void {
    const master = this.spawn('master', [
      'broadcast', 'master', '--name', 'master', '--count', '0',
      '--interval', `${this.options.intervalMs ?? 1000}ms`,
      '--message', this.options.message ?? 'Hello, Nodes!',
      '--expect', String(DEMO_NODES.length), ...args,
    ], where);
    master.on('event', (e: WirelabEvent) => {
      if (e.event === 'sent') this.emit('sent', { seq: Number(e.seq), target: String(e.target) });
      if (e.event === 'report') {
        this.emit('report', {
          seq: Number(e.seq), delivered: Number(e.delivered), nodes: e.nodes as string[],
          p50Ms: e.p50Ms as number | undefined, p99Ms: e.p99Ms as number | undefined,
        });
      }
    });
  }

  /** Stop every process and remove the namespaces. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.children.map((c) => c.stop()));
    await this.lab?.destroy();
    this.lab = undefined;
  }
}
