/**
 * The demo's systems, each started as real child processes and read through their NDJSON events:
 * broadcast (a master and four nodes), gossip (three seeds and a swarm of twenty peers) and chat (the
 * server and three scripted clients, src/lab/chat-bot.ts). In namespaces each role has its own host
 * and the well-known ports; on loopback the well-known ports when free (so the analyzer names the
 * protocols), else any.
 */
import type { Lab } from './hosts.js';
import type { CausalOrder } from './causal-order.js';
import type { WirelabEvent, WirelabProcess } from './processes.js';
import type { DemoChat, DemoGossip, DemoReceived, DemoReport, DemoSent } from './demo-events.js';
import type { LatencySummary } from '../common/format.js';
import { freePort } from '../common/net.js';
import { preferPort, QUIZ, type DemoFiles } from './demo-setup.js';
import { scriptEntry } from './scripts.js';
import type { BotRole } from './chat-bot.js';

export const DEMO_NODES = ['node1', 'node2', 'node3', 'node4'];
export const DEMO_SEEDS = ['seed1', 'seed2', 'seed3'];
export const DEMO_PEERS = 20;
/** the scripted chat clients and what each does */
export const DEMO_BOTS: { name: string; role: BotRole }[] = [
  { name: 'alice', role: 'talk' },
  { name: 'bob', role: 'file' },
  { name: 'carol', role: 'quiz' },
];
const LOOPBACK_BROADCAST = '127.255.255.255';
const BROADCAST_PORT = 12345;
const SEED_PORT = 7000;
/** the chat server's usual port (seed 003) */
export const DEFAULT_CHAT_PORT = 10000;
/** gossip messages remembered while they spread (a bounded map) */
const MAX_TRACKED_GOSSIP = 1000;

export type Place = { lab: Lab; host: string };

export interface SystemContext {
  lab: Lab | undefined;
  files: DemoFiles;
  spawn(label: string, args: string[], where?: Place, extra?: { entry?: string[]; own?: boolean; stdin?: boolean }): WirelabProcess;
  order: CausalOrder<DemoSent, DemoReceived, DemoReport>;
  gossip(e: DemoGossip): void;
  chat(e: DemoChat): void;
  startTimeoutMs: number;
  intervalMs: number;
  message: string;
  /** the chat server's port (0: any free port, read from its listening event) */
  chatPort: number;
}

/** An event's `time` field (epoch seconds), or now when a child sent none. */
function eventTime(e: WirelabEvent): number {
  return typeof e.time === 'number' ? e.time : Date.now() / 1000;
}

function place(ctx: SystemContext, host: string): Place | undefined {
  return ctx.lab ? { lab: ctx.lab, host } : undefined;
}

function address(ctx: SystemContext, host: string): string {
  return ctx.lab ? ctx.lab.host(host).address : '127.0.0.1';
}

/** Four nodes (awaited until listening), then the master. */
export async function startBroadcast(ctx: SystemContext): Promise<{ target: string }> {
  const port = ctx.lab ? BROADCAST_PORT : await preferPort('udp', BROADCAST_PORT);
  const portArgs = ctx.lab ? [] : ['--port', String(port)];
  await Promise.all(
    DEMO_NODES.map(async (name) => {
      const node = ctx.spawn(name, ['broadcast', 'node', '--name', name, ...portArgs], place(ctx, name));
      node.on('event', (e) => {
        if (e.event !== 'message') return;
        ctx.order.received({ node: name, seq: Number(e.seq), text: String(e.text), latencyUs: e.latencyUs as number | undefined, time: eventTime(e) });
      });
      await node.waitFor((e) => e.event === 'listening', ctx.startTimeoutMs, `${name} listening`);
    }),
  );
  const target = ctx.lab ? `${ctx.lab.host('master').broadcast}:${port}` : `${LOOPBACK_BROADCAST}:${port}`;
  const master = ctx.spawn(
    'master',
    [
      'broadcast', 'master', '--name', 'master', '--count', '0', '--interval', `${ctx.intervalMs}ms`, '--message', ctx.message,
      '--expect', String(DEMO_NODES.length), ...(ctx.lab ? [] : ['--to', LOOPBACK_BROADCAST, ...portArgs]),
    ],
    place(ctx, 'master'),
  );
  master.on('event', (e) => {
    if (e.event === 'sent') ctx.order.sent({ seq: Number(e.seq), target: String(e.target), time: eventTime(e) });
    if (e.event === 'report') {
      ctx.order.report({ seq: Number(e.seq), delivered: Number(e.delivered), nodes: e.nodes as string[], rtt: e.rtt as LatencySummary | undefined, time: eventTime(e) });
    }
  });
  return { target };
}

/**
 * Three seeds, each its own process listed in one seed list (so that they agree peer ids: docs/gossip.md),
 * awaited until listening; then the swarm of peers (its settling is an event).
 */
