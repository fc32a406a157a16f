/**
 * Packet decoding: the public face of capture/decode. Pure functions over a RawPacket's bytes
 * (views, no copies); bad bytes never throw, they set `summary.error`.
 */
import type { PacketSummary, RawPacket } from '../types.js';
import { decodeToSummary, newSummary, walkPacket, type DecodedLayer, type DecodeOptions } from './packet.js';

export { escapeControl, formatSummary, hasTime, jsonTime, packetJsonLine, PacketLineFormatter, summaryToJson, timeOfDay, timeText, type LineFormatOptions } from './summary.js';
export { createDecodeCounters, type DecodeCounters, type DecodedLayer, type DecodeOptions } from './packet.js';
export { DEFAULT_DECODE_LIMITS, type DecodeLimits } from './constants.js';
export { StatsFieldsDecoder } from './stats-fields.js';
export { FastLineWriter, FAST_LINE_MAX_BYTES } from './fast-line.js';

const NO_OPTIONS: DecodeOptions = {};

/**
 * Decode one packet into the seed analyzer's summary. Never throws on bad bytes: a malformed or
 * truncated layer stops decoding there and sets `error`, keeping what was decoded before it.
 */
export function decodePacket(raw: RawPacket, options: DecodeOptions = NO_OPTIONS): PacketSummary {
  return decodeToSummary(raw, options);
}

/** The summary plus every decoded layer's header, outermost first (tshark's tree, for tests and the dashboard). */
export interface DecodedPacket {
  summary: PacketSummary;
  layers: DecodedLayer[];
}

/**
 * Decode one packet with its per-layer detail. Never throws on bad bytes, like {@link decodePacket}.
 * The IPv4 and TCP option lists are parsed only here, so a malformed option list sets `error` in
 * this summary but not in decodePacket's (which, like tshark's columns, does not need them).
 */
export function decodeLayers(raw: RawPacket, options: DecodeOptions = NO_OPTIONS): DecodedPacket {
  const summary = newSummary(raw);
  const layers: DecodedLayer[] = [];
  walkPacket(raw, summary, layers, options);
  return { summary, layers };
}
