/** Small text helpers of `wirelab analyze`'s human output: counts with plurals, event time stamps. */
import { timeOfDay } from '../capture/index.js';

/** "1 packet", "12,345 packets", "0 packets": thousands grouped, the plural right. */
export function count(n: number, noun: string, plural = noun + 's'): string {
  return `${grouped(n)} ${n === 1 ? noun : plural}`;
}

/** "12,345": thousands grouped by hand (toLocaleString's first call loads ICU: ~10 ms of start-up). */
export function grouped(n: number): string {
  const digits = String(Math.abs(Math.trunc(n)));
  let out = '';
  for (let i = digits.length; i > 0; i -= 3) out = digits.slice(Math.max(0, i - 3), i) + (out === '' ? '' : ',' + out);
  return (n < 0 ? '-' : '') + out;
}

/** "hh:mm:ss.mmm" of `ms` (epoch milliseconds), local time unless `utc`: the stamp of a non-packet event line. */
export function clockText(ms: number, utc: boolean): string {
  const sec = Math.floor(ms / 1000);
  return timeOfDay(sec, utc) + '.' + String(Math.floor(ms - sec * 1000)).padStart(3, '0');
}
