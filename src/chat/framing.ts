/**
 * The seed's record framing (pure): u16be header length, header, u32be payload length, payload.
 * Lengths count BYTES (the original counted characters, which breaks on non-ASCII text). After some
 * records the seed switches a stream to raw file bytes ended by the three bytes `EOF`; the decoder
 * follows when `rawAfter` says so. Limits are checked before anything is allocated.
 */
import { MAX_HEADER_BYTES, MAX_PAYLOAD_BYTES, MAX_SKIP_BYTES } from './constants.js';

/** One decoded item of a stream. */
export type Frame =
  | { kind: 'record'; header: string; payload: Buffer }
  /** file bytes of a raw (seed) transfer */
  | { kind: 'raw'; data: Buffer }
  /** the `EOF` that ends a raw transfer */
  | { kind: 'raw-end' }
  /** a bad record: `fatal` means the stream cannot be followed any further */
  | { kind: 'error'; code: FrameErrorCode; message: string; fatal: boolean };

export type FrameErrorCode = 'E_HEADER_LENGTH' | 'E_HEADER' | 'E_TOO_LARGE';

/** Encode one record. Lengths are byte counts of the UTF-8 (or raw) bytes. */
export function encodeRecord(header: string, payload: string | Uint8Array): Buffer {
  const h = Buffer.from(header, 'utf8');
  const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (h.length === 0 || h.length > 0xffff) throw new RangeError(`header of ${h.length} bytes cannot be framed`);
  if (p.length > 0xffffffff) throw new RangeError(`payload of ${p.length} bytes cannot be framed`);
  const out = Buffer.allocUnsafe(6 + h.length + p.length);
  out.writeUInt16BE(h.length, 0);
  h.copy(out, 2);
  out.writeUInt32BE(p.length, 2 + h.length);
  out.set(p, 6 + h.length);
  return out;
}

export interface DecoderOptions {
  /** longest header accepted (bytes) */
  maxHeaderBytes?: number;
  /** longest payload accepted (bytes); longer ones are skipped up to `maxSkipBytes`, beyond that fatal */
  maxPayloadBytes?: number;
  maxSkipBytes?: number;
  /** true when the bytes after this record are a raw transfer ended by `EOF` (the seed's file_transfer) */
  rawAfter?: (header: string, payload: Buffer) => boolean;
  /** headers a peer may send: used to tell the `EOF` ending a raw transfer from `EOF` inside a file */
  knownHeaders?: readonly string[];
  /**
   * Memory for a payload of this header and length (already checked against the limit), or null for
   * the default. Lets file chunks land in reused buffers (chunk-pool.ts) instead of fresh ones.
   */
  payloadBuffer?: (header: string, length: number) => Buffer | null;
}

type State = 'headerLength' | 'header' | 'payloadLength' | 'payload' | 'skip' | 'raw' | 'dead';

const EOF = Buffer.from('EOF', 'latin1');
/** bytes after an `EOF` needed to recognise the start of a following record: u16 + the longest known header */
const LOOKAHEAD = 2 + 16;

/**
 * Stream decoder: `push(chunk)` returns every frame completed by that chunk. One method per state.
 * Chunk boundaries matter only in raw mode, as in the seed: an `EOF` ending a chunk ends the transfer
 * (the seed sends `EOF` in its own send), as does an `EOF` followed by the start of a known record.
 */
export class FrameDecoder {
  private state: State = 'headerLength';
  private readonly maxHeader: number;
  private readonly maxPayload: number;
  private readonly maxSkip: number;
  private readonly rawAfter: (header: string, payload: Buffer) => boolean;
  private readonly known: ReadonlySet<string>;
  private readonly payloadBuffer: (header: string, length: number) => Buffer | null;
  /** bytes of the current field gathered so far */
  private parts: Buffer[] = [];
  /** where the current payload is copied, when `payloadBuffer` gave memory for it */
  private into: Buffer | null = null;
  private have = 0;
  private need = 2;
  private header = '';
  private headerOk = true;
  private skipLeft = 0;
  /** raw mode: bytes held back because they may be (part of) the ending `EOF` */
  private rawHeld: Buffer = Buffer.alloc(0);

  constructor(options: DecoderOptions = {}) {
    this.maxHeader = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
    this.maxPayload = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
    this.maxSkip = options.maxSkipBytes ?? MAX_SKIP_BYTES;
    this.rawAfter = options.rawAfter ?? (() => false);
    this.known = new Set(options.knownHeaders ?? []);
    this.payloadBuffer = options.payloadBuffer ?? (() => null);
  }

  /** true while a raw transfer is being read */
  get inRaw(): boolean {
    return this.state === 'raw';
  }

  /** Decode what `chunk` completes. Never throws on any input. */
  push(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    let rest = chunk;
    while (rest.length > 0 && this.state !== 'dead') {
      rest = this.step(rest, out);
    }
    return out;
  }

  private step(data: Buffer, out: Frame[]): Buffer {
    switch (this.state) {
      case 'headerLength':
        return this.gather(data, (field) => this.onHeaderLength(field.readUInt16BE(0), out));
      case 'header':
        return this.gather(data, (field) => this.onHeader(field));
      case 'payloadLength':
        return this.gather(data, (field) => this.onPayloadLength(field.readUInt32BE(0), out));
      case 'payload':
        return this.gather(data, (field) => this.onPayload(field, out));
      case 'skip':
        return this.onSkip(data, out);
      case 'raw':
        return this.onRaw(data, out);
      case 'dead':
        return Buffer.alloc(0);
    }
  }

