/**
 * Feature vectors gathered over a batch of packets and scored together (the forests score a batch
 * tree by tree, several times faster than vector by vector). Each row remembers what it came from
 * and at which packet of the batch, so that results can be reported in the order of the packets.
 */
import type { BaselineScorer } from './scorer.js';

export class VectorBatch<T> {
  /** rows of `dims` numbers */
  data: Float64Array;
  /** per row, once scored: its score, and the feature group that decided it */
  scores: Float64Array;
  decided: Int32Array;
  /** per row: the packet or flow it came from */
  readonly items: T[] = [];
  /** per row: position, in the batch, of the packet at which it was produced */
  at: Int32Array;
  /** rows in the batch */
  count = 0;
  /** rows [0, learnt) went into the baseline rather than being scored */
  learnt = 0;

  constructor(
    readonly dims: number,
    capacity: number,
  ) {
    this.data = new Float64Array(capacity * dims);
    this.scores = new Float64Array(capacity);
    this.decided = new Int32Array(capacity);
    this.at = new Int32Array(capacity);
  }

  /** Append a row for `item` produced at packet `position`; returns the offset to write its features at. */
  add(item: T, position: number): number {
    if (this.count === this.at.length) this.grow();
    this.items[this.count] = item;
    this.at[this.count] = position;
    return this.count++ * this.dims;
  }

  /** Feed the rows to `scorer`: the first ones to its baseline while it learns, the rest scored. */
  score(scorer: BaselineScorer): void {
    this.learnt = scorer.learnFrom(this.data, this.count);
    const rest = this.count - this.learnt;
    if (rest > 0)
      scorer.scoreRows(this.data, this.learnt, rest, this.scores.subarray(this.learnt), this.decided.subarray(this.learnt));
  }

  clear(): void {
    this.items.length = 0;
    this.count = 0;
    this.learnt = 0;
  }

  /** Double the capacity (flows that end within one batch can outnumber its packets). */
  private grow(): void {
    const capacity = 2 * this.at.length;
    const data = new Float64Array(capacity * this.dims);
    data.set(this.data);
    this.data = data;
    this.scores = new Float64Array(capacity);
    this.decided = new Int32Array(capacity);
    const at = new Int32Array(capacity);
    at.set(this.at);
    this.at = at;
  }
}
