/**
 * The degree plot (the seed project's visualizer.py): read a degree log (`peer=>degree` lines, the
 * last line of each peer wins), count how many peers have each degree, fit a power law P(k) ~ k^-gamma
 * by least squares on the log-log histogram, and draw both views as SVG (our own markup), or PNG
 * through @resvg/resvg-js: the fitted line itself, clipped to the plot (never clamped), with its
 * range, number of points and R² in the title. Pure: text in, text or bytes out.
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
  /** the whole fit (undefined as exponent is) */
  fit: PowerLawFit | undefined;
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

/**
 * The least-squares line through log10(count) against log10(degree), over the degrees above 0:
 * log10 P(k) = intercept - gamma * log10 k.
 */
export interface PowerLawFit {
  /** the exponent gamma of P(k) ~ k^-gamma (the negated slope) */
  gamma: number;
  /** log10 of the fitted count at k = 1 */
  intercept: number;
  /** coefficient of determination of the fit on the log-log points, 0..1 (1 when the points are exact) */
  r2: number;
  /** distinct degrees the fit used */
  points: number;
  /** least and greatest degree the fit used */
  kMin: number;
  kMax: number;
  /** log10(kMax / kMin): under 1, the data span less than a decade and the fit says little */
  decades: number;
}

/** Least squares of y on x; undefined with fewer than two distinct x. */
export function fitPowerLaw(histogram: readonly (readonly [number, number])[]): PowerLawFit | undefined {
  const used = histogram.filter(([k, c]) => k > 0 && c > 0);
  const points = used.map(([k, c]) => [Math.log10(k), Math.log10(c)] as const);
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((t, [x]) => t + x, 0) / n;
  const my = points.reduce((t, [, y]) => t + y, 0) / n;
  const sxy = points.reduce((t, [x, y]) => t + (x - mx) * (y - my), 0);
  const sxx = points.reduce((t, [x]) => t + (x - mx) ** 2, 0);
  const syy = points.reduce((t, [, y]) => t + (y - my) ** 2, 0);
  const slope = sxy / sxx;
  const kMin = used[0]![0];
  const kMax = used.at(-1)![0];
  return {
    gamma: -slope,
    intercept: my - slope * mx,
    r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy),
    points: n,
    kMin,
    kMax,
    decades: Math.log10(kMax / kMin),
  };
}

export function summarizeDegrees(degrees: Iterable<number>): DegreeSummary {
  const list = [...degrees];
  const counts = new Map<number, number>();
  for (const d of list) counts.set(d, (counts.get(d) ?? 0) + 1);
  const histogram = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  const fit = fitPowerLaw(histogram);
  return {
    peers: list.length,
    average: list.length ? list.reduce((a, b) => a + b, 0) / list.length : 0,
    max: list.length ? list.reduce((a, b) => Math.max(a, b)) : 0,
    min: list.length ? list.reduce((a, b) => Math.min(a, b)) : 0,
    histogram,
    exponent: fit?.gamma,
    fit,
  };
}

const W = 520;
const H = 360;
const M = { left: 56, right: 16, top: 24, bottom: 44 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A panel's data ranges and the mapping of data to pixels. */
interface Axis {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  toX: (v: number) => number;
  toY: (v: number) => number;
}

function frame(x0: number, title: string, xLabel: string, yLabel: string): string {
  return [
    `<rect x="${x0 + M.left}" y="${M.top}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#444"/>`,
    `<text x="${x0 + W / 2}" y="16" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
    `<text x="${x0 + W / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>`,
    `<text x="${x0 + 14}" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 ${x0 + 14} ${H / 2})">${escapeXml(yLabel)}</text>`,
  ].join('');
}

function axis(x0: number, xMin: number, xMax: number, yMin: number, yMax: number): Axis {
  return {
    xMin,
    xMax,
    yMin,
    yMax,
    toX: (v) => x0 + M.left + ((v - xMin) / Math.max(1e-9, xMax - xMin)) * PLOT_W,
    toY: (v) => M.top + PLOT_H - ((v - yMin) / Math.max(1e-9, yMax - yMin)) * PLOT_H,
  };
}

function ticks(a: Axis, x0: number, xs: [number, string][], ys: [number, string][]): string {
  const bottom = H - M.bottom;
  const xt = xs.map(([v, label]) => `<text class="x-tick" x="${a.toX(v).toFixed(2)}" y="${bottom + 14}" text-anchor="middle" font-size="10">${label}</text>`);
  const yt = ys.map(([v, label]) => `<text class="y-tick" x="${x0 + M.left - 4}" y="${a.toY(v).toFixed(2)}" text-anchor="end" dominant-baseline="middle" font-size="10">${label}</text>`);
  return xt.join('') + yt.join('');
}

/** Whole-number ticks from 0 to at most `max`, about five of them, on a 1-2-5 step. */
export function integerTicks(max: number): number[] {
  const rough = Math.max(1, max / 5);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough)!;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(Math.round(v));
  return out;
}

