/** The nodes a master has heard from, bounded: the longest silent is forgotten first. */
import { MAX_ROSTER } from './constants.js';

export interface RosterEntry {
  name: string;
  /** the node's socket, "198.18.0.2:12345" */
  endpoint: string;
  /** ms since the epoch */
  firstSeen: number;
  /** ms since the epoch */
  lastSeen: number;
  acks: number;
  /** wirelab: answered with envelopes; plain: the seeds' node.py, answering `I received: ...` */
  kind: 'wirelab' | 'plain';
}

export class Roster {
  private readonly entries = new Map<string, RosterEntry>();
  /** entries forgotten because the roster was full */
  evicted = 0;

  constructor(private readonly max: number = MAX_ROSTER) {}

  static key(name: string, endpoint: string): string {
    return `${name}@${endpoint}`;
  }

  /** Record an acknowledgement from `name` at `endpoint`. */
  heard(name: string, endpoint: string, nowMs: number, kind: RosterEntry['kind'] = 'wirelab'): RosterEntry {
    const key = Roster.key(name, endpoint);
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key); // re-insert at the end: Map order is least recently heard first
    } else {
      entry = { name, endpoint, firstSeen: nowMs, lastSeen: nowMs, acks: 0, kind };
      if (this.entries.size >= this.max) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
        this.evicted++;
      }
    }
    entry.lastSeen = nowMs;
    entry.acks++;
    this.entries.set(key, entry);
    return entry;
  }

  list(): RosterEntry[] {
    return [...this.entries.values()].map((e) => ({ ...e })).sort((a, b) => a.name.localeCompare(b.name));
  }

  get size(): number {
    return this.entries.size;
  }
}
