/**
 * The degree plot's geometry, read back from the SVG it renders: the dashed line is the fitted line
 * itself (its end points satisfy log10 P = intercept - gamma log10 k), clipped to the plot frame
 * rather than clamped to the axes; count axes have whole-number ticks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderDegreesSvg, summarizeDegrees, integerTicks } from '../../../src/gossip/degrees.js';
import { mulberry32 } from '../../helpers/random.js';

const PANEL_X = 520; // the log-log panel is the right half

function attrs(tag: string): Record<string, string> {
  return Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

interface Ticks {
  pos: number;
  label: number;
}

function ticks(svg: string, cls: 'x-tick' | 'y-tick', right: boolean): Ticks[] {
  return [...svg.matchAll(new RegExp(`<text class="${cls}"([^>]*)>([^<]*)</text>`, 'g'))]
    .map((m) => ({ a: attrs(m[1]!), label: Number(m[2]) }))
    .filter(({ a }) => Number(a.x) > PANEL_X === right)
    .map(({ a, label }) => ({ pos: Number(cls === 'x-tick' ? a.x : a.y), label }));
}

/** pixel = offset + scale * log10(label), from the first and last tick. */
function logScale(t: Ticks[]): (px: number) => number {
  const [first, last] = [t[0]!, t.at(-1)!];
  const scale = (last.pos - first.pos) / (Math.log10(last.label) - Math.log10(first.label));
  return (px) => Math.log10(first.label) + (px - first.pos) / scale;
}

function checkFitLine(degrees: number[]): 'top' | 'bottom' | 'left' | 'right' | 'inside' {
  const summary = summarizeDegrees(degrees);
  const fit = summary.fit!;
  const svg = renderDegreesSvg(summary);
  const frame = attrs([...svg.matchAll(/<rect x="(\d+)"[^>]*fill="none"[^>]*>/g)].map((m) => m[0]).find((r) => Number(attrs(r).x) > PANEL_X)!);
  const [left, top, right, bottom] = [Number(frame.x), Number(frame.y), Number(frame.x) + Number(frame.width), Number(frame.y) + Number(frame.height)];
  const line = attrs(/<line class="fit"[^>]*>/.exec(svg)![0]);
  const toLogK = logScale(ticks(svg, 'x-tick', true));
  const toLogC = logScale(ticks(svg, 'y-tick', true));
  const edges: string[] = [];
  for (const [px, py] of [[Number(line.x1), Number(line.y1)], [Number(line.x2), Number(line.y2)]] as const) {
    const eps = 0.02;
    assert.ok(px >= left - eps && px <= right + eps && py >= top - eps && py <= bottom + eps, `(${px}, ${py}) inside the frame`);
    const expected = fit.intercept - fit.gamma * toLogK(px);
    assert.ok(Math.abs(toLogC(py) - expected) < 0.01, `end point (${px}, ${py}) on the fitted line: log10 count ${toLogC(py)} vs ${expected}`);
    const on = [Math.abs(py - top) < eps && 'top', Math.abs(py - bottom) < eps && 'bottom', Math.abs(px - left) < eps && 'left', Math.abs(px - right) < eps && 'right'].filter(Boolean);
    assert.ok(on.length > 0, `end point (${px}, ${py}) is where the line leaves the frame`);
    edges.push(...(on as string[]));
  }
  return edges.includes('top') ? 'top' : edges.includes('bottom') ? 'bottom' : 'inside';
}

test('an exact power law: the fit is exact and the drawn line is that fit, end to end', () => {
  const degrees = [1, 2, 4, 8].flatMap((k) => Array<number>(64 / (k * k)).fill(k));
  const fit = summarizeDegrees(degrees).fit!;
  assert.ok(Math.abs(fit.gamma - 2) < 1e-9);
  assert.ok(Math.abs(fit.intercept - Math.log10(64)) < 1e-9);
  assert.ok(Math.abs(fit.r2 - 1) < 1e-12);
  assert.deepEqual([fit.points, fit.kMin, fit.kMax], [4, 1, 8]);
  checkFitLine(degrees);
});

test('a rising count (negative gamma, as the 20-peer run of issue 9) is clipped at the top, not clamped at (1, 1)', () => {
  const degrees = [1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4];
  assert.equal(degrees.length, 20);
  const fit = summarizeDegrees(degrees).fit!;
  assert.ok(fit.gamma < 0, `gamma ${fit.gamma}`);
  assert.equal(checkFitLine(degrees), 'top');
  const svg = renderDegreesSvg(summarizeDegrees(degrees));
  assert.match(svg, /fitted gamma = -\d+\.\d\d, R² = 0\.\d\d, k 1\.\.4, 4 points/);
});

test('random degree sets: the line always lies on the fit and inside the frame', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const random = mulberry32(seed);
    const degrees = Array.from({ length: 5 + Math.floor(random() * 200) }, () => 1 + Math.floor(1 / (random() + 0.01)));
    if (!summarizeDegrees(degrees).fit) continue;
    checkFitLine(degrees);
  }
});

test('count axes have whole-number ticks, placed where their values are', () => {
  assert.deepEqual(integerTicks(3), [0, 1, 2, 3]);
  assert.deepEqual(integerTicks(7), [0, 2, 4, 6]);
  assert.deepEqual(integerTicks(64), [0, 20, 40, 60]);
  const svg = renderDegreesSvg(summarizeDegrees([1, 1, 1, 2, 2, 3, 5, 7]));
  for (const cls of ['x-tick', 'y-tick'] as const) {
    const t = ticks(svg, cls, false);
    assert.ok(t.length >= 2);
    assert.ok(t.every((x) => Number.isInteger(x.label)), `${cls} labels ${t.map((x) => x.label).join(',')}`);
    assert.equal(new Set(t.map((x) => x.label)).size, t.length, 'no repeated label');
    const step = (t[1]!.pos - t[0]!.pos) / (t[1]!.label - t[0]!.label);
    for (const x of t) assert.ok(Math.abs(x.pos - (t[0]!.pos + step * (x.label - t[0]!.label))) < 0.02, `${cls} ${x.label} where its value is`);
  }
});
