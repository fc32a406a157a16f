/**
 * `wirelab demo`: the whole lab on one machine. As root the hosts are network namespaces on a bridge
 * (src/lab/hosts.ts); otherwise everything keeps to loopback. Never the machine's real interfaces.
 * The lab: a broadcast master and four nodes; three gossip seeds and a swarm of twenty peers; the chat
 * server and three scripted clients (src/lab/chat-bot.ts) that chat, send a file and take a quiz; the
 * dashboard capturing the lab's traffic (the bridge in namespaces, reached from the host through
 * src/lab/relay.ts; loopback as root otherwise). Every part is a real child process whose NDJSON
 * events become the demo's events (src/lab/demo-systems.ts). A reaper (src/lab/reaper.ts) hears of every
 * process, namespace and directory made, and removes them should the demo be killed outright.
 */
import { EventEmitter } from 'node:events';
import { Lab } from './hosts.js';
import { CausalOrder } from './causal-order.js';
import { WirelabProcess, type WirelabEvent } from './processes.js';
import { DemoFiles, dashboardUnavailableReason } from './demo-setup.js';
import { freePort } from '../common/net.js';
import { TcpRelay } from './relay.js';
import { ReaperLink } from './reaper.js';
import { scriptEntry } from './scripts.js';
import { DEFAULT_CHAT_PORT, startBroadcast, startChat, startGossip, type Place, type SystemContext } from './demo-systems.js';
import type { DemoEvents, DemoOptions, DemoReady, DemoReceived, DemoReport, DemoSent } from './demo-events.js';

export * from './demo-events.js';
export { DEFAULT_CHAT_PORT, DEMO_NODES, DEMO_SEEDS, DEMO_BOTS } from './demo-systems.js';

/** ms a child may take to come up (a loaded machine starts a dozen node processes at once) */
export const START_TIMEOUT_MS = 60_000;
/** the dashboard's port by default (docs/dashboard.md) */
export const DEFAULT_DASHBOARD_PORT = 8050;
const BUILD_STEPS = 6;
/** systems' events held while the lab is being built, at most */
const MAX_HELD_EVENTS = 1000;

export class Demo extends EventEmitter<DemoEvents> {
  private lab: Lab | undefined;
  private files: DemoFiles | undefined;
  private relay: TcpRelay | undefined;
  private readonly children: WirelabProcess[] = [];
  private readonly reaper = new ReaperLink();
  private closing = false;
  private step = 0;
  /** the systems' events while the lab is being built: passed on after `ready`, in order */
  private held: (() => void)[] | undefined = [];
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

