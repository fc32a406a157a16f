import { WirelabError } from '../common/errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "10s", "2m", "1h" or a bare number of ms, to ms. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new WirelabError('E_USAGE', `not a duration: '${value}' (try 10s, 2m or 500ms)`);
  const ms = Number(match[1]) * UNITS[match[2] ?? 'ms']!;
  if (!(ms > 0) || !Number.isFinite(ms)) throw new WirelabError('E_USAGE', `duration must be above 0: '${value}'`);
  return Math.round(ms);
}
