/**
 * Gossip benchmark: `node --expose-gc --import tsx bench/gossip.ts [--sizes 40,200,1000] [--stall 40,200] [--ids 200]`.
 *
 * All seeds and peers of one network run in ONE process (one event loop, real TCP on loopback), so
 * every figure includes the cost of 3 seeds and N peers sharing a core. Only the stall experiment
 * (--stall SIZES) runs the stalled peers (10%) as separate processes: a stalled event loop must not
 * stall the others. Prints, per size: spread time to 100% of live peers (p50/p99 over messages),
 * duplicates per peer per message (tree, and announce-only and plain flooding as references),
 * failure detection time with a 1 s liveness interval, memory and liveness traffic per peer; in
 * brackets beside each, what epidemic theory predicts for the same overlay. `--ids SIZES`: N peers
 * joining 3 seeds that agree ids over TCP (as separate `gossip seed --config` processes do) against
 * 3 seeds numbering on their own (the reference: what separate processes did before issue 14).
 */
import { performance } from 'node:perf_hooks';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdAllocator, Peer, Seed, countComponents, encodeFrame, endpointKey, formatMessage, type Endpoint } from '../src/gossip/index.js';
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
      // retryJoin: under heavy load a registration (now proved by a connect-back) may time out; the bench measures spread, not joins.
      const p = new Peer({ seeds: endpoints, livenessIntervalMs: LIVENESS_MS, misses: MISSES, autoGossip: false, dissemination, random, retryJoin: true });
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

/** Publish one message from `origin` and wait until every other peer has it; arrival times (ms). */
async function oneMessage(peers: Peer[], origin: Peer, arrivals: Map<string, number[]>): Promise<{ t0: number; list: number[]; all: boolean }> {
  const list: number[] = [];
  const t0 = performance.now();
  // The origin's own first sight fires inside publish(), before the map entry exists.
  arrivals.set(origin.publish(), list);
  const all = await until(() => list.length >= peers.length - 1, 10_000);
  return { t0, list, all };
}

/**
 * `origins` random peers publish `rounds` messages each, one message at a time; each is timed until
 * every peer has it. Round 0 is each origin's first message (its tree is not built yet).
 * A warm-up message from a peer that is not an origin goes first, so that the first measured
 * message does not pay for V8 compiling the gossip path of every peer (one process holds them all).
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
  const speakers = Array.from({ length: origins }, () => peers[1 + Math.floor(random() * (peers.length - 1))]!);
  await oneMessage(peers, peers[0]!, arrivals);
  await sleep(500);
  const dupsBefore = peers.reduce((s, p) => s + p.stats().duplicates, 0);
  const out: Spread = { first: [], warm: [], delivery: [], reachedAll: 0, messages: 0, dupsPerPeerPerMsg: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const origin of speakers) {
      const { t0, list, all } = await oneMessage(peers, origin, arrivals);
      if (all) out.reachedAll++;
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

/** Liveness frames and bytes sent per peer per second over `windowMs`, from the peers' counters. */
async function livenessTraffic(peers: Peer[], windowMs: number): Promise<{ frames: number; bytes: number }> {
  const total = (): { frames: number; bytes: number } =>
    peers.reduce((t, p) => ({ frames: t.frames + p.stats().livenessFrames, bytes: t.bytes + p.stats().livenessBytes }), { frames: 0, bytes: 0 });
  const before = total();
  const t0 = performance.now();
  await sleep(windowMs);
  const after = total();
  const perPeerSecond = peers.length * ((performance.now() - t0) / 1000);
  return { frames: (after.frames - before.frames) / perPeerSecond, bytes: (after.bytes - before.bytes) / perPeerSecond };
}

function graphOf(peers: Peer[]): Map<string, string[]> {
  return new Map(peers.map((p) => [p.key, p.neighbours()]));
}

/** Bytes of one liveness request and one reply on the wire (frame header included), for the theory. */
function livenessFrameBytes(): number {
  const a = { host: '127.0.0.1', port: 40000 };
  const b = { host: '127.0.0.1', port: 40001 };
  const request = encodeFrame(formatMessage({ type: 'liveness-request', timestamp: Date.now(), peer: a })).length;
  const reply = encodeFrame(formatMessage({ type: 'liveness-reply', timestamp: Date.now(), peer: a, replier: b })).length;
  return (request + reply) / 2;
}