  /** Last resort if this process ends without close() (a crash): no child or file may outlive the demo. */
  private readonly killChildren = (): void => {
    for (const c of this.children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    this.files?.remove();
  };

  /** Emit now once ready; before, hold (at most MAX_HELD_EVENTS, the oldest dropped). */
  private live(emit: () => void): void {
    if (this.held === undefined) {
      emit();
      return;
    }
    this.held.push(emit);
    if (this.held.length > MAX_HELD_EVENTS) this.held.shift();
  }

  private progress(text: string): void {
    this.emit('progress', { step: ++this.step, steps: BUILD_STEPS, text, time: Date.now() / 1000 });
  }

  async start(): Promise<void> {
    process.on('exit', this.killChildren);
    const namespaces = this.options.namespaces ?? Lab.unavailableReason() === undefined;
    try {
      await this.build(namespaces);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  private async build(namespaces: boolean): Promise<void> {
    this.progress('writing the lab files (quiz, seed list, a file to send)');
    // first the reaper, so that nothing is made that it does not hear of
    await this.reaper.start((code) => {
      if (!this.closing) this.emit('failed', { label: 'reaper', reason: `exited with code ${code}: the demo would have no safety net` });
    });
    const files = (this.files = new DemoFiles());
    this.reaper.directory(files.dir);
    this.progress(namespaces ? 'building the network namespaces' : 'staying on loopback');
    const lab = namespaces ? await this.buildLab() : undefined;
    const ctx: SystemContext = {
      lab,
      files,
      spawn: (label, args, where, extra) => this.spawn(label, args, where, extra),
      order: this.order,
      gossip: (e) => this.live(() => this.emit('gossip', e)),
      chat: (e) => this.live(() => this.emit('chat', e)),
      startTimeoutMs: START_TIMEOUT_MS,
      intervalMs: this.options.intervalMs ?? 1000,
      message: this.options.message ?? 'Hello, Nodes!',
      chatPort: this.options.chatPort ?? DEFAULT_CHAT_PORT,
    };
    this.progress('starting the dashboard (the analyzer capturing the lab)');
    const dashboard = await this.startDashboard(lab, files);
    this.progress('starting the gossip seeds and twenty peers');
    const gossip = await startGossip(ctx);
    this.progress('starting the chat server and three clients');
    const chat = await startChat(ctx);
    this.progress('starting the broadcast nodes and master');
    const broadcast = await startBroadcast(ctx);
    const ready: DemoReady = {
      mode: namespaces ? 'namespaces' : 'loopback',
      hosts: lab ? lab.hosts.map((h) => ({ name: h.name, address: h.address })) : [{ name: 'all', address: '127.0.0.1' }],
      target: broadcast.target,
      seeds: gossip.seeds,
      peers: gossip.peers,
      chat: chat.server,
      clients: chat.clients,
      dashboard,
      tempDir: files.dir,
      namespaces: lab ? [lab.switchNetns, ...lab.hosts.map((h) => h.netns)] : [],
      pids: this.pids(),
      reaper: this.reaper.pid ?? null,
    };
    this.emit('ready', ready);
    const held = this.held;
    this.held = undefined;
    for (const emit of held ?? []) emit();
    chat.go();
  }

  private async buildLab(): Promise<Lab> {
    const hosts = ['master', 'node1', 'node2', 'node3', 'node4', 'seed1', 'seed2', 'seed3', 'peers', 'chat', 'alice', 'bob', 'carol'];
    this.lab = await Lab.create({ hosts, onNamespace: (name) => this.reaper.namespace(name) });
    return this.lab;
  }

  /**
   * The dashboard. In namespaces it runs in the switch's namespace, capturing the bridge (every frame
   * of the lab passes there), and listens on that namespace's 127.0.0.1:PORT; the host's 127.0.0.1:PORT
   * is a relay (this process) to a Unix socket, relayed in turn (a script in the namespace) to it. The
   * same port number on both sides, so the page's Host and Origin are what the dashboard expects.
   * On loopback (as root) it captures lo, without its own port. Returns its URL, or why there is none.
   */
  private async startDashboard(lab: Lab | undefined, files: DemoFiles): Promise<{ url: string | null; reason: string | null }> {
    if (this.options.dashboard === false) return { url: null, reason: 'not asked for (--no-dashboard)' };
    const reason = dashboardUnavailableReason(lab !== undefined);
    if (reason) return { url: null, reason };
    const wanted = this.options.dashboardPort ?? DEFAULT_DASHBOARD_PORT;
    const args = ['dashboard', '--host', '127.0.0.1', '--no-anomalies'];
    if (lab) {
      // hold the host's port first: a port in use fails here, before anything else is started
      this.relay = new TcpRelay(files.relaySocket);
      const port = await this.relay.start(wanted);
      const where = { lab, host: Lab.SWITCH };
      const dashboard = this.spawn('dashboard', [...args, '--interface', 'br0', '--port', String(port)], where);
      await dashboard.waitFor((e) => e.event === 'listening', START_TIMEOUT_MS, 'the dashboard');
      const relay = this.spawn('relay', [files.relaySocket, String(port)], where, { entry: scriptEntry('relay'), own: true });
      await relay.waitFor((e) => e.event === 'listening', START_TIMEOUT_MS, 'the relay');
      return { url: `http://127.0.0.1:${port}/`, reason: null };
    }
    const port = wanted === 0 ? await freePort('tcp') : wanted;
    const dashboard = this.spawn('dashboard', [...args, '--interface', 'lo', '--filter', `not tcp port ${port}`, '--port', String(port)]);
    const listening = await dashboard.waitFor((e) => e.event === 'listening', START_TIMEOUT_MS, 'the dashboard');
    return { url: String(listening.url), reason: null };
  }

  /** Process ids of the children started so far. */
  private pids(): number[] {
    return this.children.map((c) => c.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  /**
   * Start a child: `wirelab ARGS --json --quiet`, or a lab script (`extra.entry`, its own arguments
   * as given). Its unexpected exit is a `failed` event.
   */
  private spawn(label: string, args: string[], where?: Place, extra: { entry?: string[]; own?: boolean; stdin?: boolean } = {}): WirelabProcess {
    const argv = extra.own ? args : [...args, '--json', '--quiet'];
    // detached: a terminal's Ctrl-C or hangup reaches the demo alone, which then stops its children in order
    const child = WirelabProcess.start(argv, { label, keep: false, detached: true, entry: extra.entry, stdin: extra.stdin, ...where });
    this.reaper.process(child.child.pid);
    child.on('exit', ({ code, stderrTail }) => {
      if (!this.closing) this.emit('failed', { label, reason: `exited with code ${code}: ${stderrTail.trim().split('\n').at(-1) ?? ''}` });
    });
    this.children.push(child);
    return child;
  }

  /** Stop every process (the chat clients first, so that they say goodbye), remove the namespaces and files. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    const bots = this.children.filter((c) => c.label.startsWith('chat client'));
    await Promise.all(bots.map((c) => c.stop()));
    await Promise.all(this.children.map((c) => c.stop()));
    this.order.flush();
    await this.relay?.close();
    this.relay = undefined;
    process.removeListener('exit', this.killChildren);
    await this.lab?.destroy();
    this.lab = undefined;
    this.files?.remove();
    await this.reaper.close();
  }
}

export type { WirelabEvent };
