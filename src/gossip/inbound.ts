/**
 * A peer's door: inbound connections until they become links. Capped per source address and in all,
 * under a handshake deadline, charged to the peer's buffer budget; a probe (Liveness Request) is
 * answered, and a `hello` is believed only when its claimed address is the connection's source, is
 * one anybody may claim, and is proved by a connect-back (a Liveness Request with a random nonce to
 * the claimed port). Then the peer decides: a link, or `busy`. docs/security.md, "gossip".
 */
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from '../common/log.js';
import { Connection } from './connection.js';
import { probeLiveness, type DialOptions } from './dial.js';
import { BufferBudget, SourceLimiter, refusedAddress, sourceAddress } from './guard.js';
import { endpointKey, type Endpoint, type GossipMessage, type ProtocolLimits } from './protocol.js';
import type { Keyring } from './secure.js';
import * as C from './constants.js';

type LivenessRequest = Extract<GossipMessage, { type: 'liveness-request' }>;

export interface InboundDeps {
  limits: ProtocolLimits;
  logger: Logger;
  keyring?: Keyring;
  /** this peer's address */
  self: () => Endpoint;
  dialOptions: () => DialOptions;
  answerProbe: (conn: Connection, m: LivenessRequest) => void;
  /** why a proved hello must be answered busy now, or undefined to take it */
  busyReason: (key: string) => string | undefined;
  /** take the proved claimant as a neighbour (send welcome, add the link) */
  accept: (conn: Connection, peer: Endpoint, id: number) => void;
  /** a first message that is neither a probe nor a hello */
  unexpected: (conn: Connection, m: GossipMessage) => void;
}

export class InboundGate {
  readonly counters = { refusedHello: 0, malformed: 0 };
  private readonly open = new Set<Connection>();
  private readonly limiter = new SourceLimiter(C.PEER_MAX_PENDING_PER_SOURCE, C.PEER_MAX_PENDING);
  /** shared with the peer's links: bytes of unfinished frames in all */
  readonly budget = new BufferBudget(C.BUFFER_BUDGET_BYTES);
  private closed = false;

  constructor(private readonly deps: InboundDeps) {}

  get refusedConnections(): number {
    return this.limiter.refused;
  }

  close(): void {
    this.closed = true;
    for (const conn of this.open) conn.close('peer closing');
  }

  onSocket(socket: Socket): void {
    const source = sourceAddress(socket.remoteAddress);
    if (this.closed || !this.limiter.admit(source)) {
      socket.destroy();
      return;
    }
    const { limits, logger, keyring } = this.deps;
    const conn = new Connection(socket, { limits, logger, budget: this.budget, keyring });
    // Until it is a link, an inbound connection (a probe, or a stranger) may not idle for long, nor
    // take longer than the handshake deadline however slowly its bytes come.
    socket.setTimeout(C.INBOUND_IDLE_MS, () => conn.close('idle'));
    conn.setDeadline(C.HANDSHAKE_TIMEOUT_MS, 'no handshake in time');
    this.open.add(conn);
    let held = true;
    const leave = (): void => {
      if (held) this.limiter.release(source);
      held = false;
      this.open.delete(conn);
    };
    conn.on('close', (reason) => {
      leave();
      if (reason?.startsWith('malformed')) this.counters.malformed++;
    });
    const onFirst = (m: GossipMessage): void => {
      if (m.type === 'liveness-request') {
        this.deps.answerProbe(conn, m);
        return;
      }
      conn.off('message', onFirst);
      if (m.type !== 'hello') {
        this.deps.unexpected(conn, m);
        return;
      }
      conn.hold(); // nothing more is read until the claim is proved
      void this.onHello(conn, source, m.peer, m.id, leave);
    };
    conn.on('message', onFirst);
  }

  private async onHello(conn: Connection, source: string, peer: Endpoint, id: number, leave: () => void): Promise<void> {
    const key = endpointKey(peer);
    const self = this.deps.self();
    const why =
      refusedAddress(peer.host) ?? (key === endpointKey(self) ? 'own address' : undefined) ?? (peer.host !== source ? `claimed ${peer.host} from ${source}` : undefined);
    if (why) return this.refuse(conn, key, why);
    if (this.deps.busyReason(key)) return this.sayBusy(conn);
    const proved = await probeLiveness(peer, self, this.deps.dialOptions(), randomInt(1, 2 ** 47));
    if (!proved) return this.refuse(conn, key, 'connect-back failed');
    if (!conn.isOpen || this.closed) return;
    if (this.deps.busyReason(key)) return this.sayBusy(conn);
    leave();
    conn.clearDeadline();
    conn.socket.setTimeout(0); // a link now: liveness checks watch it
    this.deps.accept(conn, peer, id);
  }

  /** Answer busy and close; reading resumes so that the other side's close completes at once. */
  private sayBusy(conn: Connection): void {
    conn.release();
    conn.sendAndEnd({ type: 'busy', peer: this.deps.self() }, 'busy');
  }

  private refuse(conn: Connection, key: string, reason: string): void {
    this.counters.refusedHello++;
    this.deps.logger.warn({ remote: conn.remote, claimed: key, reason }, `refused hello from ${conn.remote} as ${key}: ${reason}`);
    conn.close(`hello refused: ${reason}`);
  }
}
