/** The four charts, with Apache ECharts' tree-shaken core (no CDN: bundled by Vite). */
import { init, use, type ECharts } from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { DashboardUpdate } from '../update.js';

use([LineChart, BarChart, PieChart, GridComponent, LegendComponent, TooltipComponent, MarkLineComponent, CanvasRenderer]);

type Theme = 'light' | 'dark';

const IDS = ['chart-traffic', 'chart-protocols', 'chart-sizes', 'chart-avg'] as const;

export class Charts {
  private charts = new Map<string, ECharts>();
  private last: DashboardUpdate | undefined;

  constructor(private theme: Theme) {
    this.build();
    window.addEventListener('resize', () => this.charts.forEach((c) => c.resize()));
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.charts.forEach((c) => c.dispose());
    this.build();
    if (this.last) this.render(this.last);
  }

  private build(): void {
    for (const id of IDS) {
      const node = document.getElementById(id)!;
      this.charts.set(id, init(node, this.theme === 'dark' ? 'dark' : undefined, { renderer: 'canvas' }));
    }
  }

  render(u: DashboardUpdate): void {
    this.last = u;
    this.traffic(u);
    this.protocols(u);
    this.sizes(u);
    this.averages(u);
  }

  private set(id: (typeof IDS)[number], option: Record<string, unknown>, points: number): void {
    this.charts.get(id)!.setOption({ backgroundColor: 'transparent', animation: false, ...option }, { notMerge: true });
    document.getElementById(id)!.dataset.points = String(points);
  }

  private traffic(u: DashboardUpdate): void {
    const s = u.stats.series;
    const end = s.endSec ?? 0;
    // from the first second with traffic in the window, so a short capture fills the chart
    let from = s.packets.findIndex((v) => v > 0);
    if (from < 0) from = s.packets.length;
    from = Math.max(0, Math.min(from, s.packets.length - 30));
    const at = (i: number): number => (end - s.packets.length + 1 + i) * 1000;
    const packets = s.packets.slice(from).map((v, i) => [at(from + i), v]);
    const bytes = s.bytes.slice(from).map((v, i) => [at(from + i), v]);
    const firstMs = at(from);
    const marks = u.anomalies.rows.filter((a) => a.time * 1000 >= firstMs).slice(0, 50).map((a) => ({ xAxis: Math.floor(a.time) * 1000, name: `${a.kind} ${a.score.toFixed(2)}` }));
    this.set(
      'chart-traffic',
      {
        tooltip: { trigger: 'axis' },
        legend: { data: ['packets/s', 'bytes/s'], top: 0 },
        grid: { left: 60, right: 70, top: 45, bottom: 30 },
        xAxis: { type: 'time' },
        yAxis: [
          { type: 'value', name: 'packets/s' },
          { type: 'value', name: 'bytes/s', splitLine: { show: false } },
        ],
        series: [
          { name: 'packets/s', type: 'line', showSymbol: false, data: packets, markLine: { symbol: 'none', silent: true, label: { show: false }, lineStyle: { color: '#e53935', type: 'solid' }, data: marks } },
          { name: 'bytes/s', type: 'line', showSymbol: false, yAxisIndex: 1, data: bytes },
        ],
      },
      packets.length,
    );
  }

  private protocols(u: DashboardUpdate): void {
    const data = u.stats.protocols.map((p) => ({ name: p.protocol, value: p.packets }));
    this.set('chart-protocols', { tooltip: { trigger: 'item' }, legend: { type: 'scroll', bottom: 0 }, series: [{ type: 'pie', radius: ['35%', '65%'], data, label: { formatter: '{b}: {d}%' } }] }, data.length);
  }

  private sizes(u: DashboardUpdate): void {
    const series = u.stats.protocols.map((p) => ({ name: p.protocol, type: 'bar', stack: 'size', data: p.sizeHistogram }));
    this.set(
      'chart-sizes',
      { tooltip: { trigger: 'axis' }, legend: { type: 'scroll', bottom: 0 }, grid: { left: 60, right: 20, top: 20, bottom: 50 }, xAxis: { type: 'category', data: u.stats.sizeBuckets, name: 'bytes' }, yAxis: { type: 'value', name: 'packets' }, series },
      series.length,
    );
  }

  private averages(u: DashboardUpdate): void {
    const rows = [{ protocol: 'all', meanSize: u.stats.avgPacketSize }, ...u.stats.protocols];
    this.set(
      'chart-avg',
      { tooltip: { trigger: 'axis' }, grid: { left: 90, right: 30, top: 10, bottom: 30 }, xAxis: { type: 'value', name: 'bytes' }, yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.protocol) }, series: [{ type: 'bar', data: rows.map((r) => Math.round(r.meanSize * 10) / 10), label: { show: true, position: 'right' } }] },
      rows.length,
    );
  }
}
