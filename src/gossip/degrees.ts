/**
 * The degree plot (the seed project's visualizer.py): read a degree log (`peer=>degree` lines, the
 * last line of each peer wins), count how many peers have each degree, fit a power law P(k) ~ k^-gamma
 * by least squares on the log-log histogram, and draw both views as SVG (our own markup), or PNG
 * through @resvg/resvg-js. Pure: text in, text or bytes out.
 */
import { Resvg } from '@resvg/resvg-js';
import { WirelabError } from '../common/errors.js';

/** Lines read from one degree log at most. */
const MAX_LINES = 10_000_000;

export interface DegreeSummary {
  peers: number;
  average: number;
  max: number;
  min: number;
  /** degree -> number of peers with it, ascending by degree */
  histogram: [degree: number, count: number][];
  /** fitted exponent gamma of P(k) ~ k^-gamma; undefined with fewer than two distinct degrees above 0 */
  exponent: number | undefined;
}

/** Final degree of every peer in a degree log. Malformed lines are an E_DECODE with their number. */
export function parseDegreeLog(text: string): Map<string, number> {
  const degrees = new Map<string, number>();
  const lines = text.split('\n');
  if (lines.length > MAX_LINES) throw new WirelabError('E_TOO_LARGE', `degree log of more than ${MAX_LINES} lines`);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const match = /^(.+)=>(\d{1,6})$/.exec(line);
    if (!match) throw new WirelabError('E_DECODE', `degree log line ${index + 1}: expected 'peer=>degree', got '${line.slice(0, 60)}'`);
    degrees.set(match[1]!, Number(match[2]));
  }
  return degrees;
}

