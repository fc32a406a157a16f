/** The broadcast system: a master that broadcasts UDP messages and nodes that log and acknowledge. */
export { BroadcastMaster, describeReport } from './master.js';
export type { MasterOptions, MasterDeps, MasterEvents, MasterStats, DeliveryReport, Acknowledgement } from './master.js';
export { BroadcastNode } from './node.js';
export type { NodeOptions, NodeDeps, NodeEvents, NodeStats, ReceivedMessage } from './node.js';
export type { RosterEntry } from './roster.js';
export { encodeEnvelope, decodeEnvelope, verifyEnvelope, looksLikeEnvelope, ackFor, MAGIC } from './envelope.js';
export type { Envelope, EnvelopeKind } from './envelope.js';
export { generateKeyFiles, loadPrivateKey, loadPublicKey, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from './keys.js';
export * as broadcastDefaults from './constants.js';
export { fitUtf8 } from './text.js';
