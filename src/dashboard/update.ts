/**
 * The message the page lives on: one view's figures (the same as `wirelab analyze --stats` prints
 * for those packets), its anomalies, flows and the packets new since the client's last update. The
 * HTTP API returns the same object.
 */
import type { StatsSnapshot } from '../analysis/index.js';
import type { AnomalyRow } from './aggregates.js';
import { LIST_ROWS } from './constants.js';
import type { ViewFilter } from './filter.js';
import type { Ingest, SourceInfo } from './ingest.js';
import type { FlowRow, PacketRow, TrafficView } from './view.js';

export interface DashboardUpdate {
  type: 'update';
  /** server time, seconds since the epoch */
  time: number;
  source: SourceInfo;
  paused: boolean;
  skippedWhilePaused: number;
  filter: ViewFilter;
  /** packets ingested in all (before any filter) */
  ingested: number;
  /** packets this view never saw: they had left the history before the filter was first used */
  missed: number;
  /** packets still held for download */
  downloadable: number;
  stats: StatsSnapshot;
  anomalies: { total: number; rows: AnomalyRow[] };
  detector: { packets: number; skipped: number; baseline: number | null; baselineTarget: number | null; threshold: number | null } | null;
  flows: { active: FlowRow[]; finished: FlowRow[]; held: number; started: number; finishedTotal: number };
  /** packets after the client's last one, oldest first (at most UPDATE_PACKET_ROWS: the newest) */
  packets: PacketRow[];
  /** seq of the view's newest packet (-1: none) */
  lastSeq: number;
}

/** Everything but the packets: the same for every client of one view, built once per round. */
export type SharedUpdate = Omit<DashboardUpdate, 'packets' | 'lastSeq'>;

export function sharedUpdate(ingest: Ingest, view: TrafficView, nowMs: number, baselineTarget: number | null): SharedUpdate {
  const aggregates = ingest.aggregates;
  const flows = view.flowRows(LIST_ROWS);
  const worker = ingest.detectorStats();
  const d = worker?.detector;
  return {
    type: 'update',
    time: nowMs / 1000,
    source: ingest.source,
    paused: ingest.paused,
    skippedWhilePaused: ingest.skippedWhilePaused,
    filter: view.filter.filter,
    ingested: aggregates.packets,
    missed: view.missed,
    downloadable: aggregates.stats().historyPackets,
    stats: view.snapshot(),
    anomalies: { total: aggregates.anomalies.total, rows: aggregates.anomalyRows(view.filter, LIST_ROWS) },
    detector: worker
      ? { packets: worker.packets, skipped: worker.skipped, baseline: d?.packetBaseline ?? null, baselineTarget, threshold: d?.packetThreshold ?? null }
      : null,
    flows: { active: flows.active, finished: flows.finished, held: flows.stats.active, started: flows.stats.flows, finishedTotal: flows.stats.finished },
  };
}

/** The shared part as JSON with the client's packets put in front: `{"type":"update","packets":...,"lastSeq":N,...shared}`. */
export function updateJson(sharedJson: string, packets: PacketRow[], lastSeq: number): string {
  return `{"packets":${JSON.stringify(packets)},"lastSeq":${lastSeq},${sharedJson.slice(1)}`;
}
