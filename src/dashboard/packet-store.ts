/**
 * The packet history: packets' summaries and bytes, oldest first, bounded by a count and by one
 * byte ring allocated once (so keeping 200,000 packets costs no allocation per packet and nothing for
 * the garbage collector to trace). A packet whose bytes would overwrite older ones pushes those out.
 */
import type { PacketSummary, RawPacket } from '../capture/index.js';
import { Ring } from './ring.js';

interface Entry {
  seq: number;
  summary: PacketSummary;
  /** where its bytes are in the byte ring */
  offset: number;
  length: number;
  linkType: number;
  tsSec: number;
  tsNsec: number;
  originalLength: number;
  interfaceId: number;
}

export class PacketStore {
  private readonly entries: Ring<Entry>;
  private bytes: Buffer | undefined;
  private tail = 0;
  private used = 0;
  /** packets pushed out (no longer held) */
  dropped = 0;

  constructor(
    maxPackets: number,
    /** bytes of the byte ring */
    private readonly capacity: number,
  ) {
    this.entries = new Ring(maxPackets);
  }

  get size(): number {
    return this.entries.size;
  }

  /** captured bytes held */
  get heldBytes(): number {
    return this.used;
  }

  /** Keep a packet: its bytes are copied (a packet larger than the whole ring keeps its first bytes only). */
  add(seq: number, raw: RawPacket, summary: PacketSummary): void {
    this.bytes ??= Buffer.allocUnsafe(this.capacity);
    const length = Math.min(raw.data.length, this.capacity);
    if (this.tail + length > this.capacity) {
      // wrap: the previous lap's packets beyond the pointer are the oldest, and their room is given up
      for (let oldest = this.entries.at(0); oldest !== undefined && oldest.offset >= this.tail; oldest = this.entries.at(0)) this.shift();
      this.tail = 0;
    }
    // push out what the new bytes would overwrite, and the oldest entry when the count is full
    for (let oldest = this.entries.at(0); oldest !== undefined; oldest = this.entries.at(0)) {
      const overlaps = oldest.offset < this.tail + length && this.tail < oldest.offset + oldest.length;
      if (!overlaps && this.entries.size < this.entries.capacity) break;
      this.shift();
    }
    raw.data.copy(this.bytes, this.tail, 0, length);
    this.entries.push({ seq, summary, offset: this.tail, length, linkType: raw.linkType, tsSec: raw.tsSec, tsNsec: raw.tsNsec, originalLength: raw.originalLength, interfaceId: raw.interfaceId });
    this.tail += length;
    this.used += length;
  }

  private shift(): void {
    const out = this.entries.shift();
    if (out === undefined) return;
    this.used -= out.length;
    this.dropped++;
  }

  /** The i-th packet from the oldest: seq and summary. */
  at(i: number): { seq: number; summary: PacketSummary } | undefined {
    return this.entries.at(i);
  }

  /**
   * The packets passing `keep`, oldest first. Each packet's `data` is a view into the ring: use it
   * before the next packet is added (a writer's write() copies it at once).
   */
  *packets(keep: (summary: PacketSummary) => boolean): Generator<RawPacket> {
    for (let i = 0; i < this.entries.size; i++) {
      const e = this.entries.at(i)!;
      if (!keep(e.summary)) continue;
      const data = this.bytes!.subarray(e.offset, e.offset + e.length);
      yield { index: e.seq + 1, linkType: e.linkType, tsSec: e.tsSec, tsNsec: e.tsNsec, originalLength: e.originalLength, data, interfaceId: e.interfaceId };
    }
  }
}
