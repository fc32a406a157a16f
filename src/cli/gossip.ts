/**
 * `wirelab gossip`: seeds, peers, a swarm of peers, and the degree plot (seed 002, WhisperNet).
 * Thin shell: flags in, components from src/gossip, events out.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { WirelabError, fromSystemError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import {
  IdAllocator,
  LineLog,
  readKeyring,
  type Keyring,
  Peer,
  Seed,
  Swarm,
  attachPeerLogs,
  attachSeedLog,
  endpointKey,
  parseDegreeLog,
  parseEndpoint,
  readSeedConfig,
  renderDegreesSvg,
  renderPng,
  summarizeDegrees,
  type Endpoint,
  type PeerOptions,
  type DegreeSummary,
} from '../gossip/index.js';
import { escapeControl, plural } from '../common/format.js';
import { rejectWirelabOnlyFlags, runWhispernetPeer, runWhispernetSeeds } from './gossip-whispernet.js';
import { Output, addExamples, addOutputOptions, commandLogger, durationOption, positiveInt, portOption, untilStopped, type OutputOptions } from './shared.js';

interface CommonOptions extends OutputOptions {
  duration?: number;
  eventLog?: string;
  secretFile?: string;
}

interface PeerFlags extends CommonOptions {
  config: string;
  host: string;
  policy: 'power-law' | 'preferential';
  floor: number;
  gossipInterval: number;
  messages: number;
  livenessInterval: number;
  misses: number;
  dissemination: 'tree' | 'announce' | 'flood';
  degreeLog?: string;
  retryJoin?: boolean;
}

/** `--protocol whispernet`: the original WhisperNet's bare text (docs/whispernet.md). */
const protocolOption = (): Option =>
  new Option('--protocol <name>', "wire protocol: wirelab, or whispernet (the original's bare text)").choices(['wirelab', 'whispernet']).default('wirelab');
type Protocol = { protocol: 'wirelab' | 'whispernet' };

function addCommon(command: Command): Command {
  return command
    .addOption(durationOption('--duration <duration>', 'stop after this long (default: run until stopped)'))
    .option('--event-log <file>', "append events to FILE as 'timestamp:event' lines (the seed's outputfile.log)")
    .option('--secret-file <file>', 'network key: 32-byte keys (base64), one a line, the first used to send; every frame is encrypted and authenticated, strangers are refused');
}

/** The keyring of --secret-file, if given; a file others can read is warned about on stderr. */
async function keyringOf(flags: CommonOptions, logger: Logger): Promise<Keyring | undefined> {
  if (!flags.secretFile) return undefined;
  const { keyring, warning } = await readKeyring(flags.secretFile);
  if (warning) logger.warn({ path: flags.secretFile }, warning);
  return keyring;
}

function addPeerFlags(command: Command): Command {
  return addCommon(command)
    .requiredOption('--config <file>', 'seed list: one IP:PORT per line')
    .option('--host <ip>', 'IPv4 address to listen on and announce', '127.0.0.1')
    .addOption(new Option('--policy <name>', 'degree policy').choices(['power-law', 'preferential']).default('power-law'))
    .option('--floor <n>', 'least capacity of a peer', positiveInt('--floor'), 2)
    .addOption(durationOption('--gossip-interval <duration>', 'time between own messages', 5000))
    .option('--messages <n>', 'own messages in all', positiveInt('--messages'), 10)
    .addOption(durationOption('--liveness-interval <duration>', 'time between liveness checks of each neighbour', 13_000))
    .option('--misses <n>', 'missed checks before a neighbour is reported dead', positiveInt('--misses'), 3)
    .addOption(new Option('--dissemination <mode>', 'tree (Plumtree), announce (IHAVE/IWANT) or flood').choices(['tree', 'announce', 'flood']).default('tree'))
    .option('--degree-log <file>', "append 'peer=>degree' on each degree change (the seed's freqtrack.log)");
}

/** A log file that fails is reported once; the component keeps running without it. */
function logFailed(logger: Logger, path: string): (err: Error) => void {
  return (err) => logger.error({ err: err.message, path }, `cannot write ${path}; further lines are dropped`);
}

