/**
 * Repeated warnings, rate-limited and summarised: the first few of an interval are logged as they
 * come, the rest only counted and reported once per interval per source
 * ("2,000 invalid datagrams from 198.19.99.7 in the last 10 s"). A flood of junk then costs a counter
 * increment per datagram, not a log line: a synchronous write per datagram halves a node's throughput,
 * and once nobody reads stderr it blocks delivery altogether.
 */
import type { Clock } from './lifecycle.js';
import { escapeControl, groupDigits } from './format.js';

/** ms over which repeated warnings are counted and summarised in one line */
export const WARNING_INTERVAL_MS = 10_000;
/** warnings logged as they happen in each interval before the rest are only counted */
export const WARNINGS_PER_INTERVAL = 5;
/** sources named one by one in a summary; the rest are added up in one line */
export const SUMMARY_SOURCES = 5;
/** sources counted one by one; beyond it they are only added up */
export const MAX_WARNING_SOURCES = 4096;

export interface WarningDigestOptions {
  /** ms, default 10 000 */
  intervalMs?: number;
  /** warnings logged as they come per interval, default 5 */
  immediate?: number;
  /** sources named in a summary, default 5 */
  summarySources?: number;
  /** sources counted one by one, default 4096; beyond it they are only added up */
  maxSources?: number;
}

/** One line for the log: the text and its structured fields. */
export type WarningSink = (line: string, fields: Record<string, unknown>) => void;

const plural = (n: number, noun: string): string =>
  `${groupDigits(n)} ${n === 1 ? noun : /[^aeiou]y$/.test(noun) ? `${noun.slice(0, -1)}ies` : `${noun}s`}`;

export class WarningDigest {
  private readonly intervalMs: number;
  private readonly immediate: number;
  private readonly summarySources: number;
  private readonly maxSources: number;
  private immediateLeft: number;
  /** `${noun}\0${source}` to its count in this interval */
  private readonly counts = new Map<string, number>();
  private overflow = { count: 0, noun: '' };
  private timer: NodeJS.Timeout | undefined;
  private startedMs = 0;

  constructor(
    private readonly sink: WarningSink,
    private readonly clock: Clock,
    options: WarningDigestOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? WARNING_INTERVAL_MS;
    this.immediate = options.immediate ?? WARNINGS_PER_INTERVAL;
    this.summarySources = options.summarySources ?? SUMMARY_SOURCES;
    this.maxSources = options.maxSources ?? MAX_WARNING_SOURCES;
    this.immediateLeft = this.immediate;
  }

  /**
   * A warning about `source` ("198.19.99.7:40000"); `noun` is singular ("invalid datagram").
   * `fields` go with the line when it is logged as it comes (a summary has only counts).
   */
  note(noun: string, source: string, reason: string, fields: Record<string, unknown> = {}): void {
    this.arm();
    if (this.immediateLeft > 0) {
      this.immediateLeft--;
      this.sink(`${noun} from ${source}: ${escapeControl(reason)}`, { ...fields, from: source, reason });
      return;
    }
    const host = source.replace(/:\d+$/, ''); // summaries per address: a flood changes ports
    const key = `${noun}\0${host}`;
    const count = this.counts.get(key);
    if (count !== undefined) this.counts.set(key, count + 1);
    else if (this.counts.size < this.maxSources) this.counts.set(key, 1);
    else this.overflow = { count: this.overflow.count + 1, noun };
  }

  private arm(): void {
    if (this.timer) return;
    this.startedMs = this.clock.now();
    this.timer = this.clock.setTimeout(() => this.flush(), this.intervalMs);
    this.timer.unref?.();
  }

  /** Log the summary of the interval so far and start a new one. */
  flush(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.immediateLeft = this.immediate;
    if (this.counts.size === 0 && this.overflow.count === 0) return;
    const seconds = Math.max(1, Math.round((this.clock.now() - this.startedMs) / 1000));
    const sorted = [...this.counts].sort((a, b) => b[1] - a[1]);
    for (const [key, count] of sorted.slice(0, this.summarySources)) {
      const [noun, host] = key.split('\0') as [string, string];
      this.sink(`${plural(count, noun)} from ${host} in the last ${seconds} s`, { from: host, count, seconds, summary: true });
    }
    const rest = sorted.slice(this.summarySources);
    const restCount = rest.reduce((sum, [, n]) => sum + n, 0) + this.overflow.count;
    if (restCount > 0) {
      const others = rest.length + (this.overflow.count > 0 ? 1 : 0);
      const nouns = new Set(rest.map(([key]) => key.split('\0')[0]!));
      if (this.overflow.count > 0) nouns.add(this.overflow.noun);
      const noun = nouns.size === 1 ? [...nouns][0]! : 'warning';
      const sources = this.overflow.count > 0 ? `${groupDigits(rest.length)}+ other sources` : plural(others, 'other source');
      this.sink(`${plural(restCount, noun)} from ${sources} in the last ${seconds} s`, { count: restCount, seconds, summary: true });
    }
    this.counts.clear();
    this.overflow = { count: 0, noun: '' };
  }

  /** Log what is counted and stop the timer. */
  close(): void {
    this.flush();
  }
}
