/**
 * Terminal rendering of statistics and anomalies: plain aligned text, one concern per function, no
 * colour (the CLI adds colour on a TTY if it wants).
 */
import { groupDigits } from '../common/format.js';
import type { Anomaly } from './anomaly.js';
import type { StatsSnapshot, Talker } from './stats.js';

/** "1.5 kB", "12.0 MB": decimal units, as tshark prints. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
  );
}

function talkerLines(title: string, list: Talker[], unit: (v: number) => string, limit: number): string[] {
  if (list.length === 0) return [];
  const rows = list
    .slice(0, limit)
    .map((t) => [t.address, unit(t.value), t.error > 0 ? `±${unit(t.error)}` : '']);
  return [title, ...table(rows).map((line) => `  ${line}`)];
}

/** A multi-line human summary of a snapshot, for the terminal. */
export function formatStats(snapshot: StatsSnapshot, topN = 5): string {
  const duration =
    snapshot.firstTs !== null && snapshot.lastTs !== null ? snapshot.lastTs - snapshot.firstTs : 0;
  const lines = [
    `Packets: ${groupDigits(snapshot.packets)}  Bytes: ${formatBytes(snapshot.bytes)}  Average size: ${snapshot.avgPacketSize.toFixed(1)} B  Duration: ${duration.toFixed(3)} s`,
  ];
  const recent = snapshot.series.packets.slice(-10);
  if (recent.length > 0) lines.push(`Packets/s (last ${recent.length} s): ${recent.join(' ')}`);
  if (snapshot.protocols.length > 0) {
    lines.push('Protocols:');
    const header = ['protocol', 'packets', 'share', 'bytes', 'share', 'min', 'mean', 'max'];
    const rows = snapshot.protocols.map((p) => [
      p.protocol,
      String(p.packets),
      pct(p.packetShare),
      formatBytes(p.bytes),
      pct(p.byteShare),
      String(p.minSize),
      p.meanSize.toFixed(1),
      String(p.maxSize),
    ]);
    lines.push(...table([header, ...rows]).map((line) => `  ${line}`));
    lines.push('Sizes (packets per bucket, bytes):');
    const sizeRows = snapshot.protocols.map((p) => [p.protocol, ...p.sizeHistogram.map(String)]);
    lines.push(...table([['protocol', ...snapshot.sizeBuckets], ...sizeRows]).map((line) => `  ${line}`));
  }
  lines.push(...talkerLines('Top sources by bytes:', snapshot.topSources.byBytes, formatBytes, topN));
  lines.push(...talkerLines('Top sources by packets:', snapshot.topSources.byPackets, String, topN));
  lines.push(
    ...talkerLines('Top destinations by bytes:', snapshot.topDestinations.byBytes, formatBytes, topN),
  );
  return lines.join('\n');
}

/** One line per anomaly: what, where, score and the features that made it stand out. */
export function formatAnomaly(a: Anomaly): string {
  const where = `${a.src ?? '?'}${a.sport !== undefined ? `:${a.sport}` : ''} -> ${a.dst ?? '?'}${a.dport !== undefined ? `:${a.dport}` : ''}`;
  const what = a.kind === 'packet' ? `packet #${a.index}` : `flow ${a.flow?.connState ?? ''}`.trim();
  const why = a.features
    .map((f) => `${f.name}=${roundish(f.value)} (baseline ${roundish(f.baseline)}, ${pct(f.share)})`)
    .join(', ');
  return `ANOMALY ${what} ${a.protocol} ${where} score ${a.score.toFixed(3)} > ${a.threshold.toFixed(3)}: ${why}`;
}

function roundish(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(3);
}
