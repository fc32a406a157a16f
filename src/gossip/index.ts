/** The gossip system's public face: seeds, peers, the swarm, the wire protocol and the degree plot. */
export { Seed, type SeedOptions, type SeedDeps, type SeedEvents, type SeedStats } from './seed.js';
export { IdAllocator } from './registry.js';
export { Peer } from './peer.js';
export type { PeerOptions, PeerDeps, PeerEvents, PeerStats, GossipSeen } from './peer-types.js';
export {
  FrameDecoder,
  encodeFrame,
  parseMessage,
  formatMessage,
  parseEndpoint,
  endpointKey,
  gossipText,
  type Endpoint,
  type GossipMessage,
  type ProtocolLimits,
} from './protocol.js';
export { degreePolicy, powerLawCapacity, seedQuorum, type DegreePolicy, type DegreePolicyName } from './topology.js';
export { MessageCache, messageHash } from './message-cache.js';
export { LivenessTracker } from './liveness.js';
export { Swarm, countComponents, type SwarmOptions, type SwarmState, type SwarmEvents } from './swarm.js';
export { parseSeedConfig, readSeedConfig } from './config.js';
export { LineLog, attachPeerLogs, attachSeedLog } from './logs.js';
export { parseDegreeLog, summarizeDegrees, renderDegreesSvg, renderPng, type DegreeSummary } from './degrees.js';
export { parseKeyring, readKeyring, SecureChannel, type Keyring } from './secure.js';
