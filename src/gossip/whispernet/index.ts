/**
 * WhisperNet compatibility mode (`--protocol whispernet`, docs/whispernet.md): seeds and peers that
 * speak the original seed project's bare-text protocol, so that its seeds and peers and ours can mix.
 */
export { WhispernetSeed, type WhispernetSeedOptions, type WhispernetSeedDeps, type WhispernetSeedEvents, type WhispernetSeedStats } from './seed.js';
export { WhispernetPeer } from './peer.js';
export type { WhispernetPeerOptions, WhispernetPeerDeps, WhispernetPeerEvents, WhispernetPeerStats } from './peer-types.js';
export { RecordSplitter, type Vocabulary, type SplitterLimits } from './splitter.js';
export {
  parseRecord,
  formatRecord,
  encodeRecord,
  peerListWithin,
  whisperKey,
  canonicalHost,
  formatSeconds,
  pythonLogTime,
  localhostAsIpv4,
  printable,
  type WhisperEndpoint,
  type WhisperMessage,
} from './codec.js';
export { readWhispernetConfig } from './config.js';
export { attachWhispernetPeerLogs, attachWhispernetSeedLog, type WhisperLogOptions } from './logs.js';
export { BLOCK_BYTES, QUIET_MS } from './constants.js';