function peerOptions(flags: PeerFlags, seeds: Endpoint[], port: number, keyring?: Keyring): PeerOptions {
  return {
    keyring,
    host: flags.host,
    port,
    seeds,
    policy: flags.policy,
    floor: flags.floor,
    gossipIntervalMs: flags.gossipInterval,
    messages: flags.messages,
    livenessIntervalMs: flags.livenessInterval,
    misses: flags.misses,
    dissemination: flags.dissemination,
    retryJoin: flags.retryJoin,
  };
}

/** Print a peer's events: NDJSON with --json, readable lines otherwise. */
function reportPeer(out: Output, peer: Peer): void {
  peer.on('gossip', (g) =>
    out.event('gossip', { peer: peer.key, origin: g.origin, text: g.text, from: g.from, at: g.at }, `${peer.key} gossip ${escapeControl(g.text)} (from ${g.from ?? 'self'})`),
  );
  peer.on('neighbour', (n) =>
    out.event('neighbour', { peer: peer.key, neighbour: n.peer, change: n.change, degree: n.degree }, `${peer.key} ${n.change} ${n.peer}, degree ${n.degree}`),
  );
  peer.on('dead-reported', (d) => out.event('dead-reported', { peer: peer.key, dead: d.peer }, `${peer.key} reported Dead Node ${d.peer}`));
  peer.on('join-retry', (r) =>
    out.event('join-retry', { attempt: r.attempt, error: r.error, retryInMs: r.retryInMs }, `join attempt ${r.attempt} failed (${r.error}); retrying in ${r.retryInMs} ms`),
  );
}

function reportSeed(out: Output, seed: Seed): void {
  const self = (): string => endpointKey(seed.address());
  seed.on('registered', (r) => out.event('registered', { seed: self(), peer: r.peer, id: r.id }, `seed ${self()} registered ${r.peer} (id ${r.id})`));
  seed.on('removed', (r) => out.event('removed', { seed: self(), peer: r.peer, reporter: r.reporter }, `seed ${self()} removed ${r.peer}`));
  seed.on('refused', (r) => out.event('refused', { seed: self(), peer: r.peer, reporter: r.reporter }, `seed ${self()} refused a report about ${r.peer}`));
  seed.on('expired', (r) => out.event('expired', { seed: self(), peer: r.peer }, `seed ${self()} expired ${r.peer} (no longer answers)`));
}

/** A seed of a network whose seeds run as separate processes: its id space and the seeds it agrees ids with. */
interface SeedNetwork {
  ids: IdAllocator;
  otherSeeds: Endpoint[];
}

/**
 * `gossip seed --config`: the seed's line in the config (its `--listed-as`, default `--host:--port`)
 * numbers its id space; the other lines are the seeds it agrees ids with (docs/gossip.md).
 */
async function seedNetwork(flags: { config?: string; listedAs?: string; host: string; port: number }): Promise<SeedNetwork | undefined> {
  if (flags.config === undefined) return undefined;
  const all = await readSeedConfig(flags.config);
  let self: string;
  try {
    self = endpointKey(flags.listedAs === undefined ? { host: flags.host, port: flags.port } : parseEndpoint(flags.listedAs));
  } catch (err) {
    throw new WirelabError('E_USAGE', `--listed-as: ${(err as Error).message}`);
  }
  const index = all.findIndex((e) => endpointKey(e) === self);
  if (index < 0) {
    throw new WirelabError('E_CONFIG', `${self} is not listed in ${flags.config}: a seed given --config must be one of its lines (--listed-as IP:PORT if it listens elsewhere)`);
  }
  return { ids: new IdAllocator(index, all.length), otherSeeds: all.filter((_, i) => i !== index) };
}

