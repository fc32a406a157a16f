/**
 * What a node makes of one datagram: an envelope it accepts, plain text from another program, a
 * duplicate, something it rejects (trust, replay, time) or something it cannot read. Pure: the time,
 * the trusted key and the session windows come in as arguments.
 */
import { isUtf8 } from 'node:buffer';
import type { KeyObject } from 'node:crypto';
import { DecodeError } from '../common/errors.js';
import { decodeEnvelope, looksLikeEnvelope, verifyEnvelope, type Envelope } from './envelope.js';
import type { SessionWindows } from './replay.js';
import { MAX_SEQ_JUMP } from './constants.js';

export type Verdict =
  | { kind: 'message'; envelope: Envelope; verified: boolean }
  | { kind: 'plain'; text: string }
  | { kind: 'duplicate'; envelope: Envelope }
  | { kind: 'ack'; envelope: Envelope }
  | { kind: 'rejected'; reason: string; envelope?: Envelope }
  | { kind: 'invalid'; reason: string; oversized: boolean };

export interface ClassifyContext {
  /** ms since the epoch */
  nowMs: number;
  /** accept only envelopes signed by this Ed25519 public key */
  trust: KeyObject | undefined;
  /** ms of clock difference tolerated when trusting */
  maxSkewMs: number;
  /** bytes */
  maxDatagram: number;
  windows: SessionWindows;
  /** the sender's IP address: unsigned envelopes are de-duplicated per sender (a forgery from elsewhere cannot touch the genuine sender's window) */
  source: string;
  /**
   * µs since the epoch: signed messages of a session this node does not remember that were sent
   * before this instant are refused (a replay across a restart); the node's start time
   */
  notBeforeUs?: number;
}

/**
 * Printable text: valid UTF-8 without NUL or other C0 controls but tab, CR and LF. Checked with
 * isUtf8 rather than a fatal TextDecoder: a thrown error per junk datagram cost about 12 µs, which a
 * flood turns into lost genuine messages.
 */
function asText(datagram: Buffer): string | undefined {
  if (!isUtf8(datagram)) return undefined;
  const text = datagram.toString('utf8');
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

export function classifyDatagram(datagram: Buffer, ctx: ClassifyContext): Verdict {
  if (datagram.length > ctx.maxDatagram) {
    return { kind: 'invalid', reason: `oversized datagram: ${datagram.length} bytes (limit ${ctx.maxDatagram})`, oversized: true };
  }
  if (datagram.length === 0) return { kind: 'invalid', reason: 'empty datagram', oversized: false };
  if (!looksLikeEnvelope(datagram)) {
    if (ctx.trust) return { kind: 'rejected', reason: 'unsigned plain-text datagram' };
    const text = asText(datagram);
    if (text === undefined) return { kind: 'invalid', reason: `not text nor an envelope (${datagram.length} bytes)`, oversized: false };
    return { kind: 'plain', text };
  }
  let envelope: Envelope;
  try {
    envelope = decodeEnvelope(datagram, { maxBody: ctx.maxDatagram });
  } catch (err) {
    if (err instanceof DecodeError) return { kind: 'invalid', reason: `malformed envelope: ${err.message}`, oversized: false };
    throw err;
  }
  if (envelope.kind === 'A') return { kind: 'ack', envelope };
  if (ctx.trust) return classifySigned(envelope, ctx, ctx.trust);
  // Unsigned: the window only drops copies. A sequence number below the window or too far above it
  // cannot be judged, so the message is shown without moving the window.
  const seen = ctx.windows.accept(`${ctx.source} ${envelope.session}`, envelope.seq, MAX_SEQ_JUMP);
  if (seen === 'duplicate') return { kind: 'duplicate', envelope };
  return { kind: 'message', envelope, verified: false };
}

function classifySigned(envelope: Envelope, ctx: ClassifyContext, trust: KeyObject): Verdict {
  if (!envelope.signature) return { kind: 'rejected', reason: 'unsigned envelope', envelope };
  if (!verifyEnvelope(envelope, trust)) return { kind: 'rejected', reason: 'bad signature (forged or altered)', envelope };
  const skewMs = Math.abs(ctx.nowMs - envelope.timeUs / 1000);
  if (skewMs > ctx.maxSkewMs) {
    return { kind: 'rejected', reason: `time skew of ${(skewMs / 1000).toFixed(1)} s (limit ${ctx.maxSkewMs / 1000} s)`, envelope };
  }
  if (ctx.notBeforeUs !== undefined && envelope.timeUs < ctx.notBeforeUs && !ctx.windows.has(envelope.session)) {
    return { kind: 'rejected', reason: 'sent before this node started (a replay across a restart?)', envelope };
  }
  const seen = ctx.windows.accept(envelope.session, envelope.seq);
  if (seen === 'new') return { kind: 'message', envelope, verified: true };
  return { kind: 'rejected', reason: seen === 'duplicate' ? 'replayed message' : 'sequence number too old', envelope };
}
