/**
 * dashboard: live traffic in the browser. `Dashboard` serves the page, a JSON API, one WebSocket of
 * aggregated updates and /metrics over packets from a capture file, an upload or a live capture,
 * counted by analysis' own TrafficStats, FlowTable and AnomalyWorker.
 *
 *   const dashboard = new Dashboard({ read: 'x.pcap', port: 0 }, { logger });
 *   await dashboard.start();  dashboard.url  dashboard.on('source', ...)  await dashboard.close()
 */
export { Dashboard } from './server.js';
export type { DashboardOptions, DashboardDeps, DashboardEvents } from './server.js';
export type { DashboardUpdate } from './update.js';
export type { SourceInfo } from './ingest.js';
export type { AnomalyRow } from './aggregates.js';
export type { PacketRow, FlowRow } from './view.js';
export { PacketFilter, type ViewFilter } from './filter.js';
export { isLoopback } from './auth.js';
export * as limits from './constants.js';
