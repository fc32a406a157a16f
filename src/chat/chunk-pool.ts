/**
 * Buffers of one size for file chunks, reused. A 512 MiB transfer in 256 KiB records would otherwise
 * allocate 2,048 buffers outside the V8 heap on each side, and their collection cost about a quarter
 * of the receiver's CPU time (measured with --cpu-prof, bench/chat.ts). A buffer is taken for one
 * record and given back once nothing reads it any more (the file write or socket write is done);
 * one never given back is simply collected. At most `maxKept` wait in the pool.
 */
export class ChunkPool {
  private readonly free: ArrayBuffer[] = [];
  /** memory this pool made: nothing else is ever handed out by it */
  private readonly mine = new WeakSet<ArrayBuffer>();

  constructor(
    /** bytes of each buffer */
    readonly bytes: number,
    private readonly maxKept: number,
  ) {}

  /** A buffer of `length` bytes (at most `bytes`), its content undefined. */
  take(length: number): Buffer {
    if (length > this.bytes) return Buffer.allocUnsafeSlow(length);
    let memory = this.free.pop();
    if (!memory) {
      memory = new ArrayBuffer(this.bytes);
      this.mine.add(memory);
    }
    return Buffer.from(memory, 0, length);
  }

  /**
   * Give back a buffer from `take` (or a view of one) that nothing will read again. A buffer from
   * elsewhere, or one given back twice, is ignored.
   */
  give(buffer: Buffer): void {
    const memory = buffer.buffer;
    if (!(memory instanceof ArrayBuffer) || !this.mine.has(memory) || this.free.length >= this.maxKept || this.free.includes(memory)) return;
    this.free.push(memory);
  }
}