function linearPanel(s: DegreeSummary): string {
  const maxK = Math.max(1, s.max);
  const maxC = Math.max(1, ...s.histogram.map(([, c]) => c));
  const a = axis(0, -0.5, maxK + 0.5, 0, maxC);
  const barW = Math.max(1, (a.toX(1) - a.toX(0)) * 0.8);
  const bars = s.histogram.map(
    ([k, c]) => `<rect x="${(a.toX(k) - barW / 2).toFixed(1)}" y="${a.toY(c).toFixed(1)}" width="${barW.toFixed(1)}" height="${(a.toY(0) - a.toY(c)).toFixed(1)}" fill="#3b7dd8"/>`,
  );
  const label = (v: number): [number, string] => [v, String(v)];
  return frame(0, 'degree distribution', 'degree k', 'peers') + bars.join('') + ticks(a, 0, integerTicks(maxK).map(label), integerTicks(maxC).map(label));
}

/**
 * The part of the line y = intercept + slope * x inside the axis box (Liang-Barsky clipping of the
 * segment across the full x range), or undefined when the line misses the box.
 */
export function clipLine(a: Pick<Axis, 'xMin' | 'xMax' | 'yMin' | 'yMax'>, intercept: number, slope: number): [x1: number, y1: number, x2: number, y2: number] | undefined {
  const [x1, y1] = [a.xMin, intercept + slope * a.xMin];
  const [dx, dy] = [a.xMax - a.xMin, slope * (a.xMax - a.xMin)];
  let t0 = 0;
  let t1 = 1;
  for (const [p, q] of [[-dx, x1 - a.xMin], [dx, a.xMax - x1], [-dy, y1 - a.yMin], [dy, a.yMax - y1]] as const) {
    if (p === 0) {
      if (q < 0) return undefined;
      continue;
    }
    const t = q / p;
    if (p < 0) t0 = Math.max(t0, t);
    else t1 = Math.min(t1, t);
  }
  if (t0 > t1) return undefined;
  return [x1 + t0 * dx, y1 + t0 * dy, x1 + t1 * dx, y1 + t1 * dy];
}

function logPanel(s: DegreeSummary): string {
  const pts = s.histogram.filter(([k, c]) => k > 0 && c > 0).map(([k, c]) => [Math.log10(k), Math.log10(c)] as const);
  const xMax = Math.max(1, ...pts.map(([x]) => x)) * 1.05;
  const yMax = Math.max(1, ...pts.map(([, y]) => y)) * 1.05;
  const a = axis(W, 0, xMax, 0, yMax);
  const dots = pts.map(([x, y]) => `<circle cx="${a.toX(x).toFixed(2)}" cy="${a.toY(y).toFixed(2)}" r="4" fill="#d8573b"/>`);
  let line = '';
  const fit = s.fit;
  const clipped = fit && clipLine(a, fit.intercept, -fit.gamma);
  if (clipped) {
    const [x1, y1, x2, y2] = clipped;
    line = `<line class="fit" x1="${a.toX(x1).toFixed(2)}" y1="${a.toY(y1).toFixed(2)}" x2="${a.toX(x2).toFixed(2)}" y2="${a.toY(y2).toFixed(2)}" stroke="#222" stroke-dasharray="4 3"/>`;
  }
  const decades = (max: number): [number, string][] => Array.from({ length: Math.floor(max) + 1 }, (_, i) => [i, String(10 ** i)]);
  const title = fit === undefined ? 'log-log, no fit (fewer than two degrees)' : `log-log, fitted gamma = ${fit.gamma.toFixed(2)}, R² = ${fit.r2.toFixed(2)}, k ${fit.kMin}..${fit.kMax}, ${fit.points} points`;
  return frame(W, title, 'degree k (log)', 'peers (log)') + dots.join('') + line + ticks(a, W, decades(xMax), decades(yMax));
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