async function runSeeds(endpoints: Endpoint[], flags: CommonOptions & { confirmTimeout?: number }, network?: SeedNetwork): Promise<void> {
  const out = new Output(flags);
  const logger = commandLogger(flags, 'gossip-seed');
  const keyring = await keyringOf(flags, logger);
  const eventLog = flags.eventLog ? new LineLog(flags.eventLog, logFailed(logger, flags.eventLog)) : undefined;
  // The seeds of one process share one id space: ids unique across them without asking each other.
  const ids = network?.ids ?? new IdAllocator();
  const seeds = endpoints.map((e) => new Seed({ host: e.host, port: e.port, confirmTimeoutMs: flags.confirmTimeout, ids, otherSeeds: network?.otherSeeds, keyring }, { logger }));
  try {
    for (const seed of seeds) {
      reportSeed(out, seed);
      if (eventLog) attachSeedLog(seed, eventLog);
      await seed.start();
      out.event('listening', { seed: endpointKey(seed.address()) }, `seed listening on ${endpointKey(seed.address())}`);
    }
    await untilStopped(flags.duration);
  } finally {
    await Promise.all(seeds.map((s) => s.close()));
    await eventLog?.close();
  }
}

/**
 * Test hook (hidden flag): on SIGUSR2 block the event loop for `ms`, as a peer stalled by a long GC
 * or a busy host would be. Atomics.wait blocks the thread without spinning a core.
 */
function installStall(ms: number | undefined): void {
  if (ms === undefined) return;
  process.on('SIGUSR2', () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  });
}

async function runPeer(flags: PeerFlags & { port: number; stallOnSigusr2?: number }): Promise<void> {
  const out = new Output(flags);
  const logger = commandLogger(flags, 'gossip-peer');
  const seeds = await readSeedConfig(flags.config);
  const keyring = await keyringOf(flags, logger);
  const eventLog = flags.eventLog ? new LineLog(flags.eventLog, logFailed(logger, flags.eventLog)) : undefined;
  const degreeLog = flags.degreeLog ? new LineLog(flags.degreeLog, logFailed(logger, flags.degreeLog)) : undefined;
  const peer = new Peer(peerOptions(flags, seeds, flags.port, keyring), { logger });
  reportPeer(out, peer);
  attachPeerLogs(peer, eventLog, degreeLog);
  installStall(flags.stallOnSigusr2);
  try {
    await peer.start();
    out.event('joined', { peer: peer.key, id: peer.id, capacity: peer.policy?.capacity, seeds: peer.seeds().map(endpointKey) }, `peer ${peer.key} joined as id ${peer.id}`);
    await untilStopped(flags.duration);
  } finally {
    await peer.close();
    await eventLog?.close();
    await degreeLog?.close();
  }
}

async function runSwarm(flags: PeerFlags & { peers: number; settleTimeout: number }): Promise<void> {
  const out = new Output(flags);
  const logger = commandLogger({ ...flags, quiet: flags.quiet === true || flags.verbose !== true }, 'gossip-swarm');
  const seeds = await readSeedConfig(flags.config);
  const keyring = await keyringOf(flags, logger);
  const eventLog = flags.eventLog ? new LineLog(flags.eventLog, logFailed(logger, flags.eventLog)) : undefined;
  const degreeLog = flags.degreeLog ? new LineLog(flags.degreeLog, logFailed(logger, flags.degreeLog)) : undefined;
  const swarm = new Swarm({ peers: flags.peers, peer: { ...peerOptions(flags, seeds, 0, keyring), autoGossip: false } }, { logger });
  const bar = process.stdout.isTTY && !flags.json ? new cliProgress.SingleBar({ format: 'peers {bar} {value}/{total}' }, cliProgress.Presets.shades_classic) : undefined;
  swarm.on('peer', (peer) => {
    if (flags.json) reportPeer(out, peer);
    attachPeerLogs(peer, eventLog, degreeLog);
  });
  swarm.on('progress', (p) => {
    bar?.update(p.started);
    out.event('progress', p);
  });
  try {
    bar?.start(flags.peers, 0);
    await swarm.start();
    bar?.stop();
    swarm.startGossip();
    const state = await swarm.settled(flags.settleTimeout);
    out.event('settled', { ...state }, `settled: ${plural(state.peers, 'peer')}, ${plural(state.links, 'link')}, ${plural(state.components, 'component')}, degree min ${state.minDegree} avg ${state.avgDegree.toFixed(2)} max ${state.maxDegree}`);
    await untilStopped(flags.duration);
  } finally {
    bar?.stop();
    await swarm.close();
    await eventLog?.close();
    await degreeLog?.close();
  }
}

