/** A fixed-capacity ring of items with a running sequence number: the oldest item goes when it is full. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  /** items ever pushed (the sequence number of the newest is total - 1) */
  total = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Add an item; returns the one it pushed out, if any. */
  push(item: T): T | undefined {
    const slot = (this.head + this.count) % this.capacity;
    let out: T | undefined;
    if (this.count === this.capacity) {
      out = this.items[this.head];
      this.head = (this.head + 1) % this.capacity;
    } else {
      this.count++;
    }
    this.items[slot] = item;
    this.total++;
    return out;
  }

  /** Remove and return the oldest item. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  /** The i-th item from the oldest (0) to the newest (size - 1). */
  at(i: number): T | undefined {
    return i >= 0 && i < this.count ? this.items[(this.head + i) % this.capacity] : undefined;
  }

  /** Up to `limit` items, newest first, that pass `keep`. */
  newest(limit: number, keep: (item: T) => boolean = () => true): T[] {
    const out: T[] = [];
    for (let i = this.count - 1; i >= 0 && out.length < limit; i--) {
      const item = this.items[(this.head + i) % this.capacity] as T;
      if (keep(item)) out.push(item);
    }
    return out;
  }

  /** The newest items while `accept` holds (stops at the first it refuses), up to `limit`, newest first. */
  newestWhile(limit: number, accept: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (let i = this.count - 1; i >= 0 && out.length < limit; i--) {
      const item = this.items[(this.head + i) % this.capacity] as T;
      if (!accept(item)) break;
      out.push(item);
    }
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
