/**
 * Outgoing TCP connections of the gossip system: open a framed connection with a deadline, and the
 * one-shot request (send messages, wait for the answer, close) used for seeds and probes.
 */
import { connect } from 'node:net';
import type { Logger } from '../common/log.js';
import { WirelabError, fromSystemError } from '../common/errors.js';
import type { Clock } from '../common/lifecycle.js';
import { Connection } from './connection.js';
import { endpointKey, type Endpoint, type GossipMessage, type ListedPeer, type ProtocolLimits } from './protocol.js';
import { seedQuorum } from './topology.js';
import type { Keyring } from './secure.js';
import type { BufferBudget } from './guard.js';

export interface DialOptions {
  limits: ProtocolLimits;
  logger: Logger;
  clock: Clock;
  /** ms */
  timeoutMs: number;
  /** local address to bind (so that peers in one process show their own address) */
  localAddress?: string;
  /** aborted when the owner closes: the dial fails and the connection it made closes */
  signal?: AbortSignal;
  /** the network key (secure.ts) */
  keyring?: Keyring;
  /** the owner's budget of bytes in unfinished frames (guard.ts) */
  budget?: BufferBudget;
}

/**
 * Open a framed connection to `to`; rejects with E_TIMEOUT, E_CLOSED (aborted) or a network error.
 * Once open, the connection closes when `options.signal` aborts, so its owner's close() ends every
 * request in flight and the timers they hold.
 */
export function dial(to: Endpoint, options: DialOptions): Promise<Connection> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(new WirelabError('E_CLOSED', `connect to ${endpointKey(to)}: closing`));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: to.host, port: to.port, localAddress: options.localAddress });
    const fail = (err: Error): void => {
      options.clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(new WirelabError('E_CLOSED', `connect to ${endpointKey(to)}: closing`));
    const timer = options.clock.setTimeout(() => fail(new WirelabError('E_TIMEOUT', `connect to ${endpointKey(to)}: no answer in ${options.timeoutMs} ms`)), options.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err) => fail(fromSystemError(err, `connect to ${endpointKey(to)}`)));
    socket.once('connect', () => {
      options.clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      resolve(closeOnAbort(new Connection(socket, { limits: options.limits, logger: options.logger, keyring: options.keyring, budget: options.budget }), signal));
    });
  });
}

function closeOnAbort(conn: Connection, signal: AbortSignal | undefined): Connection {
  if (!signal) return conn;
  const onAbort = (): void => conn.close('closing');
  signal.addEventListener('abort', onAbort, { once: true });
  conn.once('close', () => signal.removeEventListener('abort', onAbort));
  return conn;
}

/**
 * Send `messages` on a connection and collect what comes back until `done(received)` says so; then
 * close. Rejects on timeout or when the other side closes first.
 */