interface SizeFigures {
  n: number;
  buildS: number;
  components: number;
  degrees: number[];
  spread: Spread;
  ecc: number;
  det: { times: number[]; wrong: number };
  heapKiB: number;
  liveness: { frames: number; bytes: number };
  reference: Record<string, string>;
}

/** Reference runs on fresh networks of the same size: announce-only, and (up to 200) plain flooding. */
async function references(n: number): Promise<Record<string, string>> {
  const reference: Record<string, string> = {};
  for (const mode of n <= 200 ? (['announce', 'flood'] as const) : (['announce'] as const)) {
    const other = await build(n, mode);
    const r = await spread(other.peers, 10, 2);
    reference[mode] = `${r.dupsPerPeerPerMsg.toFixed(2)} dups, p99 ${pct([...r.first, ...r.warm], 99).toFixed(0)} ms`;
    await other.close();
  }
  return reference;
}

async function measureSize(n: number): Promise<SizeFigures> {
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const net = await build(n, 'tree');
  const buildS = (performance.now() - t0) / 1000;
  globalThis.gc?.();
  const heapKiB = (process.memoryUsage().heapUsed - heap0) / n / 1024;
  const graph = graphOf(net.peers);
  const degrees = net.peers.map((p) => p.neighbours().length);
  const liveness = await livenessTraffic(net.peers, 5000);
  const s = await spread(net.peers, 10, 4);
  const ecc = Math.max(...net.peers.slice(0, 10).map((p) => eccentricity(graph, p.key)));
  const det = await detection(net, Math.max(2, Math.round(n / 100)));
  await net.close();
  return { n, buildS, components: countComponents(graph), degrees, spread: s, ecc, det, heapKiB, liveness, reference: await references(n) };
}

const p5099 = (xs: number[], digits = 0): string => `${pct(xs, 50).toFixed(digits)}/${pct(xs, 99).toFixed(digits)}`;

/**
 * One column of the table; [brackets] hold what theory predicts for the same overlay: a flood or a
 * tree needs as many hops as the overlay's eccentricity (a random graph of that degree:
 * ln N / ln(d - 1)); random push gossip needs log2 N + ln N rounds (Pittel 1987); a spanning tree
 * delivers each message exactly once and flooding costs d - 2 duplicates per peer; detection takes
 * `misses` to `misses + 1` intervals; liveness costs a request and a reply per link per interval.
 */
function sizeRows(f: SizeFigures): Record<string, string> {
  const avgDeg = f.degrees.reduce((a, b) => a + b, 0) / f.n;
  const s = f.spread;
  const hopMs = pct([...s.first, ...s.warm], 50) / f.ecc;
  const livenessFrames = (2 * avgDeg * 1000) / LIVENESS_MS;
  return {
    N: String(f.n),
    'build s': f.buildS.toFixed(1),
    'components [1]': String(f.components),
    'deg avg/max': `${avgDeg.toFixed(2)}/${Math.max(...f.degrees)}`,
    'reached 100% [all]': `${s.reachedAll}/${s.messages}`,
    'to 100% first msg p50/p99 ms': p5099(s.first),
    'to 100% later p50/p99 ms': p5099(s.warm),
    'delivery later p50/p99 ms': p5099(s.delivery),
    'hops: ecc [ln N/ln(d-1); push]': `${f.ecc} [${(Math.log(f.n) / Math.log(Math.max(1.01, avgDeg - 1))).toFixed(1)}; ${(Math.log2(f.n) + Math.log(f.n)).toFixed(1)}]`,
    'ms per hop (p50 / ecc)': hopMs.toFixed(1),
    'dups/peer/msg tree [0]': s.dupsPerPeerPerMsg.toFixed(3),
    'ref: announce [0 dups]': f.reference.announce ?? 'n/a',
    'ref: flood [d-2 dups]': `${f.reference.flood ?? 'n/a'} [${(avgDeg - 2).toFixed(2)}]`,
    'detect p50/p99 ms [3000-4000]': `${p5099(f.det.times)} (${f.det.times.length} killed)`,
    'wrong removals [0]': String(f.det.wrong),
    'heap KiB/peer [flat]': f.heapKiB.toFixed(1),
    'liveness frames/s/peer [2d/I]': `${f.liveness.frames.toFixed(2)} [${livenessFrames.toFixed(2)}]`,
    'liveness B/s/peer [x frame B]': `${f.liveness.bytes.toFixed(0)} [${(livenessFrames * livenessFrameBytes()).toFixed(0)}]`,
    'liveness B/s/link': ((f.liveness.bytes * 2) / avgDeg).toFixed(1),
  };
}

