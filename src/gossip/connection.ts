/**
 * One framed TCP connection of the gossip system: decodes frames into messages, sends messages with a
 * cap on queued bytes, and closes with a logged reason on malformed input (and on nothing else of
 * the peer's doing).
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from '../common/log.js';
import { isWirelabError } from '../common/errors.js';
import { FrameDecoder, encodeFrame, formatMessage, parseMessage, type GossipMessage, type ProtocolLimits } from './protocol.js';
import { FRAME_TIMEOUT_MS, MAX_QUEUED_BYTES } from './constants.js';
import type { BufferBudget } from './guard.js';
import { SecureChannel, TAG_BYTES, type Keyring } from './secure.js';

export interface ConnectionEvents {
  message: [GossipMessage];
  /** reason: why we closed it, undefined when the other side did */
  close: [reason: string | undefined];
}

export interface ConnectionOptions {
  limits: ProtocolLimits;
  logger: Logger;
  /** bytes queued before the connection is dropped as a slow consumer */
  maxQueuedBytes?: number;
  /** shared by every connection of a seed or peer: bytes of unfinished frames held in all */
  budget?: BufferBudget;
  /** ms a frame may take from its first byte to its last before the connection is closed (default 10 s) */
  frameTimeoutMs?: number;
  /** the network key: every frame authenticated and encrypted (secure.ts); without it, plain frames */
  keyring?: Keyring;
}

export class Connection extends EventEmitter<ConnectionEvents> {
  readonly remote: string;
  /** bytes received */
  bytesIn = 0;
  /** bytes queued for sending (frames, headers included) */
  bytesOut = 0;
  private readonly decoder: FrameDecoder;
  private closed = false;
  private reason: string | undefined;
  /** messages decoded while held (see hold()) */
  private held: GossipMessage[] | undefined;
  /** bytes of the unfinished frame charged to the budget */
  private charged = 0;
  private frameTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly secure: SecureChannel | undefined;
  /** plain frames written before the other side's preamble came (keyed mode) */
  private early: Buffer[] = [];
  private earlyBytes = 0;
  /** end() was called before the early frames could be sent */
  private endAfterFlush = false;

  constructor(
    readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    super();
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.decoder = new FrameDecoder(options.limits.maxFrameBytes + (options.keyring ? TAG_BYTES : 0));
    socket.setNoDelay(true);
    if (options.keyring) {
      this.secure = new SecureChannel(options.keyring);
      socket.write(this.secure.preamble);
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('end', () => socket.end());
    socket.on('close', () => this.finish());
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesIn += chunk.length;
    let texts: string[];
    try {
      texts = this.secure ? this.openSealed(chunk) : this.decoder.push(chunk);
    } catch (err) {
      this.malformed(err);
      return;
    }
    if (!this.account(texts.length > 0)) return;
    // Messages before a malformed one in the same chunk are still delivered, in order.
    for (const text of texts) {
      if (this.closed) return;
      let message: GossipMessage;
      try {
        message = parseMessage(text, this.options.limits);
      } catch (err) {
        this.malformed(err);
        return;
      }
      if (this.held) this.held.push(message);
      else this.emit('message', message);
    }
  }

  /** Keyed mode: the other side's preamble first, then sealed frames, opened and decoded as text. */
  private openSealed(chunk: Buffer): string[] {
    const secure = this.secure!;
    let rest: Buffer | undefined = chunk;
    if (!secure.ready) {
      rest = secure.acceptPreamble(chunk);
      if (rest === undefined) return [];
      this.flushEarly();
    }
    return this.decoder.pushRaw(rest).map((sealed) => this.decoder.text(secure.open(sealed)));
  }

  private flushEarly(): void {
    const early = this.early;
    this.early = [];
    this.earlyBytes = 0;
    for (const frame of early) this.socket.write(this.secure!.seal(frame.subarray(4)));
    if (this.endAfterFlush) this.socket.end();
  }

  /** Close our side once everything sent so far is flushed (in keyed mode, once it could be sealed). */
  end(): void {
    if (this.closed) return;
    if (this.secure && !this.secure.ready) this.endAfterFlush = true;
    else this.socket.end();
  }

  /**
   * Charge the unfinished frame's bytes to the shared budget and run the frame deadline while one is
   * unfinished (restarted when a frame completed: the deadline is per frame, so a busy stream whose
   * chunks always end inside some frame is not cut); false when the connection was closed for either.
   */
  private account(completed: boolean): boolean {
    const pending = this.decoder.pending;
    const { budget } = this.options;
    if (budget && pending !== this.charged) {
      if (pending > this.charged && !budget.charge(pending - this.charged)) {
        this.options.logger.warn({ remote: this.remote, used: budget.used }, 'closing connection: buffer budget spent');
        this.close('buffer budget spent');
        return false;
      }
      if (pending < this.charged) budget.release(this.charged - pending);
      this.charged = pending;
    }
    if ((pending === 0 || completed) && this.frameTimer) {
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
    }
    if (pending > 0 && !this.frameTimer) {
      const ms = this.options.frameTimeoutMs ?? FRAME_TIMEOUT_MS;
      this.frameTimer = setTimeout(() => this.close(`frame not completed in ${ms} ms`), ms);
    }
    return true;
  }

  /**
   * Close the connection unless clearDeadline() is called within `ms` (a handshake, or a seed's whole
   * conversation, must finish in time however slowly its bytes come).
   */
  setDeadline(ms: number, reason: string): void {
    this.clearDeadline();
    if (!this.closed) this.deadlineTimer = setTimeout(() => this.close(reason), ms);
  }

  clearDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }

