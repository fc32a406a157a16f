/**
 * The broadcast envelope (docs/broadcast.md): one UDP datagram, a one-line ASCII header, then the body.
 *
 *   WLB1 <kind> <session> <seq> <time> <name> <length> <signature>\n<body>
 *
 * Text on purpose: a plain receiver such as the seeds' node.py, which prints `data.decode()`, shows a
 * readable header and the message. Pure: no IO; the session and the time come in as arguments.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { DecodeError } from '../common/errors.js';
import { MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_NAME_LENGTH } from './constants.js';

export const MAGIC = 'WLB1';
const MAGIC_BYTES = Buffer.from(`${MAGIC} `, 'ascii');
const NEWLINE = 0x0a;
const NAME_RE = /^[A-Za-z0-9._-]+$/;
const SESSION_RE = /^[0-9a-f]{16}$/;
const DIGITS_RE = /^(0|[1-9][0-9]*)$/;
const SIG_RE = /^[A-Za-z0-9_-]{86}$/;

/** M: a message from a master; A: a node's acknowledgement of one. */
export type EnvelopeKind = 'M' | 'A';

export interface Envelope {
  kind: EnvelopeKind;
  /** 16 hex digits, random per master run: scopes `seq` */
  session: string;
  /** 1, 2, 3... within the session; for an ack, the seq acknowledged */
  seq: number;
  /** µs since the epoch: when the master sent it, or when the node received it (ack) */
  timeUs: number;
  /** sender name: the master's, or the acknowledging node's */
  name: string;
  body: Buffer;
  /** Ed25519 signature (64 bytes) over the datagram with '-' in its place; undefined when unsigned */
  signature: Buffer | undefined;
}

export interface DecodeLimits {
  /** bytes, default MAX_BODY_BYTES */
  maxBody?: number;
}

function fail(message: string, offset?: number): never {
  throw new DecodeError('E_DECODE', message, offset);
}

function headerLine(e: Omit<Envelope, 'signature' | 'body'>, bodyLength: number, sig: string): string {
  return `${MAGIC} ${e.kind} ${e.session} ${e.seq} ${e.timeUs} ${e.name} ${bodyLength} ${sig}\n`;
}

function validate(e: Omit<Envelope, 'signature'>): void {
  if (!SESSION_RE.test(e.session)) fail(`session must be 16 hex digits: '${e.session}'`);
  if (!Number.isSafeInteger(e.seq) || e.seq < 0) fail(`bad sequence number ${e.seq}`);
  if (!Number.isSafeInteger(e.timeUs) || e.timeUs < 0) fail(`bad time ${e.timeUs}`);
  if (e.name.length === 0 || e.name.length > MAX_NAME_LENGTH || !NAME_RE.test(e.name)) {
    fail(`name must be 1-${MAX_NAME_LENGTH} characters of A-Z a-z 0-9 . _ -: '${e.name}'`);
  }
  if (e.body.length > MAX_BODY_BYTES) {
    throw new DecodeError('E_TOO_LARGE', `body of ${e.body.length} bytes is over the ${MAX_BODY_BYTES}-byte limit`);
  }
}

/** The bytes a signature covers: the datagram with '-' in the signature field. */
function signedBytes(e: Omit<Envelope, 'signature'>): Buffer {
  return Buffer.concat([Buffer.from(headerLine(e, e.body.length, '-'), 'ascii'), e.body]);
}

/** Encode an envelope; with `key` (an Ed25519 private key) it is signed. */
export function encodeEnvelope(e: Omit<Envelope, 'signature'>, key?: KeyObject): Buffer {
  validate(e);
  const sig = key ? sign(null, signedBytes(e), key).toString('base64url') : '-';
  return Buffer.concat([Buffer.from(headerLine(e, e.body.length, sig), 'ascii'), e.body]);
}

