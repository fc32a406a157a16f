/**
 * One client connection of the server: its socket, its frame decoder, its inbound queue (the socket
 * is paused while a record is being handled asynchronously) and its outbound queue (capped in bytes;
 * a client that stops reading is disconnected at the cap and slows nobody else). File transfers to
 * the client are jobs that own the socket's output while they run, so that records never land inside
 * raw file bytes.
 */
import type { Socket } from 'node:net';
import type { ChunkPool } from './chunk-pool.js';
import { FrameDecoder, encodeRecord, type Frame } from './framing.js';
import { CLIENT_HEADERS, isRawTransfer } from './protocol.js';
import { MAX_QUEUED_BYTES, RECORD_BURST, RECORDS_PER_SECOND, SEND_WINDOW_BYTES } from './constants.js';

/** Writes raw bytes during a job, resolving when the socket can take more. */
export type JobWriter = (bytes: Buffer) => Promise<void>;
export type Job = (write: JobWriter) => Promise<void>;

/** Idle time before TCP keepalive probes start (ms). */
const KEEPALIVE_MS = 60_000;
/** A write that waits for 'drain' this long is given up and the client disconnected (ms). */
const DRAIN_TIMEOUT_MS = 60_000;

export interface ConnectionHooks {
  onFrame(conn: Connection, frame: Frame): void | Promise<void>;
  onClose(conn: Connection, reason: string): void;
  onSlow(conn: Connection): void;
}

export type AuthStep = 'answer' | 'login-name' | 'login-password' | 'new-name' | 'new-password' | 'busy' | 'done';