interface DegreesFlags extends OutputOptions {
  input: string;
  out: string;
}

/** "gamma 2.10 (R² 0.93) over k 1..12, 6 points" */
function describeFit(summary: DegreeSummary): string {
  const fit = summary.fit;
  if (!fit) return 'no power-law fit (fewer than two distinct degrees above 0)';
  return `gamma ${fit.gamma.toFixed(2)} (R² ${fit.r2.toFixed(2)}) over k ${fit.kMin}..${fit.kMax}, ${plural(fit.points, 'point')}`;
}

async function runDegrees(flags: DegreesFlags): Promise<void> {
  const out = new Output(flags);
  const logger = commandLogger(flags, 'gossip-degrees');
  const lower = flags.out.toLowerCase();
  if (!lower.endsWith('.svg') && !lower.endsWith('.png')) throw new WirelabError('E_USAGE', '--out must end in .svg or .png');
  let text: string;
  try {
    text = await readFile(flags.input, 'utf8');
  } catch (err) {
    throw fromSystemError(err, `read ${flags.input}`);
  }
  const summary = summarizeDegrees(parseDegreeLog(text).values());
  if (summary.peers === 0) throw new WirelabError('E_FILE', `${flags.input}: no degrees logged`);
  if (summary.fit && summary.fit.decades < 1) {
    logger.warn(`the degrees span less than a decade (${summary.fit.kMin}..${summary.fit.kMax}): a power-law fit over them says little`);
  }
  const svg = renderDegreesSvg(summary);
  await writeFile(flags.out, lower.endsWith('.png') ? renderPng(svg) : svg).catch((err: unknown) => {
    throw fromSystemError(err, `write ${flags.out}`);
  });
  const { histogram: _histogram, ...fields } = summary;
  const human = `${plural(summary.peers, 'peer')}, degree average ${summary.average.toFixed(2)}, min ${summary.min}, max ${summary.max}; ${describeFit(summary)} -> ${flags.out}`;
  out.event('degrees', { ...fields, out: flags.out }, human);
}

