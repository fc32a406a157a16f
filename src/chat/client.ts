/**
 * The chat client library: the seed's login dialogue, messages, and files in either wire mode. After
 * joining it offers our extension (`caps`); a server that speaks only the seed's protocol answers
 * with its invalid-format error, and the client then keeps to the seed's raw transfers.
 */
import { createHash, type Hash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { connect as connectTcp, type Socket } from 'node:net';
import { basename } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { fromSystemError, WirelabError } from '../common/errors.js';
import { ChunkPool } from './chunk-pool.js';
import { Downloads } from './downloads.js';
import { FrameDecoder, encodeRecord, type Frame } from './framing.js';
import {
  CAPABILITY,
  CAPABILITY_VERSION,
  SERVER_HEADERS,
  Texts,
  CHUNK_RECORD_PREFIX,
  allocChunkRecord,
  setChunkLength,
  parseFileAccept,
  parseFileDone,
  parseFileError,
  payloadText,
} from './protocol.js';
import { FILE_CHUNK_BYTES, SEND_WINDOW_BYTES } from './constants.js';

/** File reads of an upload in flight ahead of the socket. */
const READ_AHEAD = 4;

export interface ChatClientOptions {
  host?: string;
  port: number;
  /** TLS: trust this CA (PEM) instead of the system's */
  tls?: { ca?: Buffer };
  /** where received files are saved */
  downloadsDir: string;
  /** offer our extension after login (default true) */
  extended?: boolean;
}

export interface Credentials {
  register: boolean;
  name: string;
  password: string;
}

export interface ChatClientEvents {
  /** a record to show the user (msg, info, error, quiz_question) */
  text: [{ header: string; text: string }];
  /** `offset` above 0: a resumed download, the bytes before it were kept from an earlier connection */
  'file-incoming': [{ name: string; from: string; size: number | null; offset: number }];
  'file-progress': [{ direction: 'up' | 'down'; name: string; bytes: number; size: number | null }];
  'file-saved': [{ name: string; path: string; size: number; verified: boolean }];
  'file-failed': [{ name: string; reason: string }];
  close: [{ reason: string }];
}

type Waiter = { match: (header: string, text: string) => boolean; resolve: (r: { header: string; text: string }) => void };

export class ChatClient extends EventEmitter<ChatClientEvents> {
  /** the server took our extension */
  extended = false;
  name: string | null = null;
  private socket: Socket | null = null;
  private readonly decoder = new FrameDecoder({
    rawAfter: (header) => header === 'file_transfer',
    knownHeaders: SERVER_HEADERS,
    maxPayloadBytes: FILE_CHUNK_BYTES + 1024,
  });
  private readonly downloads: Downloads;
  private readonly waiters = new Set<Waiter>();
  private inbox: Frame[] = [];
  private busy = false;
  private sending: Promise<void> = Promise.resolve();
  private nextId = 1;
  private closed = false;
  private closeReason = 'server closed the connection';
  private prompted: Promise<unknown> | null = null;
  /** memory for outgoing chunk records, reused once the socket has written them: a send window, the reads ahead, and a little more */
  private readonly chunkPool = new ChunkPool(CHUNK_RECORD_PREFIX + FILE_CHUNK_BYTES, Math.ceil(SEND_WINDOW_BYTES / FILE_CHUNK_BYTES) + READ_AHEAD + 2);

  constructor(readonly options: ChatClientOptions) {
    super();
    this.downloads = new Downloads(options.downloadsDir, this, (header, payload) => this.write(header, payload));
  }

  /** Bytes read from the server on this connection. */
  get bytesReceived(): number {
    return this.socket?.bytesRead ?? 0;
  }

  /** Open the connection (TCP or TLS). */
  async connect(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    const where = `connect to ${host}:${this.options.port}`;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = this.options.tls
        ? connectTls({ host, port: this.options.port, ca: this.options.tls.ca, servername: /^[\d.:]+$/.test(host) ? undefined : host }, () => resolve(s))
        : connectTcp({ host, port: this.options.port }, () => resolve(s));
      s.once('error', (err) => reject(fromSystemError(err, where)));
    });
    socket.setNoDelay(true);
    this.socket = socket;
    // the server speaks first: catch its prompt whenever login() is called
    this.prompted = this.expect((h, t) => h === 'info' && t === Texts.prompt, 30_000, 'login prompt');
    this.prompted.catch(() => undefined);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.inbox.push(frame);
      this.drain();
    });
    socket.on('error', (err) => (this.closeReason = err.message));
    socket.on('close', () => this.onClose());
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.downloads.abort();
    this.emit('close', { reason: this.closeReason });
  }

  private drain(): void {
    while (!this.busy && this.inbox.length > 0) {
      const result = this.onFrame(this.inbox.shift()!);
      if (result instanceof Promise) {
        this.busy = true;
        this.socket?.pause();
        void result.catch(() => undefined).finally(() => {
          this.busy = false;
          this.socket?.resume();
          this.drain();
        });
      }
    }
  }

  private onFrame(frame: Frame): void | Promise<void> {
    switch (frame.kind) {
      case 'raw':
        return this.downloads.rawData(frame.data);
      case 'raw-end':
        return this.downloads.rawEnd();
      case 'error':
        this.closeReason = `bad record from the server: ${frame.message}`;
        if (frame.fatal) this.socket?.destroy();
        return;
      case 'record':
        return this.onRecord(frame.header, frame.payload);
    }
  }

  private onRecord(header: string, payload: Buffer): void | Promise<void> {
    if (header === 'file_chunk') return this.downloads.chunk(payload);
    const text = payloadText(payload) ?? payload.toString('latin1');
    for (const waiter of this.waiters) {
      if (waiter.match(header, text)) {
        this.waiters.delete(waiter);
        waiter.resolve({ header, text });
        return;
      }
    }
    switch (header) {
      case 'file_transfer':
        return this.downloads.rawStart(text);
      case 'file_offer':
        return this.downloads.offer(text);
      case 'file_end':
        return this.downloads.end(text);
      case 'file_error':
        // id 0: the answer to a file_resume (ids of uploads start at 1 and were matched above)
        if (parseFileError(text)?.id === 0) return this.downloads.resumeRefused(text);
        this.emit('text', { header, text });
        return;
      default:
        this.emit('text', { header, text });
    }
  }

  /** The next record matching `match` (not shown to the user), or a rejection after `ms` or on close. */
  private expect(match: (header: string, text: string) => boolean, ms: number, what: string): Promise<{ header: string; text: string }> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (r) => {
          clearTimeout(timer);
          this.off('close', onClose);
          resolve(r);
        },
      };
      const onClose = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        reject(new WirelabError('E_CLOSED', `the server closed the connection while waiting for ${what}`));
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        this.off('close', onClose);
        reject(new WirelabError('E_TIMEOUT', `no ${what} from the server`));
      }, ms);
      this.waiters.add(waiter);
      this.once('close', onClose);
    });
  }

  /** Resolves once the server has asked its first question (`Are you already registered?`). */
  async waitPrompt(): Promise<void> {
    if (!this.prompted) throw new WirelabError('E_CLOSED', 'not connected');
    await this.prompted;
  }

  /**
   * The seed's dialogue. `anotherName` is asked for a new name when the one chosen is taken.
   * Resolves once joined; rejects with the server's refusal.
   */
  async login(credentials: Credentials, anotherName: (serverText: string) => Promise<string>, timeoutMs = 30_000): Promise<void> {
    const any = (h: string): boolean => h === 'info' || h === 'error';
    await this.waitPrompt();
    this.write('info', credentials.register ? 'no' : 'yes');
    let name = credentials.name;
    this.write('info', name);
    if (credentials.register) {
      for (;;) {
        const reply = await this.expect((h) => h === 'info', timeoutMs, 'answer to the user name');
        if (reply.text === Texts.registered) break;
        name = await anotherName(reply.text);
        this.write('info', name);
      }
    }
    this.write('info', credentials.password);
    const reply = await this.expect(any, timeoutMs, 'answer to the login');
    if (reply.text !== Texts.joined) {
      // an `error` (the reason, e.g. throttling) may come before the seed's `info` refusal: keep both
      let refusal = reply.text.trim();
      if (reply.header === 'error') {
        const next = await this.expect(any, timeoutMs, 'login answer').catch(() => null);
        if (next) refusal = `${refusal} ${next.text.trim()}`;
      }
      throw new WirelabError('E_PERMISSION', refusal);
    }
    this.name = name;
    this.emit('text', reply);
    if (this.options.extended !== false) await this.negotiate(timeoutMs);
  }

  private async negotiate(timeoutMs: number): Promise<void> {
    this.write('caps', CAPABILITY);
    const reply = await this.expect((h, t) => h === 'caps' || (h === 'error' && t === Texts.invalidFormat), timeoutMs, 'capabilities').catch(() => null);
    this.extended = reply?.header === 'caps' && reply.text.startsWith(CAPABILITY_VERSION);
    // downloads a broken connection cut short ask for their rest
    if (this.extended) await this.downloads.resumeKept();
  }

  /** Send one record, after any file being sent. */
  write(header: string, payload: string | Uint8Array): void {
    const bytes = encodeRecord(header, payload);
    this.sending = this.sending.then(() => this.writeNow(bytes)).catch(() => undefined);
  }

  /** A typed line in the seed's syntax (`msg:hello`, `to:bob:hi`, `cmd:disconnect`...). */
  sendLine(line: string): boolean {
    const at = line.indexOf(':');
    if (at <= 0) return false;
    this.write(line.slice(0, at), line.slice(at + 1));
    return true;
  }

  /** Write; `written` runs once the socket is done with `bytes`. */
  private writeNow(bytes: Buffer, written?: () => void): Promise<void> {
    const socket = this.socket;
    if (!socket || this.closed) return Promise.reject(new WirelabError('E_CLOSED', 'not connected'));
    socket.write(bytes, written && (() => written()));
    // keep up to a send window in flight: waiting for 'drain' after every chunk would stall the pipe
    if (socket.writableLength <= SEND_WINDOW_BYTES) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        socket.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        socket.off('drain', onDrain);
        reject(new WirelabError('E_CLOSED', 'connection closed'));
      };
      socket.once('drain', onDrain);
      socket.once('close', onClose);
    });
  }

  /** Send a file to the server (`to` null) or to a user; resolves when the server confirmed it (our mode) or the bytes are sent (seed mode). */
  sendFile(path: string, to: string | null): Promise<{ offset: number; size: number }> {
    const job = this.sending.then(() => (this.extended ? this.sendChunked(path, to) : this.sendRaw(path, to)));
    this.sending = job.then(
      () => undefined,
      () => undefined,
    );
    return job;
  }

  private async sendRaw(path: string, to: string | null): Promise<{ offset: number; size: number }> {
    const name = basename(path);
    const size = (await stat(path)).size;
    await this.writeNow(encodeRecord('file_transfer', to === null ? `file_to_server:${name}` : `file_to:${to}:${name}`));
    let sent = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: FILE_CHUNK_BYTES })) {
      await this.writeNow(chunk as Buffer);
      sent += (chunk as Buffer).length;
      this.emit('file-progress', { direction: 'up', name, bytes: sent, size });
    }
    await this.writeNow(Buffer.from('EOF', 'latin1'));
    return { offset: 0, size };
  }

  /**
   * Our mode; resolves with the offset the server resumed from. The file is read once: hashed as it is
   * sent, the SHA-256 going in `file_end`. A resumed upload hashes the part the server kept from the
   * file first, so the digest always covers the whole file. Should the server's kept part turn out not
   * to match (another file of the same name, size and time), it is sent once more from the start.
   */
  private async sendChunked(path: string, to: string | null, retried = false): Promise<{ offset: number; size: number }> {
    const name = basename(path);
    const info = await stat(path);
    const size = info.size;
    const id = this.nextId++;
    const isMine = (h: string, t: string): boolean => ['file_accept', 'file_error', 'file_done'].includes(h) && (parseFileError(t) ?? parseFileAccept(t) ?? parseFileDone(t))?.id === id;
    const accepted = this.expect(isMine, 30_000, 'file_accept');
    await this.writeNow(encodeRecord('file_offer', JSON.stringify({ id, to, name, size, mtime: Math.floor(info.mtimeMs) })));
    const answer = await accepted;
    if (answer.header === 'file_error') throw new WirelabError('E_FILE', parseFileError(answer.text)?.reason ?? 'refused');
    const offset = parseFileAccept(answer.text)?.offset ?? 0;
    const digest = createHash('sha256');
    const handle = await open(path, 'r');
    try {
      await hashRange(handle, offset, digest);
      await this.sendChunks(handle, id, offset, size, digest, (sent) => this.emit('file-progress', { direction: 'up', name, bytes: sent, size }));
    } finally {
      await handle.close();
    }
    const done = this.expect(isMine, 120_000, 'file_done');
    await this.writeNow(encodeRecord('file_end', JSON.stringify({ id, sha256: digest.digest('hex') })));
    const result = await done;
    if (result.header === 'file_error') {
      const reason = parseFileError(result.text)?.reason ?? 'refused';
      if (offset > 0 && !retried && reason.startsWith('SHA-256')) return this.sendChunked(path, to, true);
      throw new WirelabError('E_FILE', reason);
    }
    return { offset, size };
  }

  /**
   * file_chunk records from `offset` to `size`, each read straight into its record and hashed. Reads
   * run ahead of the socket (READ_AHEAD chunks): a read from the page cache takes about as long as
   * the socket takes a chunk, and done one after the other they halved the upload's rate.
   */
  private async sendChunks(handle: FileHandle, id: number, offset: number, size: number, digest: Hash, progress: (sent: number) => void): Promise<void> {
    type Read = { record: Buffer; at: number; bytesRead: number };
    const ahead: Array<Promise<Read>> = [];
    let next = offset;
    const readAhead = (): void => {
      for (; ahead.length < READ_AHEAD && next < size; next += FILE_CHUNK_BYTES) {
        const record = allocChunkRecord(id, FILE_CHUNK_BYTES, this.chunkPool.take(CHUNK_RECORD_PREFIX + FILE_CHUNK_BYTES));
        const at = next;
        ahead.push(handle.read(record, CHUNK_RECORD_PREFIX, Math.min(FILE_CHUNK_BYTES, size - at), at).then(({ bytesRead }) => ({ record, at, bytesRead })));
      }
    };
    const dropAhead = async (): Promise<void> => {
      for (const read of ahead.splice(0)) this.chunkPool.give((await read.catch(() => null))?.record ?? Buffer.alloc(0));
    };
    try {
      for (let sent = offset; sent < size; ) {
        readAhead();
        const { record, at, bytesRead } = await ahead.shift()!;
        if (bytesRead === 0) throw new WirelabError('E_FILE', 'the file got shorter while being sent');
        digest.update(record.subarray(CHUNK_RECORD_PREFIX, CHUNK_RECORD_PREFIX + bytesRead));
        await this.writeNow(setChunkLength(record, bytesRead), () => this.chunkPool.give(record));
        sent = at + bytesRead;
        progress(sent);
        if (bytesRead < Math.min(FILE_CHUNK_BYTES, size - at)) {
          // a short read: the reads ahead started at the wrong places
          await dropAhead();
          next = sent;
        }
      }
    } finally {
      // no read may still be running when the file is closed
      await dropAhead();
    }
  }

  /** Say goodbye (`cmd:disconnect`) and close. */
  async quit(): Promise<void> {
    if (this.closed || !this.socket) return;
    this.closeReason = 'you left';
    this.write('cmd', 'disconnect');
    await this.sending;
    this.socket.end();
    await new Promise<void>((resolve) => (this.closed ? resolve() : this.once('close', () => resolve())));
  }

  /** Drop the connection at once. */
  destroy(): void {
    this.socket?.destroy();
  }
}

/** Feed the first `bytes` of an open file to `digest`. */
async function hashRange(handle: FileHandle, bytes: number, digest: Hash): Promise<void> {
  const buffer = Buffer.allocUnsafe(FILE_CHUNK_BYTES);
  for (let at = 0; at < bytes; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, bytes - at), at);
    if (bytesRead === 0) throw new WirelabError('E_FILE', 'the file got shorter while being sent');
    digest.update(buffer.subarray(0, bytesRead));
    at += bytesRead;
  }
}
