/**
 * `wirelab demo`: a whole small network on one machine. As root the hosts are network namespaces on a
 * bridge (src/lab/hosts.ts); otherwise everything keeps to loopback and its broadcast address
 * 127.255.255.255. Never the machine's real interfaces. For now: a broadcast master and four nodes.
 */
import { EventEmitter } from 'node:events';
import { freePort } from '../common/net.js';
import { Lab } from './hosts.js';
import type { LatencySummary } from '../common/format.js';
import { CausalOrder } from './causal-order.js';
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

/** A broadcast left the master. `time`: seconds since the epoch, as the master saw it. */
export interface DemoSent {
  seq: number;
  target: string;
  time: number;
}

/** A node got a message. `latencyUs`: one way, master's send to the node's receipt (same clock). */
export interface DemoReceived {
  node: string;
  seq: number;
  text: string;
  latencyUs: number | undefined;
  time: number;
}

/** The master's report on one message, with its round-trip figures (ms). */
export interface DemoReport {
  seq: number;
  delivered: number;
  nodes: string[];
  rtt: LatencySummary | undefined;
  time: number;
}

/**
 * The demo's events, in causal order (src/lab/causal-order.ts): a node's `received` never before the
 * master's `sent` of that message, a `report` never before the receipts of the nodes it names.
 */
export interface DemoEvents {
  /** what the demo built: mode, hosts and addresses, namespaces and child process ids */
  ready: [{ mode: 'namespaces' | 'loopback'; hosts: { name: string; address: string }[]; target: string; namespaces: string[]; pids: number[] }];
  sent: [DemoSent];
  received: [DemoReceived];
  report: [DemoReport];
  /** a child process died unexpectedly */
  failed: [{ label: string; reason: string }];
}

/** An event's `time` field (epoch seconds), or now when a child sent none. */
function eventTime(e: WirelabEvent): number {
  return typeof e.time === 'number' ? e.time : Date.now() / 1000;
}

export class Demo extends EventEmitter<DemoEvents> {
  private lab: Lab | undefined;
  private readonly children: WirelabProcess[] = [];
  private closing = false;
  private readonly order = new CausalOrder<DemoSent, DemoReceived, DemoReport>({
    sent: (e) => this.emit('sent', e),
    received: (e) => this.emit('received', e),
    report: (e) => this.emit('report', e),
  });

  constructor(private readonly options: DemoOptions = {}) {
    super();
  }

  /** Why namespaces cannot be used here (then the demo runs on loopback). */
  static namespaceUnavailableReason(): string | undefined {
    return Lab.unavailableReason();
  }

  /** Last resort if this process ends without close() (a crash): no child may outlive the demo. */
  private readonly killChildren = (): void => {
    for (const c of this.children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  };

  async start(): Promise<void> {
    process.on('exit', this.killChildren);
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
    // the master's first event comes through its pipe, so 'ready' (emitted now) still comes first
    this.startMaster([], { lab, host: 'master' });
    this.emit('ready', {
      mode: 'namespaces',
      hosts: lab.hosts.map((h) => ({ name: h.name, address: h.address })),
      target,
      namespaces: [lab.switchNetns, ...lab.hosts.map((h) => h.netns)],
      pids: this.pids(),
    });
  }

  private async startOnLoopback(): Promise<void> {
    const port = String(await freePort('udp'));
    await Promise.all(DEMO_NODES.map((name) => this.startNode(name, ['--name', name, '--port', port])));
    this.startMaster(['--to', LOOPBACK_BROADCAST, '--port', port]);
    this.emit('ready', {
      mode: 'loopback',
      hosts: ['master', ...DEMO_NODES].map((name) => ({ name, address: '127.0.0.1' })),
      target: `${LOOPBACK_BROADCAST}:${port}`,
      namespaces: [],
      pids: this.pids(),
    });
  }

  /** Process ids of the children started so far. */
  private pids(): number[] {
    return this.children.map((c) => c.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  private spawn(label: string, args: string[], where?: { lab: Lab; host: string }): WirelabProcess {
    // detached: a terminal's Ctrl-C or hangup reaches the demo alone, which then stops its children in order
    const child = WirelabProcess.start([...args, '--json', '--quiet'], { label, keep: false, detached: true, ...where });
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
        this.order.received({ node: name, seq: Number(e.seq), text: String(e.text), latencyUs: e.latencyUs as number | undefined, time: eventTime(e) });
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
      if (e.event === 'sent') this.order.sent({ seq: Number(e.seq), target: String(e.target), time: eventTime(e) });
      if (e.event === 'report') {
        this.order.report({
          seq: Number(e.seq), delivered: Number(e.delivered), nodes: e.nodes as string[],
          rtt: e.rtt as LatencySummary | undefined, time: eventTime(e),
        });
      }
    });
  }

  /** Stop every process and remove the namespaces. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.children.map((c) => c.stop()));
    this.order.flush();
    process.removeListener('exit', this.killChildren);
    await this.lab?.destroy();
    this.lab = undefined;
  }
}
