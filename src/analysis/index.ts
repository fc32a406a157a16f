/**
 * analysis: traffic statistics, flows and anomaly detection over PacketSummary records. Pure code:
 * time is the packets' own timestamps and randomness a seeded generator, so results reproduce.
 *
 *   const stats = new TrafficStats();            stats.add(p);  stats.snapshot(view?)  formatStats(snapshot)
 *   const flows = new FlowTable();               flows.push(p): FlowRecord[]  (finished flows)  flows.flush()
 *   const detector = new AnomalyDetector();      detector.push(p) / pushBatch(ps): Anomaly[]  detector.flush()  formatAnomaly(a)
 *                                                detector.takeNovelties(): Novelty[]  formatNovelty(e)
 *   const worker = new AnomalyWorker({ detector }); await worker.start(); worker.on('anomaly', ...)
 *                                                worker.push(p) (false: await drained())  await worker.flush()  close()
 */
export { TrafficStats, matchesFilter } from './stats.js';
export type { TrafficFilter, TrafficStatsOptions, StatsSnapshot, ProtocolStats, Talker } from './stats.js';
export { FlowTable, flowKey, connState } from './flows.js';
export { PacketRole } from './flows.js';
export type { FlowRecord, FlowTableOptions, ConnState, FlowEndReason } from './flows.js';
export { AnomalyDetector } from './anomaly.js';
export { NoveltyTracker, formatNovelty } from './novelty.js';
export type { Novelty, NoveltyKind, NoveltyOptions, NoveltyStats } from './novelty.js';
export type { Anomaly, AnomalyDetectorOptions, AnomalyDetectorStats, ScoreEvent } from './anomaly.js';
export { AnomalyWorker, DEFAULT_WORKER_BATCH } from './anomaly-worker.js';
export type { AnomalyWorkerOptions, AnomalyWorkerEvents, AnomalyWorkerStats } from './anomaly-worker.js';
export type { FeatureContribution } from './scorer.js';
export { PACKET_FEATURES, FLOW_FEATURES } from './features.js';
export type { FlowContext, SourceRates } from './features.js';
export { IsolationForest, averagePathLength } from './iforest.js';
export type { IsolationForestOptions, Matrix } from './iforest.js';
export { SpaceSaving } from './heavy-hitters.js';
export type { HeavyHitter } from './heavy-hitters.js';
export { mulberry32 } from './prng.js';
export type { Rng } from './prng.js';
export { formatStats, formatAnomaly, formatBytes } from './format.js';
export { SIZE_BUCKET_LABELS } from './constants.js';
