/** /metrics for Prometheus: the dashboard's counters, read from its components at scrape time. */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Ingest } from './ingest.js';
import type { UpdateHub } from './ws-hub.js';

/** A counter that follows a running total read at scrape time (prom-client counters only go up by inc()). */
function followingCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let reported = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now < reported) {
        this.reset(); // a new source started the totals again
        reported = 0;
      }
      this.inc(now - reported);
      reported = now;
    },
  });
}

function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

export function dashboardMetrics(ingest: Ingest, hub: UpdateHub): Registry {
  const registry = new Registry();
  const agg = () => ingest.aggregates.stats();
  followingCounter(registry, 'wirelab_dashboard_packets_total', 'Packets ingested from the current source', () => agg().packets);
  followingCounter(registry, 'wirelab_dashboard_bytes_total', 'Bytes on the wire ingested from the current source', () => agg().bytes);
  followingCounter(registry, 'wirelab_dashboard_anomalies_total', 'Abnormal packets and flows reported by the detector', () => agg().anomalies);
  followingCounter(registry, 'wirelab_dashboard_paused_skipped_total', 'Live packets not counted while paused', () => ingest.skippedWhilePaused);
  followingCounter(registry, 'wirelab_dashboard_detector_skipped_total', 'Packets the anomaly detector skipped (behind)', () => ingest.detectorStats()?.skipped ?? 0);
  followingCounter(registry, 'wirelab_dashboard_updates_sent_total', 'Updates sent to browsers', () => hub.stats().updatesSent);
  followingCounter(registry, 'wirelab_dashboard_updates_skipped_total', 'Updates skipped for browsers that could not keep up', () => hub.stats().updatesSkipped);
  followingCounter(registry, 'wirelab_dashboard_slow_disconnects_total', 'Browsers disconnected for being too slow', () => hub.stats().slowDisconnects);
  gauge(registry, 'wirelab_dashboard_clients', 'WebSocket clients connected', () => hub.stats().clients);
  gauge(registry, 'wirelab_dashboard_history_packets', 'Packets held for download and filtered views', () => agg().historyPackets);
  gauge(registry, 'wirelab_dashboard_history_bytes', 'Captured bytes held for download', () => agg().historyBytes);
  gauge(registry, 'wirelab_dashboard_views', 'Views (distinct filters) alive', () => agg().views);
  gauge(registry, 'wirelab_dashboard_kernel_dropped', 'Packets the kernel dropped (live capture, known at its end)', () => ingest.source.droppedByKernel ?? 0);
  gauge(registry, 'process_resident_memory_bytes', 'Resident memory of the dashboard process, bytes', () => process.memoryUsage.rss());
  return registry;
}
