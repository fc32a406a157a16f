/**
 * Text for people: timestamps, counts, colour and escaped wire text, the same in every command
 * (docs/cli.md). Pure functions; the caller decides whether colour is on.
 */
import { percentile } from './percentile.js';

/** How many digits after the second a timestamp keeps. */
export type TimePrecision = 'ms' | 'us';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * `HH:MM:SS.mmm` (or `.uuuuuu`) for a time in seconds since the epoch, in local time (TZ honoured)
 * or in UTC. The time is first taken to the nearest µs (a double holds today's epoch seconds to about
 * a quarter of a µs), then the fraction is truncated, as tcpdump does, so a time never shows a
 * millisecond that has not begun.
 */
export function formatClock(epochSeconds: number, options: { utc?: boolean; precision?: TimePrecision } = {}): string {
  const micros = Math.round(epochSeconds * 1e6);
  const fraction = ((micros % 1e6) + 1e6) % 1e6;
  const date = new Date((micros - fraction) / 1000);
  const [h, m, s] = options.utc
    ? [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    : [date.getHours(), date.getMinutes(), date.getSeconds()];
  const clock = `${pad(h)}:${pad(m)}:${pad(s)}`;
  return options.precision === 'us' ? `${clock}.${pad(fraction, 6)}` : `${clock}.${pad(Math.floor(fraction / 1000), 3)}`;
}

/** Seconds since the epoch, with the fraction (ms resolution from Date.now()). */
export function epochSeconds(ms: number = Date.now()): number {
  return ms / 1000;
}

/** `12,345`: thousands grouped with commas, the same whatever the locale (human text only, never JSON). */
export function groupDigits(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const [whole, fraction] = String(Math.abs(n)).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 ? '-' : ''}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** `1 packet`, `2 packets`, `0 packets`, `12,345 packets`; `many` defaults to `one` + "s". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${groupDigits(n)} ${n === 1 ? one : many}`;
}

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Wire text made safe for a terminal: C0 control characters other than tab (so CR, LF and ESC,
 * which starts colour and OSC sequences), DEL, the C1 controls (among them CSI U+009B) and the
 * Unicode line and paragraph separators become `\xHH` (or `\uHHHH`); a backslash is left as it is.
 * Everything printable, including non-ASCII letters, passes through.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** SGR colour codes used by the commands. */
const SGR = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, dim: 2, bold: 1 } as const;
export type ColourName = keyof typeof SGR;

/** Colour functions, or identity functions when colour is off. */
export type Colours = Record<ColourName, (text: string) => string>;

export function colours(enabled: boolean): Colours {
  const entries = Object.entries(SGR).map(([name, code]) => [name, enabled ? (t: string) => `\x1b[${code}m${t}\x1b[0m` : (t: string) => t]);
  return Object.fromEntries(entries) as Colours;
}

/**
 * Colour is on only for a terminal and only when NO_COLOR is absent (any value, even empty, turns it
 * off: docs/cli.md).
 */
export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined;
}

/** Latency figures of a set of samples, ms. */
export interface LatencySummary {
  samples: number;
  min: number;
  median: number;
  /** nearest-rank percentiles */
  p50: number;
  p99: number;
  max: number;
}

export function summarizeLatencies(samplesMs: readonly number[]): LatencySummary | undefined {
  if (samplesMs.length === 0) return undefined;
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { samples: n, min: sorted[0]!, median, p50: percentile(sorted, 0.5)!, p99: percentile(sorted, 0.99)!, max: sorted[n - 1]! };
}

/** Below this many samples a percentile is not printed (a "p99" of four numbers is their maximum). */
export const MIN_SAMPLES_FOR_PERCENTILES = 20;

/**
 * Latency figures that say what they are: from 20 samples up `p50 / p99 / max`, below that
 * `min / median / max`. ms with two decimals; `what` names the latency (`round trip`).
 */
export function describeLatencies(summary: LatencySummary | undefined, what = 'round trip'): string | undefined {
  if (summary === undefined) return undefined;
  const ms = (v: number): string => v.toFixed(2);
  if (summary.samples < MIN_SAMPLES_FOR_PERCENTILES) return `${what} min ${ms(summary.min)} / median ${ms(summary.median)} / max ${ms(summary.max)} ms`;
  return `${what} p50 ${ms(summary.p50)} / p99 ${ms(summary.p99)} / max ${ms(summary.max)} ms (${summary.samples} samples)`;
}
