/**
 * Cuts the original WhisperNet's records out of a TCP stream, pure (sans-IO).
 *
 * The original writes bare text with no length and no delimiter and reads it back with recv(1024), so
 * its own boundaries rely on timing and on padding. This splitter relies on neither: it reads each
 * record by its grammar (a known keyword, then `:`-separated fields of known character sets), so
 * records split across reads or merged within one come out the same. How a record ends:
 * - a fixed record (`forwarding`, `peer list`, `registered successfully`): at its last letter;
 * - one ending in a port (every other record but gmessage): at the first byte that cannot continue
 *   the port (padding or the next record's first letter), or, when nothing follows, after a quiet
 *   pause (flush(); the IO layer calls it QUIET_MS after the last byte). Such records are small,
 *   single writes, so TCP never splits them, it only merges them;
 * - a gmessage, whose text may hold spaces: at the 1024-byte mark where the original's padding ends
 *   (or at the end of the stream). Padding between records is skipped.
 * Limits are checked byte by byte before anything is stored; a byte outside the grammar is a
 * DecodeError and the splitter stays failed (the caller closes the connection).
 */
import { DecodeError } from '../../common/errors.js';
import { BLOCK_BYTES, MAX_HOST_CHARS, MAX_LIST_BYTES, MAX_LIST_ENTRIES, MAX_PADDING_BYTES, MAX_RECORD_BYTES, MAX_TIMESTAMP_CHARS } from './constants.js';

type Field = 'host' | 'port' | 'ts' | 'text';
type Grammar = 'fixed' | 'list' | Field[];
interface Kind {
  keyword: Buffer;
  grammar: Grammar;
}

/** Which records a connection may carry: to a seed, from a seed to a peer, or between peers. */
export type Vocabulary = 'seed' | 'seed-reply' | 'link';

const kind = (keyword: string, grammar: Grammar): Kind => ({ keyword: Buffer.from(keyword, 'latin1'), grammar });

const VOCABULARIES: Record<Vocabulary, Kind[]> = {
  seed: [kind('register:', ['host', 'port']), kind('peer list', 'fixed'), kind('Dead Node:', ['host', 'port', 'ts', 'host', 'port'])],
  'seed-reply': [kind('registered successfully', 'fixed'), kind('peer list:', 'list')],
  link: [
    kind('Connection with Peer:', ['host', 'port']),
    kind('gmessage:', ['ts', 'host', 'port', 'text']),
    kind('forwarding', 'fixed'),
    kind('Liveness Request:', ['ts', 'host', 'port']),
    kind('Liveness Reply:', ['ts', 'host', 'port', 'host', 'port']),
  ],
};

const COLON = 0x3a;
const HASH = 0x23;
const SPACE = 0x20;

