/** Small text helpers of `wirelab analyze`'s human output: counts with plurals, event time stamps. */
import { timeOfDay } from '../capture/index.js';

/** "1 packet", "12,345 packets", "0 packets": thousands grouped, the plural right. */
export function count(n: number, noun: string, plural = noun + 's'): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : plural}`;
}

/** "hh:mm:ss.mmm" of `ms` (epoch milliseconds), local time unless `utc`: the stamp of a non-packet event line. */
export function clockText(ms: number, utc: boolean): string {
  const sec = Math.floor(ms / 1000);
  return timeOfDay(sec, utc) + '.' + String(Math.floor(ms - sec * 1000)).padStart(3, '0');
}