export async function startGossip(ctx: SystemContext): Promise<{ seeds: string[]; peers: { count: number; address: string } }> {
  // on loopback the ports are chosen first: every seed must find itself in the list it is started with
  const listed = await Promise.all(DEMO_SEEDS.map(async (name) => ({ address: address(ctx, name), port: ctx.lab ? SEED_PORT : await freePort('tcp') })));
  ctx.files.writeSeeds(listed);
  const seeds = await Promise.all(
    DEMO_SEEDS.map(async (name, i) => {
      const args = ['--host', listed[i]!.address, '--port', String(listed[i]!.port), '--config', ctx.files.seedsFile];
      const seed = ctx.spawn(name, ['gossip', 'seed', ...args], place(ctx, name));
      const listening = await seed.waitFor((e) => e.event === 'listening', ctx.startTimeoutMs, `${name} listening`);
      return String(listening.seed);
    }),
  );
  const peersAt = address(ctx, 'peers');
  const swarm = ctx.spawn(
    'peers',
    [
      'gossip', 'swarm', '--peers', String(DEMO_PEERS), '--config', ctx.files.seedsFile, '--host', peersAt,
      '--gossip-interval', '2s', '--messages', '5', '--liveness-interval', '5s',
    ],
    place(ctx, 'peers'),
  );
  const reached = new Map<string, Set<string>>();
  const rounds = new Map<string, number>();
  swarm.on('event', (e) => {
    if (e.event === 'settled') {
      ctx.gossip({ kind: 'settled', text: `${String(e.peers)} peers settled: ${String(e.links)} links, ${String(e.components)} component(s)`, time: eventTime(e) });
    }
    if (e.event !== 'gossip') return;
    const key = `${String(e.origin)} ${String(e.text)}`;
    let peers = reached.get(key);
    if (!peers) {
      if (reached.size >= MAX_TRACKED_GOSSIP) reached.delete(reached.keys().next().value!);
      reached.set(key, (peers = new Set()));
    }
    peers.add(String(e.peer));
    if (peers.size !== DEMO_PEERS) return;
    reached.delete(key);
    // one line per round of the peers' own messages (their text ends in ':N'), not one per message
    const round = /:(\d+)$/.exec(String(e.text))?.[1] ?? '?';
    const done = (rounds.get(round) ?? 0) + 1;
    rounds.set(round, done);
    if (rounds.size > MAX_TRACKED_GOSSIP) rounds.delete(rounds.keys().next().value!);
    if (done === DEMO_PEERS) ctx.gossip({ kind: 'spread', text: `round ${round}: each of the ${DEMO_PEERS} peers' messages reached all ${DEMO_PEERS} peers`, time: eventTime(e) });
  });
  return { seeds, peers: { count: DEMO_PEERS, address: peersAt } };
}

/** What one server event says, for the demo's line (null: not shown). */
function serverLine(e: WirelabEvent): string | null {
  switch (e.event) {
    case 'file':
      return `received file ${String(e.name)} (${String(e.size)} bytes) from ${String(e.from)}`;
    case 'quiz-started':
      return `quiz of ${String(e.questions)} questions sent to ${(e.participants as string[]).join(', ')}`;
    case 'quiz-ended':
      return `quiz over: ${(e.scores as { user: string; score: number }[]).map((s) => `${s.user} ${s.score}/${String(e.total)}`).join(', ')}`;
    case 'console-error':
      return `console: ${String(e.text)}`;
    default:
      return null;
  }
}

/** The chat server (awaited until listening), the three clients (awaited until joined); `go` starts the quiz. */
export async function startChat(ctx: SystemContext): Promise<{ server: string; clients: string[]; go: () => void }> {
  const host = address(ctx, 'chat');
  // on loopback the usual port may be taken (another demo, a chat server of the user's): then any free one
  const wanted = ctx.lab || ctx.chatPort === 0 ? ctx.chatPort : await preferPort('tcp', ctx.chatPort);
  const args = ['chat', 'server', '--host', host, '--port', String(wanted), '--data', ctx.files.chatData, '--quiz-time', '20s'];
  const server = ctx.spawn('chat server', args, place(ctx, 'chat'), { stdin: true });
  server.on('event', (e) => {
    const line = serverLine(e);
    if (line !== null) ctx.chat({ who: 'server', what: e.event, text: line, time: eventTime(e) });
  });
  const listening = await server.waitFor((e) => e.event === 'listening', ctx.startTimeoutMs, 'the chat server listening');
  const port = typeof listening.port === 'number' ? listening.port : wanted;
  const bots = DEMO_BOTS.map(({ name, role }) => {
    const botArgs = ['--host', host, '--port', String(port), '--name', name, '--role', role, '--dir', ctx.files.dir, '--answers', QUIZ.answers];
    const bot = ctx.spawn(`chat client ${name}`, botArgs, place(ctx, name), { entry: scriptEntry('chat-bot'), own: true });
    bot.on('event', (e) => {
      if (e.event === 'heard' || e.event === 'closed') return;
      const text = e.event === 'said' ? `says '${String(e.text)}'` : e.event === 'file-sent' ? `sent ${String(e.file)} (${String(e.size)} bytes) to the server` : e.event === 'quiz-answered' ? `answered the quiz: ${String(e.answer)}` : e.event === 'quiz-results' ? String(e.text).replaceAll('\n', ' ').trim() : e.event;
      ctx.chat({ who: name, what: e.event, text, time: eventTime(e) });
    });
    return bot;
  });
  // waiters made now, before any of it can happen (the children's events are not kept)
  const fileSent = bots[1]!.waitFor((e) => e.event === 'file-sent', ctx.startTimeoutMs, 'the file sent').catch(() => undefined);
  await Promise.all(bots.map((b) => b.waitFor((e) => e.event === 'joined', ctx.startTimeoutMs, `${b.label} joined`)));
  return {
    server: `${host}:${port}`,
    clients: DEMO_BOTS.map((b) => b.name),
    go: () => void fileSent.then(() => server.writeLine(ctx.files.quizCommand)),
  };
}