/** Least-squares slope of y on x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxy / sxx;
}

export function summarizeDegrees(degrees: Iterable<number>): DegreeSummary {
  const list = [...degrees];
  const counts = new Map<number, number>();
  for (const d of list) counts.set(d, (counts.get(d) ?? 0) + 1);
  const histogram = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  const points = histogram.filter(([k]) => k > 0).map(([k, c]): [number, number] => [Math.log(k), Math.log(c)]);
  return {
    peers: list.length,
    average: list.length ? list.reduce((a, b) => a + b, 0) / list.length : 0,
    max: list.length ? Math.max(...list) : 0,
    min: list.length ? Math.min(...list) : 0,
    histogram,
    exponent: points.length >= 2 ? -slope(points) : undefined,
  };
}

const W = 520;
const H = 360;
const M = { left: 56, right: 16, top: 24, bottom: 44 };

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Axis {
  toX: (v: number) => number;
  toY: (v: number) => number;
}

function frame(x0: number, title: string, xLabel: string, yLabel: string): string {
  const w = W - M.left - M.right;
  const h = H - M.top - M.bottom;
  return [
    `<rect x="${x0 + M.left}" y="${M.top}" width="${w}" height="${h}" fill="none" stroke="#444"/>`,
    `<text x="${x0 + W / 2}" y="16" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<text x="${x0 + W / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>`,
    `<text x="${x0 + 14}" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 ${x0 + 14} ${H / 2})">${escapeXml(yLabel)}</text>`,
  ].join('');
}

function axis(x0: number, xMin: number, xMax: number, yMax: number): Axis {
  const w = W - M.left - M.right;
  const h = H - M.top - M.bottom;
  return {
    toX: (v) => x0 + M.left + ((v - xMin) / Math.max(1e-9, xMax - xMin)) * w,
    toY: (v) => M.top + h - (v / Math.max(1e-9, yMax)) * h,
  };
}

function ticks(a: Axis, x0: number, xs: [number, string][], ys: [number, string][]): string {
  const bottom = H - M.bottom;
  const xt = xs.map(([v, label]) => `<text x="${a.toX(v).toFixed(1)}" y="${bottom + 14}" text-anchor="middle" font-size="10">${label}</text>`);
  const yt = ys.map(([v, label]) => `<text x="${x0 + M.left - 4}" y="${(a.toY(v) + 3).toFixed(1)}" text-anchor="end" font-size="10">${label}</text>`);
  return xt.join('') + yt.join('');
}

function linearPanel(s: DegreeSummary): string {
  const maxK = Math.max(1, s.max);
  const maxC = Math.max(1, ...s.histogram.map(([, c]) => c));
  const a = axis(0, -0.5, maxK + 0.5, maxC);
  const barW = Math.max(1, (a.toX(1) - a.toX(0)) * 0.8);
  const bars = s.histogram.map(
    ([k, c]) => `<rect x="${(a.toX(k) - barW / 2).toFixed(1)}" y="${a.toY(c).toFixed(1)}" width="${barW.toFixed(1)}" height="${(a.toY(0) - a.toY(c)).toFixed(1)}" fill="#3b7dd8"/>`,
  );
  const xs: [number, string][] = [0, 0.25, 0.5, 0.75, 1].map((f) => [Math.round(f * maxK), String(Math.round(f * maxK))]);
  const ys: [number, string][] = [0, 0.5, 1].map((f) => [f * maxC, String(Math.round(f * maxC))]);
  return frame(0, 'degree distribution', 'degree k', 'peers') + bars.join('') + ticks(a, 0, xs, ys);
}

function logPanel(s: DegreeSummary): string {
  const pts = s.histogram.filter(([k]) => k > 0).map(([k, c]) => [Math.log10(k), Math.log10(c)] as const);
  const xMax = Math.max(1, ...pts.map(([x]) => x)) * 1.05;
  const yMax = Math.max(1, ...pts.map(([, y]) => y)) * 1.05;
  const a = axis(W, 0, xMax, yMax);
  const dots = pts.map(([x, y]) => `<circle cx="${a.toX(x).toFixed(1)}" cy="${a.toY(y).toFixed(1)}" r="4" fill="#d8573b"/>`);
  let fit = '';
  if (s.exponent !== undefined && pts.length >= 2) {
    // Intercept through the mean point, the least-squares line's anchor.
    const mx = pts.reduce((t, [x]) => t + x, 0) / pts.length;
    const my = pts.reduce((t, [, y]) => t + y, 0) / pts.length;
    const y = (x: number): number => Math.max(0, Math.min(yMax, my - s.exponent! * (x - mx)));
    fit = `<line x1="${a.toX(0).toFixed(1)}" y1="${a.toY(y(0)).toFixed(1)}" x2="${a.toX(xMax).toFixed(1)}" y2="${a.toY(y(xMax)).toFixed(1)}" stroke="#222" stroke-dasharray="4 3"/>`;
  }
  const decades = (max: number): [number, string][] => Array.from({ length: Math.floor(max) + 1 }, (_, i) => [i, String(10 ** i)]);
  const gamma = s.exponent === undefined ? 'n/a' : s.exponent.toFixed(2);
  return frame(W, `log-log, fitted gamma = ${gamma}`, 'degree k (log)', 'peers (log)') + dots.join('') + fit + ticks(a, W, decades(xMax), decades(yMax));
}

/** The plot as an SVG document. */
export function renderDegreesSvg(s: DegreeSummary): string {
  const caption = `peers ${s.peers}   average degree ${s.average.toFixed(2)}   max ${s.max}   min ${s.min}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 28}" viewBox="0 0 ${2 * W} ${H + 28}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    linearPanel(s),
    logPanel(s),
    `<text x="${W}" y="${H + 20}" text-anchor="middle" font-size="13">${escapeXml(caption)}</text>`,
    '</svg>',
  ].join('\n');
}

/** Rasterise an SVG document to PNG bytes. */
export function renderPng(svg: string): Buffer {
  return new Resvg(svg, { background: '#ffffff', font: { loadSystemFonts: true } }).render().asPng();
}