/** Space, tab, CR, LF and NUL between records are padding. */
function isPadding(b: number): boolean {
  return b === SPACE || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x00;
}
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isHostByte = (b: number): boolean => isDigit(b) || (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === 0x2e || b === 0x2d;

const FIELD_BYTES: Record<Exclude<Field, 'text'>, [accept: (b: number) => boolean, max: number]> = {
  host: [isHostByte, MAX_HOST_CHARS],
  port: [isDigit, 5],
  ts: [(b) => isDigit(b) || b === 0x2e, MAX_TIMESTAMP_CHARS],
};

type State = 'padding' | 'keyword' | 'fields' | 'list';
/** Where a peer list is: right after `peer list:`, in a host, in a port, or after a port. */
type ListPart = 'start' | 'host' | 'port' | 'after-port';

export interface SplitterLimits {
  maxPaddingBytes?: number;
  maxListBytes?: number;
  maxListEntries?: number;
}

export class RecordSplitter {
  private readonly kinds: Kind[];
  private readonly buf: Buffer;
  private len = 0;
  private state: State = 'padding';
  private candidates: Kind[] = [];
  private current: Kind | undefined;
  private field = 0;
  private fieldLen = 0;
  private listPart: ListPart = 'start';
  private entries = 0;
  private paddingRun = 0;
  private consumed = 0;
  private failed: DecodeError | undefined;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  private readonly maxPadding: number;
  private readonly maxListEntries: number;

  constructor(vocabulary: Vocabulary, limits: SplitterLimits = {}) {
    this.kinds = VOCABULARIES[vocabulary];
    this.maxPadding = limits.maxPaddingBytes ?? MAX_PADDING_BYTES;
    this.maxListEntries = limits.maxListEntries ?? MAX_LIST_ENTRIES;
    const hasList = this.kinds.some((k) => k.grammar === 'list');
    this.buf = Buffer.allocUnsafe(hasList ? (limits.maxListBytes ?? MAX_LIST_BYTES) : MAX_RECORD_BYTES);
  }

  /** Feed bytes in any split; returns the records they complete (padding removed). Throws DecodeError. */
  push(chunk: Uint8Array): string[] {
    if (this.failed) throw this.failed;
    const out: string[] = [];
    let i = 0;
    while (i < chunk.length) {
      // Padding and a gmessage's text (most of the bytes) are taken in runs; the rest byte by byte.
      if (this.state === 'padding') i = this.skipPadding(chunk, i);
      else if (this.inText) i = this.takeText(chunk, i, out);
      else if (this.step(chunk[i]!, out)) {
        i++;
        this.consumed++;
      }
    }
    return out;
  }

  /** Skip the run of padding at `i`; returns where it ends (the next record's first byte, or the end). */
  private skipPadding(chunk: Uint8Array, i: number): number {
    let j = i;
    while (j < chunk.length && isPadding(chunk[j]!)) j++;
    this.paddingRun += j - i;
    this.consumed += j - i;
    if (this.paddingRun > this.maxPadding) this.fail('E_TOO_LARGE', `more than ${this.maxPadding} bytes of padding`);
    if (j < chunk.length) {
      this.paddingRun = 0;
      this.state = 'keyword';
      this.candidates = this.kinds;
    }
    return j;
  }

  /** A gmessage's text runs to the 1024-byte mark: copy what this chunk holds of it. */
  private takeText(chunk: Uint8Array, i: number, out: string[]): number {
    const take = Math.min(BLOCK_BYTES - this.len, chunk.length - i);
    this.buf.set(chunk.subarray(i, i + take), this.len);
    this.len += take;
    this.fieldLen += take;
    this.consumed += take;
    if (this.len >= BLOCK_BYTES) this.emit(out);
    return i + take;
  }

  /**
   * The stream paused (`final`: ended). Returns the record held if a pause may end it: one ending
   * in a port or a peer list; at the end of the stream also a gmessage short of its padding.
   */
  flush(final = false): string[] {
    if (this.failed) throw this.failed;
    const out: string[] = [];
    if (this.waiting || (final && this.inText && this.fieldLen > 0)) this.emit(out);
    else if (final && this.state !== 'padding') this.fail('E_TRUNCATED', 'stream ended inside a record');
    return out;
  }

  /** A record is held that a quiet pause would end (the IO layer arms its timer only then). */
  get waiting(): boolean {
    if (this.state === 'list') return this.listPart === 'start' || this.listPart === 'after-port' || (this.listPart === 'port' && this.fieldLen > 0);
    if (this.state !== 'fields' || this.current === undefined) return false;
    const fields = this.current.grammar as Field[];
    const last = this.field === fields.length - 1;
    return last && fields[this.field] !== 'text' && this.fieldLen > 0;
  }

  private get inText(): boolean {
    return this.state === 'fields' && (this.current!.grammar as Field[])[this.field] === 'text';
  }

  /** Bytes of an unfinished record held (for stats and tests). */
  get pending(): number {
    return this.len;
  }

  /** One byte; returns false when the byte was not consumed (a record ended before it). */
  private step(b: number, out: string[]): boolean {
    switch (this.state) {
      case 'padding':
        return true; // not reached: push() skips padding in runs
      case 'keyword':
        return this.onKeyword(b, out);
      case 'fields':
        return this.onField(b, out);
      case 'list':
        return this.onList(b, out);
    }
  }

  private onKeyword(b: number, out: string[]): boolean {
    const at = this.len;
    // one candidate left (the usual case after the first letter): compare without a new array
    if (this.candidates.length !== 1 || this.candidates[0]!.keyword[at] !== b) this.candidates = this.candidates.filter((k) => k.keyword[at] === b);
    if (this.candidates.length === 0) {
      const seen = Buffer.concat([this.buf.subarray(0, this.len), Buffer.of(b)]).toString('latin1');
      this.fail('E_DECODE', `unknown record starting '${escapeBytes(seen)}'`);
    }
    this.append(b);
    const done = this.candidates.find((k) => k.keyword.length === this.len);
    if (!done) return true;
    this.current = done;
    if (done.grammar === 'fixed') this.emit(out);
    else if (done.grammar === 'list') {
      this.state = 'list';
      this.listPart = 'start';
      this.entries = 0;
    } else {
      this.state = 'fields';
      this.field = 0;
      this.fieldLen = 0;
    }
    return true;
  }

  private onField(b: number, out: string[]): boolean {
    const fields = this.current!.grammar as Field[];
    const f = fields[this.field]!;
    const last = this.field === fields.length - 1;
    if (f === 'text') return true; // not reached: push() takes text in runs
    if (b === COLON && !last) {
      if (this.fieldLen === 0) this.fail('E_DECODE', `empty ${f} field`);
      this.append(b);
      this.field++;
      this.fieldLen = 0;
      return true;
    }
    const [accept, max] = FIELD_BYTES[f];
    if (accept(b)) {
      if (++this.fieldLen > max) this.fail('E_TOO_LARGE', `${f} field longer than ${max} bytes`);
      this.append(b);
      return true;
    }
    if (last && this.fieldLen > 0) {
      this.emit(out);
      return false;
    }
    return this.fail('E_DECODE', `byte 0x${b.toString(16).padStart(2, '0')} in a ${f} field`);
  }

  private onList(b: number, out: string[]): boolean {
    switch (this.listPart) {
      case 'start':
      case 'after-port':
        if (b === COLON) {
          this.append(b);
          this.listPart = 'host';
          this.fieldLen = 0;
          return true;
        }
        if (this.listPart === 'start' && isHostByte(b)) {
          this.listPart = 'host'; // `peer list:a#p`, one colon: tolerated
          this.fieldLen = 0;
          return false;
        }
        this.emit(out);
        return false;
      case 'host':
        if (b === HASH) {
          if (this.fieldLen === 0) this.fail('E_DECODE', 'empty host in a peer list');
          this.listPart = 'port';
          this.fieldLen = 0;
        } else if (!isHostByte(b) || ++this.fieldLen > MAX_HOST_CHARS) {
          this.fail('E_DECODE', 'bad host in a peer list');
        }
        this.append(b);
        return true;
      case 'port':
        if (isDigit(b)) {
          if (++this.fieldLen > 5) this.fail('E_DECODE', 'bad port in a peer list');
          this.append(b);
          return true;
        }
        if (this.fieldLen === 0) this.fail('E_DECODE', 'empty port in a peer list');
        if (++this.entries > this.maxListEntries) this.fail('E_TOO_LARGE', `peer list of more than ${this.maxListEntries} entries`);
        this.listPart = 'after-port';
        return false;
    }
  }

  private append(b: number): void {
    if (this.len >= this.buf.length) this.fail('E_TOO_LARGE', `record longer than ${this.buf.length} bytes`);
    this.buf[this.len++] = b;
  }

  /** Hand the record held out (trailing padding removed) and look for the next one. */
  private emit(out: string[]): void {
    let end = this.len;
    while (end > 0 && this.buf[end - 1] === SPACE) end--;
    let text: string;
    try {
      text = this.utf8.decode(this.buf.subarray(0, end));
    } catch {
      this.fail('E_DECODE', 'record is not valid UTF-8');
    }
    out.push(text);
    this.len = 0;
    this.state = 'padding';
    this.current = undefined;
    this.fieldLen = 0;
  }

  private fail(code: 'E_DECODE' | 'E_TOO_LARGE' | 'E_TRUNCATED', message: string): never {
    this.failed = new DecodeError(code, message, this.consumed);
    throw this.failed;
  }
}

/** Bytes shown in an error: printable ASCII as is, the rest as \xNN. */
function escapeBytes(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).slice(0, 40);
}