export function register(program: Command): void {
  const gossip = program.command('gossip').description('a peer-to-peer gossip network: seeds, peers, swarm, degrees');
  addExamples(gossip, [
    ['gossip seeds --config seeds.txt', 'every seed of the list, in one process'],
    ['gossip swarm --peers 20 --config seeds.txt --degree-log degrees.log', 'twenty peers that join, link and gossip'],
    ['gossip degrees --input degrees.log --out degrees.svg', 'the degree distribution and its power-law fit'],
  ]);

  const seed = addCommon(gossip.command('seed').description('run one seed: registers peers, answers peer lists, removes confirmed dead peers'))
    .addOption(portOption('--port <port>', 'TCP port (0: any free port)', 0))
    .option('--host <ip>', 'IPv4 address to listen on', '127.0.0.1')
    .addOption(durationOption('--confirm-timeout <duration>', 'how long the probe of a reported peer waits for its reply (default: 3 liveness intervals, 39s)'))
    .option('--config <file>', 'the seed list of the network (one IP:PORT per line), this seed among them: ids are agreed with the other seeds')
    .option('--listed-as <ip:port>', "this seed's line in --config, if not --host:--port (e.g. listening on 0.0.0.0)")
    .addOption(protocolOption());
  type SeedFlags = CommonOptions & Protocol & { port: number; host: string; confirmTimeout?: number; config?: string; listedAs?: string };
  addOutputOptions(seed).action(async (flags: SeedFlags, command: Command) => {
    if (flags.protocol !== 'whispernet') return runSeeds([{ host: flags.host, port: flags.port }], flags, await seedNetwork(flags));
    rejectWirelabOnlyFlags(command, ['config', 'listedAs']);
    return runWhispernetSeeds([{ host: flags.host, port: flags.port }], flags);
  });
  addExamples(seed, [
    ['gossip seed --port 7000', 'one seed on 127.0.0.1:7000'],
    ['gossip seed --port 7000 --config seeds.txt', 'one of the seeds listed in seeds.txt, each run on its own: ids agreed between them'],
    ['gossip seed --host 0.0.0.0 --port 7000 --event-log outputfile.log', 'reachable from other hosts, events appended to a file'],
    ['gossip seed --port 7000 --protocol whispernet', "speak the original WhisperNet's bare text (docs/whispernet.md)"],
  ]);

  const seeds = addCommon(gossip.command('seeds').description("run every seed listed in a config file (like the seed project's runner.py)"))
    .requiredOption('--config <file>', 'seed list: one IP:PORT per line')
    .addOption(durationOption('--confirm-timeout <duration>', 'how long the probe of a reported peer waits for its reply (default: 3 liveness intervals, 39s)'))
    .addOption(protocolOption());
  addOutputOptions(seeds).action(async (flags: CommonOptions & Protocol & { config: string; confirmTimeout?: number }) =>
    flags.protocol === 'whispernet' ? runWhispernetSeeds(flags.config, flags) : runSeeds(await readSeedConfig(flags.config), flags),
  );
  addExamples(seeds, [
    ['gossip seeds --config seeds.txt', 'a seed for each IP:PORT line of seeds.txt'],
    ['gossip seeds --config seeds.txt --duration 10m --json', 'for ten minutes, events as NDJSON'],
    ['gossip seeds --config config.txt --protocol whispernet', "the original's seeds, from its config.txt"],
  ]);

  const peer = addPeerFlags(gossip.command('peer').description('run one peer: join through the seeds, gossip, check neighbours'))
    .addOption(portOption('--port <port>', 'TCP port (0: any free port)', 0))
    .option('--retry-join', 'if no seed answers, keep trying with back-off (0.5 s doubling to 30 s) instead of exiting')
    .addOption(durationOption('--stall-on-sigusr2 <duration>', 'test hook: block the event loop this long on SIGUSR2').hideHelp())
    .addOption(protocolOption());
  addOutputOptions(peer).action((flags: PeerFlags & Protocol & { port: number; stallOnSigusr2?: number }, command: Command) => {
    if (flags.protocol !== 'whispernet') return runPeer(flags);
    rejectWirelabOnlyFlags(command, ['policy', 'dissemination', 'stallOnSigusr2', 'secretFile', 'retryJoin']);
    return runWhispernetPeer(flags);
  });
  addExamples(peer, [
    ['gossip peer --config seeds.txt', 'join through a quorum of the seeds and gossip ten messages'],
    ['gossip peer --config seeds.txt --gossip-interval 1s --liveness-interval 5s', 'faster gossip and liveness checks'],
    ['gossip peer --config seeds.txt --secret-file gossip.key --retry-join', 'with the network key; wait for the seeds to come up'],
    ['gossip peer --config config.txt --protocol whispernet', 'join a network of the original WhisperNet seeds and peers'],
  ]);

  const swarm = addPeerFlags(gossip.command('swarm').description('start N peers in this process (like PeerRunner.py) and print the settled network'))
    .requiredOption('--peers <n>', 'how many peers', positiveInt('--peers'))
    .addOption(durationOption('--settle-timeout <duration>', 'longest wait for the overlay to settle', 120_000));
  addOutputOptions(swarm).action((flags: PeerFlags & { peers: number; settleTimeout: number }) => runSwarm(flags));
  addExamples(swarm, [
    ['gossip swarm --peers 50 --config seeds.txt', 'fifty peers; prints the settled overlay'],
    ['gossip swarm --peers 200 --config seeds.txt --policy preferential --degree-log degrees.log', 'preferential attachment, degrees logged for the plot'],
  ]);

  const degrees = gossip
    .command('degrees')
    .description('plot the degree distribution from a degree log (like visualizer.py)')
    .option('--input <file>', "degree log ('peer=>degree' lines, as --degree-log writes)", 'freqtrack.log')
    .requiredOption('--out <file>', 'output image: FILE.svg or FILE.png');
  addOutputOptions(degrees).action((flags: DegreesFlags) => runDegrees(flags));
  addExamples(degrees, [
    ['gossip degrees --out degrees.png', 'plot freqtrack.log to a PNG'],
    ['gossip degrees --input degrees.log --out degrees.svg --json', 'an SVG, and the summary as one NDJSON event'],
  ]);
}
