/**
 * One TCP connection speaking the original WhisperNet text: the splitter cuts records out of the
 * stream (ending a record that nothing follows after a quiet pause), records become messages, and
 * sends are capped in queued bytes. Malformed input closes this connection with a logged reason.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Logger } from '../../common/log.js';
import type { Clock } from '../../common/lifecycle.js';
import { WirelabError, fromSystemError, isWirelabError } from '../../common/errors.js';
import { RecordSplitter, type Vocabulary } from './splitter.js';
import { canonicalHost, encodeRecord, parseRecord, whisperKey, type WhisperEndpoint, type WhisperMessage } from './codec.js';
import { MAX_QUEUED_BYTES, QUIET_MS } from './constants.js';

export interface WhisperConnectionEvents {
  message: [WhisperMessage];
  /** reason: why we closed it; undefined when the other side did */
  close: [reason: string | undefined];
}

export interface WhisperConnectionOptions {
  vocabulary: Vocabulary;
  logger: Logger;
  clock: Clock;
  /** ms of silence that ends a record nothing follows (default QUIET_MS) */
  quietMs?: number;
  maxQueuedBytes?: number;
}

export class WhisperConnection extends EventEmitter<WhisperConnectionEvents> {
  readonly remote: string;
  bytesIn = 0;
  bytesOut = 0;
  /** the other side sent at least one byte (a probe's proof of life) */
  heard = false;
  private readonly splitter: RecordSplitter;
  private quietTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private reason: string | undefined;

  constructor(
    readonly socket: Socket,
    private readonly options: WhisperConnectionOptions,
  ) {
    super();
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.splitter = new RecordSplitter(options.vocabulary);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('end', () => {
      this.deliver(() => this.splitter.flush(true));
      socket.end();
    });
    socket.on('close', () => this.finish());
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.heard = true;
    this.bytesIn += chunk.length;
    if (this.quietTimer) this.options.clock.clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    this.deliver(() => this.splitter.push(chunk));
    if (!this.closed && this.splitter.waiting) {
      this.quietTimer = this.options.clock.setTimeout(() => {
        this.quietTimer = undefined;
        this.deliver(() => this.splitter.flush());
      }, this.options.quietMs ?? QUIET_MS);
    }
  }

  /** Parse and emit the records `split()` yields; the first malformed one closes the connection. */
  private deliver(split: () => string[]): void {
    if (this.closed) return;
    try {
      for (const text of split()) {
        if (this.closed) return;
        this.emit('message', parseRecord(text));
      }
    } catch (err) {
      if (!isWirelabError(err)) throw err;
      this.options.logger.warn({ remote: this.remote, code: err.code }, `closing connection: malformed input: ${err.message}`);
      this.close(`malformed input: ${err.message}`);
    }
  }

  /** Send one record. Returns false when closed, or when the other side was dropped as too slow. */
  send(message: WhisperMessage): boolean {
    return this.sendBytes(encodeRecord(message));
  }

  /** Send a record already encoded (one gmessage passed on to many links is encoded once). */
  sendBytes(bytes: Buffer): boolean {
    if (this.closed) return false;
    if (this.socket.writableLength + bytes.length > (this.options.maxQueuedBytes ?? MAX_QUEUED_BYTES)) {
      this.options.logger.warn({ remote: this.remote }, 'closing connection: slow consumer');
      this.close('slow consumer');
      return false;
    }
    this.bytesOut += bytes.length;
    this.socket.write(bytes);
    return true;
  }

  close(reason?: string): void {
    if (this.closed) return;
    this.reason = reason;
    this.socket.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.quietTimer) this.options.clock.clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    this.emit('close', this.reason);
  }
}

export interface WhisperDialOptions extends WhisperConnectionOptions {
  /** ms */
  timeoutMs: number;
  localAddress?: string;
  /** aborted by the owner's close(): the dial fails, and the connection closes once open */
  signal?: AbortSignal;
}

/** Open a connection to `to` (`localhost` dialled as 127.0.0.1); rejects with E_TIMEOUT, E_CLOSED or a network error. */
export function dialWhisper(to: WhisperEndpoint, options: WhisperDialOptions): Promise<WhisperConnection> {
  const { signal } = options;
  const what = `connect to ${whisperKey(to)}`;
  if (signal?.aborted) return Promise.reject(new WirelabError('E_CLOSED', `${what}: closing`));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: canonicalHost(to.host), port: to.port, localAddress: options.localAddress });
    const settle = (): void => {
      options.clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      settle();
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(new WirelabError('E_CLOSED', `${what}: closing`));
    const timer = options.clock.setTimeout(() => fail(new WirelabError('E_TIMEOUT', `${what}: no answer in ${options.timeoutMs} ms`)), options.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err) => fail(fromSystemError(err, what)));
    socket.once('connect', () => {
      settle();
      socket.removeAllListeners('error');
      const conn = new WhisperConnection(socket, options);
      if (signal) {
        const close = (): void => conn.close('closing');
        signal.addEventListener('abort', close, { once: true });
        conn.once('close', () => signal.removeEventListener('abort', close));
      }
      resolve(conn);
    });
  });
}

/** Wait for the first message accepted by `pick` (others are ignored); undefined on timeout or close. */
export function awaitMessage<T extends WhisperMessage>(
  conn: WhisperConnection,
  pick: (m: WhisperMessage) => m is T,
  clock: Clock,
  timeoutMs: number,
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const done = (m: T | undefined): void => {
      clock.clearTimeout(timer);
      conn.off('message', onMessage);
      conn.off('close', onClose);
      resolve(m);
    };
    const onMessage = (m: WhisperMessage): void => {
      if (pick(m)) done(m);
    };
    const onClose = (): void => done(undefined);
    const timer = clock.setTimeout(() => done(undefined), timeoutMs);
    conn.on('message', onMessage);
    conn.on('close', onClose);
    if (!conn.isOpen) done(undefined);
  });
}

/**
 * Call `handle` with the first record of a fresh connection, synchronously from its emit (so the link's
 * own listener, attached by `handle`, gets every record behind it in the same read), or with
 * undefined on timeout (the connection is then closed) or close.
 */
export function onFirstRecord(conn: WhisperConnection, clock: Clock, timeoutMs: number, handle: (m: WhisperMessage | undefined) => void): void {
  const done = (m: WhisperMessage | undefined): void => {
    clock.clearTimeout(timer);
    conn.off('message', done);
    conn.off('close', onClose);
    if (!m) conn.close('no Connection with Peer in time');
    handle(m);
  };
  const onClose = (): void => done(undefined);
  const timer = clock.setTimeout(() => done(undefined), timeoutMs);
  conn.on('message', done);
  conn.on('close', onClose);
}
