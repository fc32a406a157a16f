/**
 * PacketSummary batches in a compact column form for postMessage to the detector's worker thread:
 * the numeric fields in one Float64Array (transferred, not copied), the string fields as indices
 * into a small per-batch table of distinct strings (addresses and protocol names repeat all the
 * time). Structured cloning a few typed arrays and a short string list costs far less than cloning
 * thousands of objects. Only the fields the detector reads travel (not `flags`, `info`, `error`).
 */
import type { PacketSummary } from '../capture/types.js';
import { WirelabError } from '../common/errors.js';

/** Numbers per packet: index, tsSec, tsNsec, sport, dport, ipProto, length, tcpFlags. */
const NUMBERS = 8;
/** String references per packet: type, src, dst, protocol (-1: undefined). */
const REFS = 4;

/** One batch in column form (what crosses the thread boundary). */
export interface PacketColumns {
  count: number;
  numbers: Float64Array<ArrayBuffer>;
  refs: Int32Array<ArrayBuffer>;
  strings: string[];
}

/** Builds column batches of up to `capacity` packets. */
export class PacketColumnsWriter {
  private numbers: Float64Array<ArrayBuffer>;
  private refs: Int32Array<ArrayBuffer>;
  private strings: string[] = [];
  private readonly table = new Map<string, number>();
  count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1_000_000)
      throw new WirelabError('E_CONFIG', `batch capacity must be 1..1000000, got ${capacity}`);
    this.numbers = new Float64Array(capacity * NUMBERS);
    this.refs = new Int32Array(capacity * REFS);
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /** Append a packet; false (and nothing added) when the batch is full. */
  add(p: PacketSummary): boolean {
    if (this.full) return false;
    const n = this.count * NUMBERS;
    const num = this.numbers;
    num[n] = p.index;
    num[n + 1] = p.tsSec;
    num[n + 2] = p.tsNsec;
    num[n + 3] = p.sport ?? Number.NaN;
    num[n + 4] = p.dport ?? Number.NaN;
    num[n + 5] = p.ipProto;
    num[n + 6] = p.length;
    num[n + 7] = p.tcpFlags;
    const r = this.count * REFS;
    this.refs[r] = this.ref(p.type);
    this.refs[r + 1] = this.ref(p.src);
    this.refs[r + 2] = this.ref(p.dst);
    this.refs[r + 3] = this.ref(p.protocol);
    this.count++;
    return true;
  }

  /** Hand over the batch built so far (its buffers can be transferred) and start an empty one. */
  take(): PacketColumns {
    const batch = { count: this.count, numbers: this.numbers, refs: this.refs, strings: this.strings };
    this.numbers = new Float64Array(this.capacity * NUMBERS);
    this.refs = new Int32Array(this.capacity * REFS);
    this.strings = [];
    this.table.clear();
    this.count = 0;
    return batch;
  }

  private ref(text: string | undefined): number {
    if (text === undefined) return -1;
    let at = this.table.get(text);
    if (at === undefined) {
      at = this.strings.length;
      this.strings.push(text);
      this.table.set(text, at);
    }
    return at;
  }
}

function numberOrUndefined(x: number): number | undefined {
  return Number.isNaN(x) ? undefined : x;
}

/** The packets of a column batch (fields the detector does not read are empty). */
export function readColumns(c: PacketColumns): PacketSummary[] {
  if (
    !Number.isInteger(c.count) ||
    c.count < 0 ||
    c.numbers.length < c.count * NUMBERS ||
    c.refs.length < c.count * REFS
  ) {
    throw new WirelabError('E_DECODE', `packet batch of ${c.count} does not fit its columns`);
  }
  const text = (ref: number): string | undefined => {
    if (ref === -1) return undefined;
    const s = c.strings[ref];
    if (s === undefined) throw new WirelabError('E_DECODE', `packet batch: no string ${ref}`);
    return s;
  };
  const out: PacketSummary[] = new Array<PacketSummary>(c.count);
  for (let i = 0; i < c.count; i++) {
    const n = i * NUMBERS;
    const r = i * REFS;
    out[i] = {
      index: c.numbers[n]!,
      tsSec: c.numbers[n + 1]!,
      tsNsec: c.numbers[n + 2]!,
      type: text(c.refs[r]!) ?? '',
      src: text(c.refs[r + 1]!),
      dst: text(c.refs[r + 2]!),
      sport: numberOrUndefined(c.numbers[n + 3]!),
      dport: numberOrUndefined(c.numbers[n + 4]!),
      protocol: text(c.refs[r + 3]!) ?? '',
      ipProto: c.numbers[n + 5]!,
      length: c.numbers[n + 6]!,
      tcpFlags: c.numbers[n + 7]!,
      flags: '',
      info: '',
    };
  }
  return out;
}
