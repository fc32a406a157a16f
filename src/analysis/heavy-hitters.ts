/**
 * Space-saving heavy hitters (Metwally, Agrawal, El Abbadi, "Efficient Computation of Frequent and
 * Top-k Elements in Data Streams", ICDT 2005), weighted. A fixed number of counters k: a key already
 * monitored adds its weight; a new key takes over the smallest counter and inherits its count as its
 * error bound. Any key whose true total exceeds (total weight / k) is guaranteed to be monitored, and
 * each reported count overestimates the truth by at most its `error`. Memory is O(k) on any stream.
 *
 * The smallest counter is found through an indexed binary min-heap, so an update is O(log k).
 */
import { WirelabError } from '../common/errors.js';
import { MAX_TALKER_COUNTERS } from './constants.js';

/** One monitored key. */
export interface HeavyHitter {
  key: string;
  /** estimated total weight (an upper bound of the truth) */
  count: number;
  /** most by which `count` may overestimate the truth */
  error: number;
}

export class SpaceSaving {
  private readonly keys: string[] = [];
  private readonly counts: Float64Array;
  private readonly errors: Float64Array;
  /** heap[i] = slot; pos[slot] = i */
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  private readonly slotOf = new Map<string, number>();
  private used = 0;
  private totalWeight = 0;

  /** @param capacity number of counters k (1..MAX_TALKER_COUNTERS) */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_TALKER_COUNTERS) {
      throw new WirelabError(
        'E_CONFIG',
        `heavy-hitter counters must be 1..${MAX_TALKER_COUNTERS}, got ${capacity}`,
      );
    }
    this.counts = new Float64Array(capacity);
    this.errors = new Float64Array(capacity);
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity);
  }

  /** Total weight offered so far (exact). */
  get total(): number {
    return this.totalWeight;
  }

  /** Add `weight` (>= 0) to `key`. */
  add(key: string, weight: number): void {
    this.totalWeight += weight;
    const slot = this.slotOf.get(key);
    if (slot !== undefined) {
      this.counts[slot]! += weight;
      this.siftDown(this.pos[slot]!);
      return;
    }
    if (this.used < this.capacity) {
      const fresh = this.used++;
      this.keys[fresh] = key;
      this.counts[fresh] = weight;
      this.errors[fresh] = 0;
      this.slotOf.set(key, fresh);
      this.heap[fresh] = fresh;
      this.pos[fresh] = fresh;
      this.siftUp(fresh);
      return;
    }
    // Take over the minimum counter: its count becomes the newcomer's error bound.
    const victim = this.heap[0]!;
    this.slotOf.delete(this.keys[victim]!);
    this.keys[victim] = key;
    this.slotOf.set(key, victim);
    this.errors[victim] = this.counts[victim]!;
    this.counts[victim]! += weight;
    this.siftDown(0);
  }

  /** The monitored keys, largest count first (at most `limit`). */
  top(limit = this.capacity): HeavyHitter[] {
    const result: HeavyHitter[] = [];
    for (let slot = 0; slot < this.used; slot++) {
      result.push({ key: this.keys[slot]!, count: this.counts[slot]!, error: this.errors[slot]! });
    }
    result.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
    return result.slice(0, limit);
  }

  private siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.counts[this.heap[parent]!]! <= this.counts[this.heap[i]!]!) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(index: number): void {
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.used) return;
      const right = left + 1;
      let child = left;
      if (right < this.used && this.counts[this.heap[right]!]! < this.counts[this.heap[left]!]!)
        child = right;
      if (this.counts[this.heap[i]!]! <= this.counts[this.heap[child]!]!) return;
      this.swap(i, child);
      i = child;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    this.heap[i] = b;
    this.heap[j] = a;
    this.pos[b] = i;
    this.pos[a] = j;
  }
}

/** distinct keys a TalkerBatch gathers before it hands them on */
const BATCH_KEYS = 1024;
/** packets a TalkerBatch gathers before it hands them on */
const BATCH_PACKETS = 8192;
/** open-addressing table of IPv4 keys: four times BATCH_KEYS, so probes stay short */
const V4_TABLE_SIZE = 4 * BATCH_KEYS;
const V4_TABLE_SHIFT = 32 - Math.log2(V4_TABLE_SIZE);

/**
 * Packets and bytes per address gathered over a few thousand packets, then added to two Space-Saving
 * sketches (by bytes, by packets) once per address with its total as the weight. With more addresses
 * than counters a sketch evicts on almost every add; gathering first turns one add per packet into
 * one per address per batch. Space-Saving's guarantees hold for weighted adds, so the sketch stays
 * an upper bound with the same error bound; only the order inside a batch changes.
 *
 * IPv4 addresses may come as their 32-bit number too (addV4): those are found in an integer hash
 * table instead of a Map of strings, the hot path of `--stats`. Should the same address arrive both
 * ways in one batch, it is gathered twice and the sketch adds both weights to the one key: the same.
 */
export class TalkerBatch {
  private readonly slotOf = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly packets = new Float64Array(BATCH_KEYS);
  private readonly bytes = new Float64Array(BATCH_KEYS);
  /** v4Slots[h] = batch slot + 1 (0: empty); v4Keys[h] = the address as an int32 */
  private readonly v4Slots = new Int32Array(V4_TABLE_SIZE);
  private readonly v4Keys = new Int32Array(V4_TABLE_SIZE);
  private v4Used = false;
  private gathered = 0;

  constructor(
    private readonly byBytes: SpaceSaving,
    private readonly byPackets: SpaceSaving,
  ) {}

  /** One packet of `length` bytes from (or to) `key`. */
  add(key: string, length: number): void {
    let slot = this.slotOf.get(key);
    if (slot === undefined) {
      slot = this.newSlot(key);
      this.slotOf.set(key, slot);
    }
    this.count(slot, length);
  }

  /**
   * One packet of `length` bytes from (or to) the IPv4 address `address` (0..2^32-1), whose text is
   * `text` (the key the sketches see).
   */
  addV4(address: number, text: string, length: number): void {
    const key = address | 0;
    let h = Math.imul(key, 0x9e3779b1) >>> V4_TABLE_SHIFT;
    let slot: number;
    for (;;) {
      const held = this.v4Slots[h]!;
      if (held === 0) {
        slot = this.newSlot(text);
        this.v4Slots[h] = slot + 1;
        this.v4Keys[h] = key;
        this.v4Used = true;
        break;
      }
      if (this.v4Keys[h] === key) {
        slot = held - 1;
        break;
      }
      h = (h + 1) & (V4_TABLE_SIZE - 1);
    }
    this.count(slot, length);
  }

  /** Hand everything gathered to the sketches (before reading them). */
  flush(): void {
    for (let slot = 0; slot < this.keys.length; slot++) {
      this.byBytes.add(this.keys[slot]!, this.bytes[slot]!);
      this.byPackets.add(this.keys[slot]!, this.packets[slot]!);
    }
    this.keys.length = 0;
    this.slotOf.clear();
    if (this.v4Used) this.v4Slots.fill(0);
    this.v4Used = false;
    this.gathered = 0;
  }

  private newSlot(key: string): number {
    const slot = this.keys.length;
    this.keys.push(key);
    this.packets[slot] = 0;
    this.bytes[slot] = 0;
    return slot;
  }

  private count(slot: number, length: number): void {
    this.packets[slot]!++;
    this.bytes[slot]! += length;
    if (++this.gathered >= BATCH_PACKETS || this.keys.length >= BATCH_KEYS) this.flush();
  }
}