/** Does this datagram claim to be an envelope (starts with "WLB1 ")? */
export function looksLikeEnvelope(datagram: Buffer): boolean {
  return datagram.length >= MAGIC_BYTES.length && datagram.subarray(0, MAGIC_BYTES.length).equals(MAGIC_BYTES);
}

function parseNumber(field: string, what: string): number {
  if (!DIGITS_RE.test(field) || field.length > 16) fail(`bad ${what} '${field.slice(0, 20)}'`);
  const n = Number(field);
  if (!Number.isSafeInteger(n)) fail(`${what} out of range`);
  return n;
}

/** Decode an envelope datagram; throws DecodeError on anything malformed or over a limit. */
export function decodeEnvelope(datagram: Buffer, limits: DecodeLimits = {}): Envelope {
  if (!looksLikeEnvelope(datagram)) fail('not an envelope (no WLB1 magic)', 0);
  const end = datagram.indexOf(NEWLINE, 0);
  if (end < 0 || end >= MAX_HEADER_BYTES) {
    if (end < 0 && datagram.length < MAX_HEADER_BYTES) throw new DecodeError('E_TRUNCATED', 'header line has no end', datagram.length);
    throw new DecodeError('E_TOO_LARGE', `header line longer than ${MAX_HEADER_BYTES} bytes`, MAX_HEADER_BYTES);
  }
  const fields = datagram.toString('latin1', 0, end).split(' ');
  if (fields.length !== 8) fail(`header has ${fields.length} fields, expected 8`, 0);
  const [, kind, session, seq, time, name, length, sig] = fields as [string, string, string, string, string, string, string, string];
  if (kind !== 'M' && kind !== 'A') fail(`unknown kind '${kind.slice(0, 4)}'`, 5);
  const bodyLength = parseNumber(length, 'body length');
  const maxBody = limits.maxBody ?? MAX_BODY_BYTES;
  if (bodyLength > maxBody) throw new DecodeError('E_TOO_LARGE', `body length ${bodyLength} over the ${maxBody}-byte limit`);
  const bodyStart = end + 1;
  if (datagram.length - bodyStart !== bodyLength) {
    const code = datagram.length - bodyStart < bodyLength ? 'E_TRUNCATED' : 'E_DECODE';
    throw new DecodeError(code, `body is ${datagram.length - bodyStart} bytes, header says ${bodyLength}`, bodyStart);
  }
  if (sig !== '-' && !SIG_RE.test(sig)) fail('malformed signature field');
  const signature = sig === '-' ? undefined : Buffer.from(sig, 'base64url');
  // Only the canonical encoding: the last base64 digit carries 4 unused bits that must be zero,
  // otherwise one signature could be written 16 ways.
  if (signature && signature.toString('base64url') !== sig) fail('non-canonical signature encoding');
  const envelope: Envelope = {
    kind,
    session,
    seq: parseNumber(seq, 'sequence number'),
    timeUs: parseNumber(time, 'time'),
    name,
    body: datagram.subarray(bodyStart),
    signature,
  };
  validate(envelope);
  return envelope;
}

/** Is the envelope signed by `publicKey`? (Ed25519, RFC 8032) */
export function verifyEnvelope(e: Envelope, publicKey: KeyObject): boolean {
  if (!e.signature) return false;
  return verify(null, signedBytes(e), publicKey, e.signature);
}

/** The acknowledgement a node sends back for message `m`. */
export function ackFor(m: Pick<Envelope, 'session' | 'seq'>, nodeName: string, timeUs: number): Buffer {
  return encodeEnvelope({ kind: 'A', session: m.session, seq: m.seq, timeUs, name: nodeName, body: Buffer.alloc(0) });
}

/**
 * A stable pseudo-session for a plain-text datagram, so that its acknowledgement can be correlated:
 * the first 16 hex digits of its SHA-256.
 */
export function plainSession(datagram: Buffer): string {
  return createHash('sha256').update(datagram).digest('hex').slice(0, 16);
}