/** Start the stalled peers as separate processes, 20 at a time; resolves with each and its key. */
async function startStalled(count: number, config: string): Promise<{ proc: WirelabProcess; key: string }[]> {
  const out: { proc: WirelabProcess; key: string }[] = [];
  for (let i = 0; i < count; i += 20) {
    const batch = Array.from({ length: Math.min(20, count - i) }, () =>
      WirelabProcess.start(
        ['gossip', 'peer', '--config', config, '--json', '--liveness-interval', `${LIVENESS_MS}ms`, '--misses', String(MISSES),
          '--gossip-interval', '10m', '--stall-on-sigusr2', '2s'],
        { keep: false },
      ),
    );
    const joined = await Promise.all(batch.map((proc) => proc.waitFor((e) => e.event === 'joined', 120_000)));
    out.push(...batch.map((proc, j) => ({ proc, key: String(joined[j]!.peer) })));
  }
  return out;
}

/**
 * 10% of peers (separate processes) block their event loop for 2 s every 2.5 s while one raw
 * connection reports a live peer dead to one seed every 2.5 s (a stalled one every other time); count
 * removals.
 */
async function stallRun(n: number): Promise<Record<string, string>> {
  const seeds = [0, 1, 2].map(() => new Seed({ port: 0, confirmTimeoutMs: LIVENESS_MS * MISSES }));
  await Promise.all(seeds.map((s) => s.start()));
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-gossip-bench-'));
  const config = join(dir, 'seeds.txt');
  await writeFile(config, seeds.map((s) => endpointKey(s.address())).join('\n'));
  const stalled = await startStalled(Math.max(1, Math.round(n / 10)), config);
  const net = await build(n - stalled.length, 'tree', seeds.map((s) => s.address()));
  const counts = { removed: 0, liesRefused: 0, honestReports: 0, lies: 0, liesAboutHeld: 0 };
  for (const s of seeds) {
    s.on('removed', () => counts.removed++);
    s.on('refused', (r) => (r.reporter === LIAR ? counts.liesRefused++ : counts.honestReports++));
  }
  const liar = connect({ port: seeds[0]!.address().port, host: '127.0.0.1', localAddress: LIAR }); // a report names its source
  const end = Date.now() + 20_000;
  for (let round = 0; Date.now() < end; round++) {
    for (const { proc } of stalled) proc.child.kill('SIGUSR2');
    const victim = round % 2 === 0 ? net.peers[Math.floor(random() * net.peers.length)]!.endpoint : hostPort(stalled[round % stalled.length]!.key);
    liar.write(encodeFrame(formatMessage({ type: 'dead-node', peer: victim, timestamp: Date.now(), reporter: LIAR })));
    counts.lies++;
    if (seeds[0]!.has(endpointKey(victim))) counts.liesAboutHeld++; // else that seed has nothing to remove
    await sleep(2500);
  }
  await sleep(LIVENESS_MS * MISSES + 500); // the last lies' confirmations run out
  const peerReports = net.peers.reduce((sum, p) => sum + p.stats().deadReported, 0);
  liar.destroy();
  await Promise.all(stalled.map(({ proc }) => proc.stop('SIGKILL')));
  await net.close();
  await Promise.all(seeds.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
  return {
    N: String(n),
    'stalled processes (2 s every 2.5 s)': String(stalled.length),
    'false removals [0]': String(counts.removed),
    'lies sent / about peers it holds / refused': `${counts.lies} / ${counts.liesAboutHeld} / ${counts.liesRefused}`,
    'Dead Node reports by in-process peers': String(peerReports),
    'honest reports refused': String(counts.honestReports),
  };
}

type IdMode = 'own' | 'agree' | 'shared';
const ID_MODES: Record<IdMode, string> = { own: '3 on their own (ref)', agree: '3 agreeing ids', shared: '3 sharing 1 space' };

/**
 * N peers join (batches of 20 at once) 3 seeds that number on their own (the reference), agree ids
 * over TCP, or share one allocator in memory (as `gossip seeds`); join time and the CPU of the whole
 * process (seeds and peers), and what the seeds handed out.
 */
async function idRun(n: number, mode: IdMode): Promise<Record<string, string>> {
  const shared = new IdAllocator();
  const seeds = [0, 1, 2].map((i) => new Seed({ port: 0, ids: mode === 'shared' ? shared : new IdAllocator(mode === 'agree' ? i : 0, mode === 'agree' ? 3 : 1) }));
  await Promise.all(seeds.map((s) => s.start()));
  const endpoints = seeds.map((s) => s.address());
  if (mode === 'agree') seeds.forEach((s, i) => s.agreeIdsWith(endpoints.filter((_, j) => j !== i)));
  const peers: Peer[] = [];
  try {
    return await joinAndCount(n, mode, seeds, peers);
  } finally {
    await Promise.all(peers.map((p) => p.close()));
    await Promise.all(seeds.map((s) => s.close()));
  }
}

async function joinAndCount(n: number, mode: IdMode, seeds: Seed[], peers: Peer[]): Promise<Record<string, string>> {
  const endpoints = seeds.map((s) => s.address());
  const joinMs: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i += 20) {
    const batch = Array.from({ length: Math.min(20, n - i) }, () => new Peer({ seeds: endpoints, autoGossip: false, random, retryJoin: true }));
    peers.push(...batch);
    await Promise.all(batch.map(async (p) => {
      const t = performance.now();
      await p.start();
      joinMs.push(performance.now() - t);
    }));
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const given = peers.map((p) => new Set(seeds.map((s) => s.idOf(p.key)).filter((id) => id !== undefined)));
  const owners = new Map<number, Set<string>>();
  peers.forEach((p, i) => given[i]!.forEach((id) => owners.set(id, (owners.get(id) ?? new Set()).add(p.key))));
  const maxId = Math.max(...peers.map((p) => p.id));
  return {
    seeds: ID_MODES[mode],
    peers: String(n),
    'join all, s': (wall / 1000).toFixed(2),
    'CPU of the process, s': ((cpu.user + cpu.system) / 1e6).toFixed(2),
    'one join p50/p99, ms': `${pct(joinMs, 50).toFixed(0)}/${pct(joinMs, 99).toFixed(0)}`,
    'peers given 2 ids [0]': String(given.filter((g) => g.size > 1).length),
    'ids held by 2+ peers [0]': String([...owners.values()].filter((o) => o.size > 1).length),
    'largest id [N-1 .. 2(N-1)]': String(maxId),
    'capacity sum [as one space]': String(peers.reduce((sum, p) => sum + (p.policy?.capacity ?? 0), 0)),
  };
}

const LIAR = '127.0.0.66';

function hostPort(key: string): Endpoint {
  const [host, port] = key.split(':');
  return { host: host!, port: Number(port) };
}

function table(rows: Record<string, string>[]): string {
  const keys = Object.keys(rows[0] ?? {});
  return keys.map((k) => `${k.padEnd(36)} ${rows.map((r) => (r[k] ?? '').padStart(28)).join(' ')}`).join('\n');
}

function sizesArg(args: string[], flag: string, fallback: number[]): number[] {
  const i = args.indexOf(flag);
  const value = i >= 0 ? args[i + 1] : undefined;
  return value && !value.startsWith('--') ? value.split(',').map(Number) : fallback;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rows: Record<string, string>[] = [];
  const only = args.includes('--stall') || args.includes('--ids');
  const sizes = args.includes('--sizes') ? sizesArg(args, '--sizes', [40, 200, 1000]) : only ? [] : [40, 200, 1000];
  for (const n of sizes) {
    process.stderr.write(`running N=${n} ...\n`);
    rows.push(sizeRows(await measureSize(n)));
  }
  if (rows.length > 0) process.stdout.write(`gossip, one process, loopback, liveness ${LIVENESS_MS} ms x ${MISSES} misses; [theory]\n${table(rows)}\n`);
  if (args.includes('--ids')) {
    const idRows: Record<string, string>[] = [];
    for (const n of sizesArg(args, '--ids', [200])) {
      process.stderr.write(`running ids N=${n} ...\n`);
      for (const mode of ['own', 'agree', 'shared', 'shared', 'agree', 'own'] as const) idRows.push(await idRun(n, mode));
    }
    process.stdout.write(`\nids: seeds on their own (reference), agreeing over TCP, sharing one space in memory (ABCCBA order)\n${table(idRows)}\n`);
  }
  if (!args.includes('--stall')) return;
  const stallRows: Record<string, string>[] = [];
  for (const n of sizesArg(args, '--stall', [40])) {
    process.stderr.write(`running stall N=${n} ...\n`);
    stallRows.push(await stallRun(n));
  }
  process.stdout.write(`\nstalls and a liar (stalled peers in separate processes, the rest in this one)\n${table(stallRows)}\n`);
}

await main();
