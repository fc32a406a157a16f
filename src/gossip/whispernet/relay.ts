/**
 * A WhisperNet-mode peer's gossip: which messages it has seen, passing new ones on, its own messages,
 * and the replay of recent ones to new links. A message is its text (everything after the fourth `:`),
 * as the originals judge it, since they put their own time and address in front of each message they
 * pass on; we pass a message on with its header as received, so its origin survives our hops.
 */
import type { Clock } from '../../common/lifecycle.js';
import type { GossipSeen } from '../peer-types.js';
import { MessageCache, messageHash } from '../message-cache.js';
import { encodeRecord, formatSeconds, whisperKey, type WhisperEndpoint, type WhisperMessage } from './codec.js';
import { REPLAY_MAX, REPLAY_WINDOW_MS } from './constants.js';
import type { Link } from './peer-types.js';

export class Relay {
  readonly counters = { gossipReceived: 0, duplicates: 0, forwarded: 0, replayed: 0 };
  private readonly cache = new MessageCache();
  /** recent gmessages, replayed to each new link so that delivery does not depend on join order */
  private recent: { at: number; bytes: Buffer }[] = [];

  constructor(
    private readonly links: ReadonlyMap<string, Link>,
    private readonly clock: Clock,
    private readonly seen: (g: GossipSeen) => void,
  ) {}

  /** distinct messages seen */
  get size(): number {
    return this.cache.size;
  }

  /** A gmessage from a link: a new one is reported, answered `forwarding` and passed on; a repeat is counted. */
  received(from: Link, m: Extract<WhisperMessage, { type: 'gmessage' }>): void {
    this.counters.gossipReceived++;
    const now = this.clock.now();
    const hash = messageHash(m.text);
    if (!this.cache.add(hash, now)) {
      this.counters.duplicates++;
      return;
    }
    this.seen({ origin: whisperKey(m.origin), text: m.text, from: from.key, hash, at: now });
    from.conn.send({ type: 'forwarding' });
    this.spread(encodeRecord(m), now, from.key);
  }

  /**
   * Our message number `n`. Its text names its origin (`message N from IP#PORT`): the originals tell
   * messages apart by text alone, so `message N` from two peers would be one message to them.
   */
  originate(self: WhisperEndpoint, n: number): void {
    const now = this.clock.now();
    const text = `message ${n} from ${self.host}#${self.port}`;
    const hash = messageHash(text);
    this.cache.add(hash, now);
    this.seen({ origin: whisperKey(self), text, from: null, hash, at: now });
    this.spread(encodeRecord({ type: 'gmessage', ts: formatSeconds(now), origin: self, text }), now);
  }

  /** Send a new link the messages of the last REPLAY_WINDOW_MS; the other side drops those it has. */
  replayTo(link: Link): void {
    const since = this.clock.now() - REPLAY_WINDOW_MS;
    for (const r of this.recent) {
      if (r.at < since) continue;
      if (!link.conn.sendBytes(r.bytes)) return;
      this.counters.replayed++;
    }
  }

  private spread(bytes: Buffer, now: number, exceptKey?: string): void {
    this.recent.push({ at: now, bytes });
    if (this.recent.length > REPLAY_MAX) this.recent = this.recent.slice(-REPLAY_MAX);
    for (const link of this.links.values()) {
      if (link.key === exceptKey) continue;
      if (link.conn.sendBytes(bytes)) this.counters.forwarded++;
    }
  }
}