export class Connection {
  /** the account name once logged in */
  name: string | null = null;
  /** the client negotiated our extension */
  extended = false;
  auth: AuthStep = 'answer';
  pendingName = '';
  /** set while a seed raw transfer from this client is being read */
  rawSink: { write(data: Buffer): void | Promise<void>; end(): Promise<void>; abort(): void } | null = null;
  readonly address: string;
  bytesIn = 0;
  /** file_chunk payloads land in buffers of this pool; whoever writes them out gives them back */
  readonly chunkPool: ChunkPool | null;
  private readonly decoder: FrameDecoder;
  private readonly inbox: Frame[] = [];
  private busy = false;
  private readonly outbox: Array<Buffer | Job> = [];
  private outboxBytes = 0;
  private jobRunning = false;
  private closed = false;
  private closing = false;
  private tokens = RECORD_BURST;
  private tokensAt = 0;
  private drops = 0;
  private readonly maxQueued: number;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly hooks: ConnectionHooks,
    options: { maxQueuedBytes?: number; chunkPool?: ChunkPool } = {},
  ) {
    this.address = socket.remoteAddress ?? 'unknown';
    this.chunkPool = options.chunkPool ?? null;
    const pool = this.chunkPool;
    this.decoder = new FrameDecoder({
      rawAfter: isRawTransfer,
      knownHeaders: CLIENT_HEADERS,
      payloadBuffer: pool ? (header, length) => (header === 'file_chunk' && this.auth === 'done' ? pool.take(length) : null) : undefined,
    });
    this.maxQueued = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
    socket.setNoDelay(true);
    // a peer that vanished without a FIN (power cut, cable) is found by TCP keepalive
    socket.setKeepAlive(true, KEEPALIVE_MS);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows
    socket.on('end', () => socket.end());
    socket.on('close', () => this.onClosed());
  }

  get isClosed(): boolean {
    return this.closed || this.closing;
  }

  /** Decoder is inside a seed raw transfer. */
  get inRaw(): boolean {
    return this.decoder.inRaw;
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    for (const frame of this.decoder.push(chunk)) this.inbox.push(frame);
    this.drainInbox();
  }

  private drainInbox(): void {
    while (!this.busy && !this.closed && this.inbox.length > 0) {
      const frame = this.inbox.shift()!;
      let result: void | Promise<void>;
      try {
        result = this.hooks.onFrame(this, frame);
      } catch {
        result = undefined;
      }
      if (result instanceof Promise) {
        this.busy = true;
        this.socket.pause();
        result
          .catch(() => undefined)
          .finally(() => {
            this.busy = false;
            if (!this.closed) this.socket.resume();
            this.drainInbox();
          });
      }
    }
  }

  /**
   * Token bucket on records (flood protection): true when this record may be handled.
   * @param nowMs the current time in ms
   */
  allowRecord(nowMs: number): 'ok' | 'drop' | 'flood' {
    if (this.tokensAt === 0) this.tokensAt = nowMs;
    this.tokens = Math.min(RECORD_BURST, this.tokens + ((nowMs - this.tokensAt) / 1000) * RECORDS_PER_SECOND);
    this.tokensAt = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    this.drops++;
    return this.drops > RECORD_BURST ? 'flood' : 'drop';
  }

  /** Queue one record; false when the client is gone or was just disconnected as a slow reader. */
  send(header: string, payload: string | Uint8Array): boolean {
    return this.sendBytes(encodeRecord(header, payload));
  }

  /** Queue bytes already framed (a fan-out encodes once for every client). */
  sendBytes(bytes: Buffer): boolean {
    if (this.closed) return false;
    if (!this.jobRunning && this.outbox.length === 0) {
      this.socket.write(bytes);
      if (this.socket.writableLength > this.maxQueued) return this.slow();
      return true;
    }
    this.outbox.push(bytes);
    this.outboxBytes += bytes.length;
    if (this.outboxBytes + this.socket.writableLength > this.maxQueued) return this.slow();
    return true;
  }

  /** Run `job` with the socket's output to itself, after everything queued before it. */
  sendJob(job: Job): void {
    if (this.closed) return;
    this.outbox.push(job);
    if (!this.jobRunning) void this.pump();
  }

  /** Resolves when everything queued so far has been handed to the socket (or the client is gone). */
  flushed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.sendJob(() => {
        resolve();
        return Promise.resolve();
      });
    });
  }

  private async pump(): Promise<void> {
    this.jobRunning = true;
    while (this.outbox.length > 0 && !this.closed) {
      const item = this.outbox.shift()!;
      if (Buffer.isBuffer(item)) {
        this.outboxBytes -= item.length;
        await this.writeAsync(item);
        continue;
      }
      try {
        await item((bytes) => this.writeAsync(bytes));
      } catch {
        // a failed job (file vanished, client gone) ends quietly: the job reports its own error
      }
    }
    this.jobRunning = false;
  }

  /** Write; wait for 'drain' only when more than a send window is buffered (keeps the pipe full). */
  private writeAsync(bytes: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    this.socket.write(bytes);
    if (this.socket.writableLength <= SEND_WINDOW_BYTES) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => done();
      const onClose = (): void => done(new Error('connection closed'));
      const timer = setTimeout(() => {
        done(new Error('write stalled'));
        this.slow();
      }, DRAIN_TIMEOUT_MS);
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  private slow(): false {
    if (!this.closed) {
      this.hooks.onSlow(this);
      this.destroy('slow reader');
    }
    return false;
  }

  /** Close after what is queued has been written; destroyed after `graceMs` at the latest. */
  close(reason: string, graceMs = 2_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closeReason ??= reason;
    this.closing = true;
    const timer = setTimeout(() => this.destroy(reason), graceMs);
    return this.flushed().then(() => {
      this.socket.end();
      return new Promise<void>((resolve) => {
        if (this.closed) resolve();
        else this.socket.once('close', () => resolve());
      }).finally(() => clearTimeout(timer));
    });
  }

  private closeReason: string | undefined;

  destroy(reason: string): void {
    this.closeReason ??= reason;
    this.socket.destroy();
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox.length = 0;
    this.outbox.length = 0;
    this.rawSink?.abort();
    this.rawSink = null;
    this.hooks.onClose(this, this.closeReason ?? 'disconnected');
  }
}
