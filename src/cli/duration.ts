/**
 * The one duration syntax of every command (docs/cli.md): a number with a unit, `500ms`, `10s`,
 * `2m`, `1h`, fractions allowed (`1.5s`). A bare number is refused with a hint, since one flag used
 * to read it as ms and another as seconds.
 */
import { WirelabError } from '../common/errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Longest duration accepted: a timer cannot wait longer than 2^31-1 ms (about 24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * A duration to whole ms. `flag` names the option in the error message; when this is used directly
 * as a commander argParser the second argument is the previous value and is ignored unless a string.
 * Throws an E_USAGE WirelabError for a bare number, an unknown unit, zero or an overlong duration.
 */
export function parseDuration(value: string, flag?: unknown): number {
  const who = typeof flag === 'string' ? `${flag}: ` : '';
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) {
    throw new WirelabError('E_USAGE', `${who}'${value}' has no unit; write ${text}s or ${text}ms`);
  }
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!match) throw new WirelabError('E_USAGE', `${who}not a duration: '${value}' (write it with a unit: 500ms, 10s, 2m, 1h)`);
  const ms = Math.round(Number(match[1]) * UNITS[match[2]!]!);
  if (!(ms > 0)) throw new WirelabError('E_USAGE', `${who}a duration must be at least 1ms, got '${value}'`);
  if (ms > MAX_DURATION_MS) throw new WirelabError('E_USAGE', `${who}'${value}' is too long (at most 596h)`);
  return ms;
}

/** A duration in ms as the shortest text parseDuration reads back: 1500 -> '1.5s', 120000 -> '2m'. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 100 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
