/**
 * Gossip benchmark: `node --import tsx bench/gossip.ts [--sizes 40,200,1000] [--stall]`.
 *
 * All seeds and peers of one network run in ONE process (one event loop, real TCP on loopback), so
 * every figure includes the cost of 3 seeds and N peers sharing a core. Only the stall experiment
 * (--stall, at the smallest size) uses separate processes: a stalled event loop must not stall the
 * others. Prints, per size: spread time to 100% of live peers (p50/p99 over messages), duplicates per
 * peer per message (announce-then-pull, and plain flooding as the reference), failure detection time
 * with a 1 s liveness interval, memory and liveness traffic per peer, beside what epidemic theory
 * predicts for the same overlay.
 */
import { performance } from 'node:perf_hooks';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Peer, Seed, countComponents, encodeFrame, endpointKey, formatMessage, type Endpoint } from '../src/gossip/index.js';
import { WirelabProcess } from '../test/helpers/process.js';
import { mulberry32 } from '../test/integration/gossip/helpers.js';

const LIVENESS_MS = 1000;
const MISSES = 3;
const random = mulberry32(2026);

interface Net {
  seeds: Seed[];
  peers: Peer[];
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** 3 seeds and n peers, started in small concurrent batches, then left to settle. */
async function build(n: number, dissemination: 'tree' | 'announce' | 'flood', seedList?: Endpoint[]): Promise<Net> {
  const seeds = seedList ? [] : [0, 1, 2].map(() => new Seed({ port: 0, confirmTimeoutMs: LIVENESS_MS * MISSES }));
  await Promise.all(seeds.map((s) => s.start()));
  const endpoints = seedList ?? seeds.map((s) => s.address());
  const peers: Peer[] = [];
  let lastChange = Date.now();
  for (let i = 0; i < n; i += 20) {
    const batch = Array.from({ length: Math.min(20, n - i) }, () => {
      const p = new Peer({ seeds: endpoints, livenessIntervalMs: LIVENESS_MS, misses: MISSES, autoGossip: false, dissemination, random });
      p.on('neighbour', () => (lastChange = Date.now()));
      return p;
    });
    peers.push(...batch);
    await Promise.all(batch.map((p) => p.start()));
  }
  await until(() => Date.now() - lastChange > 1500, 60_000);
  return {
    seeds,
    peers,
    close: async () => {
      await Promise.all(peers.map((p) => p.close()));
      await Promise.all(seeds.map((s) => s.close()));
    },
  };
}

/** Hops from `from` to the farthest peer (BFS eccentricity): rounds a flood needs. */
function eccentricity(graph: Map<string, string[]>, from: string): number {
  const dist = new Map([[from, 0]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    for (const next of graph.get(queue[i]!) ?? []) {
      if (!dist.has(next)) {
        dist.set(next, dist.get(queue[i]!)! + 1);
        queue.push(next);
      }
    }
  }
  return Math.max(...dist.values());
}

interface Spread {
  /** per message: ms until every live peer had it; first message of each origin, then the rest */
  first: number[];
  warm: number[];
  /** per delivery: ms from publish to a peer's first sight (warm messages) */
  delivery: number[];
  reachedAll: number;
  messages: number;
  dupsPerPeerPerMsg: number;
}

/**
 * `origins` random peers publish `rounds` messages each, one message at a time; each is timed until
 * every peer has it. In tree mode an origin's first message builds its tree by pulling; the later
 * ones ride it.
 */
async function spread(peers: Peer[], origins: number, rounds: number): Promise<Spread> {
  const arrivals = new Map<string, number[]>();
  const listeners = peers.map((p) => {
    const f = (g: { text: string }): void => {
      arrivals.get(g.text)?.push(performance.now());
    };
    p.on('gossip', f);
    return () => p.off('gossip', f);
  });
  const dupsBefore = peers.reduce((s, p) => s + p.stats().duplicates, 0);
  const speakers = Array.from({ length: origins }, () => peers[Math.floor(random() * peers.length)]!);
  const out: Spread = { first: [], warm: [], delivery: [], reachedAll: 0, messages: 0, dupsPerPeerPerMsg: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const origin of speakers) {
      const list: number[] = [];
      const t0 = performance.now();
      // The origin's own first sight fires inside publish(), before the map entry exists.
      arrivals.set(origin.publish(), list);
      if (await until(() => list.length >= peers.length - 1, 10_000)) out.reachedAll++;
      out.messages++;
      (round === 0 ? out.first : out.warm).push(Math.max(...list) - t0);
      if (round > 0) out.delivery.push(...list.map((t) => t - t0));
    }
  }
  await sleep(1000); // let late duplicates (pulls after the 250 ms timeout) land before counting
  for (const off of listeners) off();
  out.dupsPerPeerPerMsg = (peers.reduce((s, p) => s + p.stats().duplicates, 0) - dupsBefore) / peers.length / out.messages;
  return out;
}

/** Close `k` peers at once (their sockets close as a killed process's would) and time their removal. */
async function detection(net: Net, k: number): Promise<{ times: number[]; wrong: number }> {
  const victims = new Set<Peer>();
  while (victims.size < k) victims.add(net.peers[1 + Math.floor(random() * (net.peers.length - 1))]!);
  const keys = new Set([...victims].map((p) => p.key));
  const removedAt = new Map<string, number>();
  let wrong = 0;
  for (const s of net.seeds) {
    s.on('removed', (r) => {
      if (!keys.has(r.peer)) wrong++;
      else if (net.seeds.every((x) => !x.has(r.peer))) removedAt.set(r.peer, performance.now());
    });
  }
  const t0 = performance.now();
  await Promise.all([...victims].map((p) => p.close()));
  await until(() => removedAt.size === k, 30_000);
  net.peers = net.peers.filter((p) => !victims.has(p));
  return { times: [...removedAt.values()].map((t) => t - t0), wrong };
}

function graphOf(peers: Peer[]): Map<string, string[]> {
  return new Map(peers.map((p) => [p.key, p.neighbours()]));
}

async function sizeRun(n: number): Promise<Record<string, string>> {
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const net = await build(n, 'tree');
  const buildS = (performance.now() - t0) / 1000;
  globalThis.gc?.();
  const heapPerPeer = (process.memoryUsage().heapUsed - heap0) / n / 1024;
  const graph = graphOf(net.peers);
  const degrees = net.peers.map((p) => p.neighbours().length);
  const avgDeg = degrees.reduce((a, b) => a + b, 0) / n;
  const live0 = net.peers.reduce((s, p) => s + p.stats().livenessBytes, 0);
  const w0 = performance.now();
  await sleep(5000);
  const livenessBps = (net.peers.reduce((s, p) => s + p.stats().livenessBytes, 0) - live0) / n / ((performance.now() - w0) / 1000);
  const a = await spread(net.peers, 10, 4);
  const ecc = net.peers.slice(0, 10).map((p) => eccentricity(graph, p.key));
  const det = await detection(net, Math.max(2, Math.round(n / 100)));
  await net.close();
  const reference: Record<string, string> = {};
  for (const mode of n <= 200 ? (['announce', 'flood'] as const) : (['announce'] as const)) {
    const other = await build(n, mode);
    const r = await spread(other.peers, 10, 2);
    reference[mode] = `${r.dupsPerPeerPerMsg.toFixed(2)} dups, p99 ${pct([...r.first, ...r.warm], 99).toFixed(0)} ms`;
    await other.close();
  }
  return {
    N: String(n),
    'build s': buildS.toFixed(1),
    components: String(countComponents(graph)),
    'deg avg/max': `${avgDeg.toFixed(2)}/${Math.max(...degrees)}`,
    'reached 100%': `${a.reachedAll}/${a.messages}`,
    'to 100% first msg p50/p99': `${pct(a.first, 50).toFixed(1)}/${pct(a.first, 99).toFixed(1)}`,
    'to 100% later p50/p99 ms': `${pct(a.warm, 50).toFixed(1)}/${pct(a.warm, 99).toFixed(1)}`,
    'delivery later p50/p99 ms': `${pct(a.delivery, 50).toFixed(1)}/${pct(a.delivery, 99).toFixed(1)}`,
    'hops: max ecc / ln N/ln(d-1)': `${Math.max(...ecc)} / ${(Math.log(n) / Math.log(Math.max(1.01, avgDeg - 1))).toFixed(1)}`,
    'dups/peer/msg tree': a.dupsPerPeerPerMsg.toFixed(3),
    'ref: announce': reference.announce ?? 'n/a',
    'ref: flood (theory d-2)': `${reference.flood ?? 'n/a'} (${(avgDeg - 2).toFixed(2)})`,
    'detect p50/p99 ms': `${pct(det.times, 50).toFixed(0)}/${pct(det.times, 99).toFixed(0)} (${det.times.length} killed)`,
    'wrong removals': String(det.wrong),
    'heap KiB/peer': heapPerPeer.toFixed(1),
    'liveness B/s/peer': livenessBps.toFixed(1),
  };
}

/** 10% of peers (separate processes) stall up to 2 s, one liar reports live peers dead; count removals. */
async function stallRun(n: number): Promise<Record<string, string>> {
  const seeds = [0, 1, 2].map(() => new Seed({ port: 0, confirmTimeoutMs: LIVENESS_MS * MISSES }));
  await Promise.all(seeds.map((s) => s.start()));
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-gossip-bench-'));
  const config = join(dir, 'seeds.txt');
  await writeFile(config, seeds.map((s) => endpointKey(s.address())).join('\n'));
  const stalled = Math.max(1, Math.round(n / 10));
  const procs = Array.from({ length: stalled }, () =>
    WirelabProcess.start(['gossip', 'peer', '--config', config, '--json', '--liveness-interval', String(LIVENESS_MS), '--misses', String(MISSES),
      '--gossip-interval', '600000', '--stall-on-sigusr2', '2000']),
  );
  await Promise.all(procs.map((p) => p.waitFor((e) => e.event === 'joined', 60_000)));
  const net = await build(n - stalled, 'tree', seeds.map((s) => s.address()));
  let removed = 0;
  let refused = 0;
  for (const s of seeds) {
    s.on('removed', () => removed++);
    s.on('refused', () => refused++);
  }
  const liar = connect(seeds[0]!.address().port, '127.0.0.1');
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    for (const p of procs) p.child.kill('SIGUSR2');
    const victim = net.peers[Math.floor(random() * net.peers.length)]!;
    liar.write(encodeFrame(formatMessage({ type: 'dead-node', peer: victim.endpoint, timestamp: Date.now(), reporter: '127.0.0.66' })));
    await sleep(2500);
  }
  liar.destroy();
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  await net.close();
  await Promise.all(seeds.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
  return { N: String(n), 'stalled (2 s, every 2.5 s)': String(stalled), 'false removals': String(removed), 'lies refused': String(refused) };
}

function table(rows: Record<string, string>[]): string {
  const keys = Object.keys(rows[0] ?? {});
  return keys.map((k) => `${k.padEnd(30)} ${rows.map((r) => (r[k] ?? '').padStart(26)).join(' ')}`).join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const sizesArg = args[args.indexOf('--sizes') + 1];
  const sizes = args.includes('--sizes') && sizesArg ? sizesArg.split(',').map(Number) : [40, 200, 1000];
  const rows: Record<string, string>[] = [];
  for (const n of sizes) {
    process.stderr.write(`running N=${n} ...\n`);
    rows.push(await sizeRun(n));
  }
  process.stdout.write(`gossip, one process, loopback, liveness ${LIVENESS_MS} ms x ${MISSES} misses\n${table(rows)}\n`);
  if (args.includes('--stall')) process.stdout.write(`\nstalls and a liar (peers in separate processes)\n${table([await stallRun(sizes[0]!)])}\n`);
}

await main();
