/**
 * A peer's side of the seeds in WhisperNet mode: register with floor(n/2)+1 seeds chosen at random
 * (as the original does), fetch their peer lists on the same connection, keep the connections open,
 * and send `Dead Node:` reports on them later. The original waits 2 s between `register` and
 * `peer list` so that the seed's recv(1024) does not read both as one; we wait for
 * `registered successfully` instead, which is as safe and quicker.
 */
import type { Logger } from '../../common/log.js';
import { WirelabError } from '../../common/errors.js';
import { seedQuorum, shuffled } from '../topology.js';
import { whisperKey, type WhisperEndpoint, type WhisperMessage } from './codec.js';
import { awaitMessage, dialWhisper, type WhisperConnection, type WhisperDialOptions } from './link.js';

export interface SeedClientDeps {
  logger: Logger;
  random: () => number;
  dialOptions: () => Omit<WhisperDialOptions, 'vocabulary'>;
}

const isRegistered = (m: WhisperMessage): m is Extract<WhisperMessage, { type: 'registered' }> => m.type === 'registered';
const isPeerList = (m: WhisperMessage): m is Extract<WhisperMessage, { type: 'peer-list' }> => m.type === 'peer-list';

export class SeedClient {
  private readonly sessions = new Map<string, WhisperConnection>();
  private chosen: WhisperEndpoint[] = [];

  constructor(
    private readonly seeds: WhisperEndpoint[],
    private readonly deps: SeedClientDeps,
  ) {}

  /** The seeds registered with (after join). */
  get registeredWith(): WhisperEndpoint[] {
    return this.chosen;
  }

  /**
   * Register `self` with a quorum of seeds (a random choice, the rest tried when one fails) and return
   * the peers their lists name. A second call refreshes the lists on the open connections.
   * Rejects with E_NETWORK when no seed answers.
   */
  async join(self: WhisperEndpoint, stopped: () => boolean): Promise<WhisperEndpoint[]> {
    const quorum = seedQuorum(this.seeds.length);
    const order = this.chosen.length > 0 ? [...this.chosen, ...this.seeds.filter((s) => !this.chosen.includes(s))] : shuffled(this.seeds, this.deps.random);
    const joined: WhisperEndpoint[] = [];
    const peers: WhisperEndpoint[] = [];
    for (const seed of order) {
      if (joined.length >= quorum || stopped()) break;
      try {
        peers.push(...(await this.registerAt(seed, self)));
        joined.push(seed);
      } catch (err) {
        this.deps.logger.warn({ seed: whisperKey(seed), err: (err as Error).message }, 'seed did not answer');
      }
    }
    if (joined.length === 0) throw new WirelabError('E_NETWORK', 'no seed answered the registration');
    this.chosen = joined;
    return peers;
  }

  private async registerAt(seed: WhisperEndpoint, self: WhisperEndpoint): Promise<WhisperEndpoint[]> {
    const options = this.deps.dialOptions();
    const key = whisperKey(seed);
    let conn = this.sessions.get(key);
    if (!conn?.isOpen) {
      conn = await dialWhisper(seed, { ...options, vocabulary: 'seed-reply' });
      const open = conn;
      this.sessions.set(key, open);
      open.on('close', () => {
        if (this.sessions.get(key) === open) this.sessions.delete(key);
      });
    }
    const registered = awaitMessage(conn, isRegistered, options.clock, options.timeoutMs);
    conn.send({ type: 'register', peer: self });
    if (!(await registered)) throw this.failed(conn, seed, 'registered successfully');
    const list = awaitMessage(conn, isPeerList, options.clock, options.timeoutMs);
    conn.send({ type: 'peer-list-request' });
    const got = await list;
    if (!got) throw this.failed(conn, seed, 'its peer list');
    return got.peers;
  }

  private failed(conn: WhisperConnection, seed: WhisperEndpoint, what: string): WirelabError {
    conn.close('seed did not answer');
    return new WirelabError('E_NETWORK', `seed ${whisperKey(seed)} did not send ${what}`);
  }

  /**
   * Report a dead peer to every configured seed (not only those registered with: the peer may be
   * registered elsewhere), on the open connection, or on a new one closed once sent.
   */
  reportDead(report: Extract<WhisperMessage, { type: 'dead-node' }>): void {
    for (const seed of this.seeds) {
      const open = this.sessions.get(whisperKey(seed));
      if (open?.isOpen) {
        open.send(report);
        continue;
      }
      dialWhisper(seed, { ...this.deps.dialOptions(), vocabulary: 'seed-reply' }).then(
        (conn) => {
          conn.send(report);
          conn.socket.end();
        },
        (err: Error) => this.deps.logger.warn({ seed: whisperKey(seed), err: err.message }, 'could not report a dead node to a seed'),
      );
    }
  }

  close(): void {
    for (const conn of this.sessions.values()) conn.close('closing');
    this.sessions.clear();
  }
}