  private malformed(err: unknown): void {
    if (!isWirelabError(err)) throw err;
    this.options.logger.warn({ remote: this.remote, code: err.code }, `closing connection: malformed input: ${err.message}`);
    this.close(`malformed input: ${err.message}`);
  }

  /**
   * Stop emitting messages (and reading) until release(): a handshake that ends with one message
   * holds the connection, so that frames sent right behind it wait for the link's own listener
   * instead of being emitted to nobody.
   */
  hold(): void {
    this.held ??= [];
    this.socket.pause();
  }

  /** Emit what was held, in order, and read on. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const message of held) {
      if (this.closed) return;
      this.emit('message', message);
    }
    if (!this.closed) this.socket.resume();
  }

  /** Send one message. Returns false when closed or when the peer was dropped as too slow. */
  send(message: GossipMessage): boolean {
    if (this.closed) return false;
    return this.sendFrame(encodeFrame(formatMessage(message), this.options.limits.maxFrameBytes));
  }

  /** Send a frame already encoded (one message passed on to many neighbours is encoded once). */
  sendFrame(frame: Buffer): boolean {
    if (this.closed) return false;
    if (this.socket.writableLength + frame.length > (this.options.maxQueuedBytes ?? MAX_QUEUED_BYTES)) {
      this.options.logger.warn({ remote: this.remote }, 'closing connection: slow consumer');
      this.close('slow consumer');
      return false;
    }
    this.bytesOut += frame.length;
    if (!this.secure) {
      this.socket.write(frame);
    } else if (this.secure.ready) {
      this.socket.write(this.secure.seal(frame.subarray(4)));
    } else {
      // Before the other side's preamble no key is known: hold the frame (bounded, as the queue is).
      this.earlyBytes += frame.length;
      if (this.earlyBytes > (this.options.maxQueuedBytes ?? MAX_QUEUED_BYTES)) {
        this.close('slow consumer');
        return false;
      }
      this.early.push(frame);
    }
    return true;
  }

  /** Send several messages in one write (cork); returns how many were sent. */
  sendBatch(messages: GossipMessage[]): number {
    this.socket.cork();
    let sent = 0;
    for (const m of messages) if (this.send(m)) sent++;
    this.socket.uncork();
    return sent;
  }

  /** Send a last message and close once it is flushed. */
  sendAndEnd(message: GossipMessage, reason: string): void {
    if (this.send(message)) {
      this.reason = reason;
      this.end();
    }
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
    this.clearDeadline();
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
    this.options.budget?.release(this.charged);
    this.charged = 0;
    this.emit('close', this.reason);
  }
}