export function exchange(
  conn: Connection,
  messages: GossipMessage[],
  done: (received: GossipMessage[]) => boolean,
  options: Pick<DialOptions, 'clock' | 'timeoutMs'>,
): Promise<GossipMessage[]> {
  return new Promise((resolve, reject) => {
    const received: GossipMessage[] = [];
    const timer = options.clock.setTimeout(() => {
      conn.close('request timed out');
      reject(new WirelabError('E_TIMEOUT', `${conn.remote}: no answer in ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    conn.on('message', (m) => {
      received.push(m);
      if (done(received)) {
        options.clock.clearTimeout(timer);
        resolve(received);
        conn.close();
      }
    });
    conn.on('close', (reason) => {
      options.clock.clearTimeout(timer);
      reject(new WirelabError('E_CLOSED', `${conn.remote} closed the connection${reason ? `: ${reason}` : ''}`));
    });
    if (messages.length === 0 && done(received)) {
      options.clock.clearTimeout(timer);
      resolve(received);
      conn.close();
      return;
    }
    for (const m of messages) conn.send(m);
  });
}

/** dial + exchange, with one deadline for both. */
export async function request(
  to: Endpoint,
  messages: GossipMessage[],
  done: (received: GossipMessage[]) => boolean,
  options: DialOptions,
): Promise<GossipMessage[]> {
  const started = options.clock.now();
  const conn = await dial(to, options);
  const left = Math.max(1, options.timeoutMs - (options.clock.now() - started));
  return exchange(conn, messages, done, { clock: options.clock, timeoutMs: left });
}

/** Send `messages` and close once they are flushed (fire and forget, e.g. a Dead Node report). */
export async function notify(to: Endpoint, messages: GossipMessage[], options: DialOptions): Promise<void> {
  const conn = await dial(to, options);
  for (const m of messages) conn.send(m);
  conn.end();
}

/**
 * Say hello on a fresh connection and wait for welcome or busy. On welcome the connection stays open
 * (it becomes the link) and held: the caller release()s it once it listens, or closes it; on
 * anything else it is closed. Resolves undefined on timeout or close.
 */
export function handshake(conn: Connection, hello: GossipMessage, options: Pick<DialOptions, 'clock' | 'timeoutMs'>): Promise<GossipMessage | undefined> {
  return new Promise((resolve) => {
    const timer = options.clock.setTimeout(() => {
      conn.close('handshake timed out');
      resolve(undefined);
    }, options.timeoutMs);
    const onMessage = (m: GossipMessage): void => {
      options.clock.clearTimeout(timer);
      conn.off('message', onMessage);
      // Frames behind the welcome wait for the link's listener (Connection.release()).
      if (m.type === 'welcome') conn.hold();
      resolve(m);
      if (m.type !== 'welcome') conn.close(m.type === 'busy' ? undefined : `unexpected ${m.type}`);
    };
    conn.on('message', onMessage);
    conn.once('close', () => {
      options.clock.clearTimeout(timer);
      resolve(undefined);
    });
    conn.send(hello);
  });
}

/**
 * Register `self` at a seed and fetch its peer list, on one connection. The seed connects back to
 * prove our address before it answers, so the deadline is twice the request timeout.
 */
export async function registerAt(seed: Endpoint, self: Endpoint, options: DialOptions): Promise<Registered> {
  const got = await request(seed, [{ type: 'register', peer: self }, { type: 'peer-list-request' }], (r) => r.length >= 2, { ...options, timeoutMs: 2 * options.timeoutMs });
  const registered = got.find((m) => m.type === 'registered');
  const list = got.find((m) => m.type === 'peer-list');
  if (!registered || !list) throw new WirelabError('E_NETWORK', `seed ${endpointKey(seed)} answered out of protocol`);
  return { id: registered.id, density: (registered.density ?? 1000) / 1000, peers: list.peers };
}

/** A seed's answer to a registration: the id, the joins per id handed out (0..1], and its peer list. */
export interface Registered {
  id: number;
  density: number;
  peers: ListedPeer[];
}

/**
 * Register at seeds, in the given order, until floor(n/2)+1 of them (the seed's quorum) answered;
 * seeds that fail are skipped. Rejects with E_NETWORK when none answers.
 */
export async function registerWithQuorum(
  seeds: Endpoint[],
  self: Endpoint,
  options: DialOptions,
  stopped: () => boolean,
): Promise<(Registered & { seed: Endpoint })[]> {
  const quorum = seedQuorum(seeds.length);
  const joined: (Registered & { seed: Endpoint })[] = [];
  for (const seed of seeds) {
    if (joined.length >= quorum || stopped()) break;
    try {
      joined.push({ seed, ...(await registerAt(seed, self, options)) });
    } catch (err) {
      options.logger.warn({ seed: endpointKey(seed), err: (err as Error).message }, 'seed did not answer');
    }
  }
  if (joined.length === 0) throw new WirelabError('E_NETWORK', 'no seed answered the registration');
  return joined;
}

/**
 * One liveness probe over a fresh connection: true when a Liveness Reply comes within the timeout.
 * With a `nonce` (sent as the timestamp) only a reply echoing it counts: proof that whoever listens
 * at `to` read this very request.
 */
export async function probeLiveness(to: Endpoint, self: Endpoint, options: DialOptions, nonce?: number): Promise<boolean> {
  const ping: GossipMessage = { type: 'liveness-request', timestamp: nonce ?? options.clock.now(), peer: self };
  try {
    await request(to, [ping], (got) => got.some((m) => m.type === 'liveness-reply' && (nonce === undefined || m.timestamp === nonce)), options);
    return true;
  } catch {
    return false;
  }
}