  /** Collect `need` bytes of a field across chunks, then hand the whole field on. */
  private gather(data: Buffer, done: (field: Buffer) => void): Buffer {
    const take = Math.min(this.need - this.have, data.length);
    if (this.into) data.copy(this.into, this.have, 0, take);
    else this.parts.push(data.subarray(0, take));
    this.have += take;
    if (this.have === this.need) {
      const field = this.into ?? (this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.have));
      this.into = null;
      this.parts = [];
      this.have = 0;
      done(field);
    }
    return data.subarray(take);
  }

  private expect(state: State, bytes: number): void {
    this.state = state;
    this.need = bytes;
  }

  private onHeaderLength(length: number, out: Frame[]): void {
    if (length === 0 || length > this.maxHeader) {
      this.state = 'dead';
      out.push({ kind: 'error', code: 'E_HEADER_LENGTH', message: `header length ${length} outside 1..${this.maxHeader}`, fatal: true });
      return;
    }
    this.expect('header', length);
  }

  private onHeader(field: Buffer): void {
    // headers are printable ASCII words
    this.headerOk = field.every((b) => b > 0x20 && b < 0x7f);
    this.header = this.headerOk ? field.toString('latin1') : '';
    this.expect('payloadLength', 4);
  }

  private onPayloadLength(length: number, out: Frame[]): void {
    if (length > this.maxPayload) {
      if (length > this.maxSkip) {
        this.state = 'dead';
        out.push({ kind: 'error', code: 'E_TOO_LARGE', message: `payload of ${length} bytes is over ${this.maxSkip}`, fatal: true });
        return;
      }
      out.push({ kind: 'error', code: 'E_TOO_LARGE', message: `payload of ${length} bytes is over ${this.maxPayload}; skipped`, fatal: false });
      this.skipLeft = length;
      this.state = 'skip';
      return;
    }
    if (length === 0) {
      this.onPayload(Buffer.alloc(0), out);
      return;
    }
    this.into = this.headerOk ? this.payloadBuffer(this.header, length) : null;
    this.expect('payload', length);
  }

  private onPayload(field: Buffer, out: Frame[]): void {
    this.expect('headerLength', 2);
    if (!this.headerOk) {
      out.push({ kind: 'error', code: 'E_HEADER', message: 'header is not printable ASCII', fatal: false });
      return;
    }
    out.push({ kind: 'record', header: this.header, payload: field });
    if (this.rawAfter(this.header, field)) this.state = 'raw';
  }

  private onSkip(data: Buffer, _out: Frame[]): Buffer {
    const take = Math.min(this.skipLeft, data.length);
    this.skipLeft -= take;
    if (this.skipLeft === 0) this.expect('headerLength', 2);
    return data.subarray(take);
  }

  /**
   * Raw transfer bytes. The transfer ends at an `EOF` that ends the chunk (the seed's rule) or that is
   * followed by the start of a known record. Bytes that might be the start of such an `EOF` are held
   * back until the next chunk tells.
   */
  private onRaw(chunk: Buffer, out: Frame[]): Buffer {
    const data = this.rawHeld.length > 0 ? Buffer.concat([this.rawHeld, chunk]) : chunk;
    this.rawHeld = Buffer.alloc(0);
    let from = 0;
    for (;;) {
      const at = data.indexOf(EOF, from);
      if (at < 0) break;
      const after = data.length - (at + 3);
      const verdict = after === 0 ? 'end' : this.recordStartsAt(data, at + 3);
      if (verdict === 'end') {
        if (at > 0) out.push({ kind: 'raw', data: data.subarray(0, at) });
        out.push({ kind: 'raw-end' });
        this.expect('headerLength', 2);
        return data.subarray(at + 3);
      }
      if (verdict === 'unsure') {
        if (at > 0) out.push({ kind: 'raw', data: data.subarray(0, at) });
        this.rawHeld = Buffer.from(data.subarray(at));
        return Buffer.alloc(0);
      }
      from = at + 1;
    }
    // hold back a trailing "E" or "EO": the rest of an EOF may come in the next chunk
    let keep = 0;
    if (data.length >= 2 && data[data.length - 2] === 0x45 && data[data.length - 1] === 0x4f) keep = 2;
    else if (data.length >= 1 && data[data.length - 1] === 0x45) keep = 1;
    if (data.length - keep > 0) out.push({ kind: 'raw', data: data.subarray(0, data.length - keep) });
    if (keep > 0) this.rawHeld = Buffer.from(data.subarray(data.length - keep));
    return Buffer.alloc(0);
  }

  /** Does a known record start at `at`? 'unsure' when too few bytes have come to tell. */
  private recordStartsAt(data: Buffer, at: number): 'end' | 'no' | 'unsure' {
    const left = data.length - at;
    if (left < 2) return left === 1 && data[at] !== 0 ? 'no' : 'unsure';
    const hl = data.readUInt16BE(at);
    if (hl === 0 || hl > LOOKAHEAD - 2) return 'no';
    if (left < 2 + hl) {
      const partial = data.toString('latin1', at + 2, data.length);
      for (const name of this.known) if (name.length === hl && name.startsWith(partial)) return 'unsure';
      return 'no';
    }
    return this.known.has(data.toString('latin1', at + 2, at + 2 + hl)) ? 'end' : 'no';
  }
}
