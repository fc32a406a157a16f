/**
 * `wirelab gossip seeds|seed|peer --protocol whispernet`: the seeds and peers of the WhisperNet
 * compatibility mode (docs/whispernet.md). Thin shell like gossip.ts, whose flags it shares.
 */
import type { Command } from 'commander';
import { WirelabError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { LineLog } from '../gossip/index.js';
import {
  WhispernetPeer,
  WhispernetSeed,
  attachWhispernetPeerLogs,
  attachWhispernetSeedLog,
  printable,
  readWhispernetConfig,
  whisperKey,
  type WhisperEndpoint,
} from '../gossip/whispernet/index.js';
import { Output, commandLogger, untilStopped, type OutputOptions } from './shared.js';

export interface WhispernetCommonFlags extends OutputOptions {
  duration?: number;
  eventLog?: string;
  confirmTimeout?: number;
}

export interface WhispernetPeerFlags extends WhispernetCommonFlags {
  config: string;
  host: string;
  port: number;
  floor: number;
  gossipInterval: number;
  messages: number;
  livenessInterval: number;
  misses: number;
  degreeLog?: string;
}

function openLog(logger: Logger, path: string | undefined): LineLog | undefined {
  if (!path) return undefined;
  return new LineLog(path, (err) => logger.error({ err: err.message, path }, `cannot write ${path}; further lines are dropped`));
}

/** Flags of the wirelab protocol that mean nothing in WhisperNet mode: one clear line when given. */
export function rejectWirelabOnlyFlags(command: Command, names: string[]): void {
  for (const name of names) {
    if (command.getOptionValueSource(name) === 'cli') {
      throw new WirelabError('E_USAGE', `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is not used with --protocol whispernet`);
    }
  }
}

/** Seeds from a config file (`localhost` lines allowed), or one seed. */
export async function runWhispernetSeeds(endpoints: WhisperEndpoint[] | string, flags: WhispernetCommonFlags): Promise<void> {
  const out = new Output(flags);
  const logger = commandLogger(flags, 'gossip-seed');
  const list = typeof endpoints === 'string' ? await readWhispernetConfig(endpoints) : endpoints;
  const eventLog = openLog(logger, flags.eventLog);
  const seeds = list.map((e) => new WhispernetSeed({ host: e.host, port: e.port, confirmTimeoutMs: flags.confirmTimeout }, { logger }));
  try {
    for (const seed of seeds) {
      const self = (): string => whisperKey(seed.address());
      seed.on('registered', (r) => out.event('registered', { seed: self(), peer: r.peer, protocol: 'whispernet' }, `seed ${self()} registered ${r.peer}`));
      seed.on('removed', (r) => out.event('removed', { seed: self(), peer: r.peer, reporter: r.reporter }, `seed ${self()} removed ${r.peer}`));
      seed.on('refused', (r) => out.event('refused', { seed: self(), peer: r.peer, reporter: r.reporter }, `seed ${self()} refused a report about ${r.peer}`));
      if (eventLog) attachWhispernetSeedLog(seed, eventLog);
      await seed.start();
      out.event('listening', { seed: self(), protocol: 'whispernet' }, `seed listening on ${self()} (whispernet)`);
    }
    await untilStopped(flags.duration);
  } finally {
    await Promise.all(seeds.map((s) => s.close()));
    await eventLog?.close();
  }
}

export async function runWhispernetPeer(flags: WhispernetPeerFlags): Promise<void> {
  const out = new Output(flags);
  const logger = commandLogger(flags, 'gossip-peer');
  const seeds = await readWhispernetConfig(flags.config);
  const eventLog = openLog(logger, flags.eventLog);
  const degreeLog = openLog(logger, flags.degreeLog);
  const peer = new WhispernetPeer(
    {
      host: flags.host,
      port: flags.port,
      seeds,
      floor: flags.floor,
      gossipIntervalMs: flags.gossipInterval,
      messages: flags.messages,
      livenessIntervalMs: flags.livenessInterval,
      misses: flags.misses,
    },
    { logger },
  );
  peer.on('gossip', (g) =>
    out.event('gossip', { peer: peer.key, origin: g.origin, text: g.text, from: g.from, at: g.at }, `${peer.key} gossip '${printable(g.text)}' (origin ${g.origin}, from ${g.from ?? 'self'})`),
  );
  peer.on('neighbour', (n) => out.event('neighbour', { peer: peer.key, neighbour: n.peer, change: n.change, degree: n.degree }, `${peer.key} ${n.change} ${n.peer}, degree ${n.degree}`));
  peer.on('dead-reported', (d) => out.event('dead-reported', { peer: peer.key, dead: d.peer }, `${peer.key} reported Dead Node ${d.peer}`));
  attachWhispernetPeerLogs(peer, eventLog, degreeLog);
  try {
    await peer.start();
    out.event('joined', { peer: peer.key, capacity: peer.policy?.capacity, seeds: peer.seeds().map(whisperKey), protocol: 'whispernet' }, `peer ${peer.key} joined (whispernet)`);
    await untilStopped(flags.duration);
  } finally {
    await peer.close();
    await eventLog?.close();
    await degreeLog?.close();
  }
}
