/**
 * Scores of recently seen feature vectors, so that a vector seen before is not walked through the
 * forest again. Packet-shape features (size, protocol, port classes, flags) repeat all the time in
 * real traffic (every pure ACK of a connection looks the same), and a score is a pure function of
 * the vector, so a hit gives exactly the score a walk would. Direct-mapped: a fixed table of
 * `slots` slots, a new vector overwrites whatever held its slot. Memory is fixed whatever the
 * traffic.
 */
import { WirelabError } from '../common/errors.js';
import type { IsolationForest } from './iforest.js';

/** Slots in the table unless told (a power of two). */
const DEFAULT_MEMO_SLOTS = 4096;

export class ScoreMemo {
  /** per slot: the vector (dims numbers), then its score */
  private readonly table: Float64Array;
  private readonly filled: Uint8Array;
  private readonly mask: number;
  /** the vectors that missed, packed, and where each goes */
  private misses = new Float64Array(0);
  private missRows = new Int32Array(0);
  private missScores = new Float64Array(0);
  /** one vector as doubles, and the same bytes as 32-bit words for hashing */
  private readonly bits: Float64Array;
  private readonly words: Int32Array;
  hits = 0;
  lookups = 0;

  /** @param slots table size, a power of two (2 .. 2^20) */
  constructor(
    private readonly forest: IsolationForest,
    private readonly dims: number,
    slots = DEFAULT_MEMO_SLOTS,
  ) {
    if (!Number.isInteger(slots) || slots < 2 || slots > 2 ** 20 || (slots & (slots - 1)) !== 0) {
      throw new WirelabError('E_CONFIG', `score memo slots must be a power of two 2..2^20, got ${slots}`);
    }
    this.mask = slots - 1;
    this.filled = new Uint8Array(slots);
    this.table = new Float64Array(slots * (dims + 1));
    this.bits = new Float64Array(dims);
    this.words = new Int32Array(this.bits.buffer);
  }

  /**
   * Scores of `rows` vectors of `dims` numbers, one after another in `data`, into `out`: from the
   * table where the same vector is held, the rest through forest.scoreBatch().
   */
  scoreRows(data: Float64Array, rows: number, out: Float64Array): void {
    if (this.missRows.length < rows) {
      this.misses = new Float64Array(rows * this.dims);
      this.missRows = new Int32Array(rows);
      this.missScores = new Float64Array(rows);
    }
    const { table, dims } = this;
    const width = dims + 1;
    let missed = 0;
    for (let r = 0; r < rows; r++) {
      const slot = this.slotOf(data, r * dims);
      const at = slot * width;
      let same = this.filled[slot] === 1;
      for (let k = 0; k < dims && same; k++) same = table[at + k] === data[r * dims + k];
      if (same) {
        out[r] = table[at + dims]!;
        continue;
      }
      this.misses.set(data.subarray(r * dims, r * dims + dims), missed * dims);
      this.missRows[missed++] = r;
    }
    this.lookups += rows;
    this.hits += rows - missed;
    if (missed === 0) return;
    this.forest.scoreBatch(this.misses, missed, dims, this.missScores);
    for (let m = 0; m < missed; m++) {
      const r = this.missRows[m]!;
      const score = this.missScores[m]!;
      out[r] = score;
      const slot = this.slotOf(data, r * dims);
      table.set(data.subarray(r * dims, r * dims + dims), slot * width);
      table[slot * width + dims] = score;
      this.filled[slot] = 1;
    }
  }

  /**
   * A hash of the vector's bits to a slot: MurmurHash3's 32-bit mixing over its 32-bit words and its
   * final avalanche. (Small integers as doubles differ only in their high bits; a hash whose low
   * bits depend only on the inputs' low bits, as FNV-1a's, put them all in a few slots.)
   */
  private slotOf(data: Float64Array, offset: number): number {
    const { bits, words } = this;
    for (let k = 0; k < this.dims; k++) bits[k] = data[offset + k]!;
    let h = 0x9747b28c;
    for (let w = 0; w < words.length; w++) {
      let k = Math.imul(words[w]!, 0xcc9e2d51);
      k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
      h ^= k;
      h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.mask;
  }
}
