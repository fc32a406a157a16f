/**
 * File transfers on the server, in both wire modes: the seed's raw uploads and relays (bytes ended by
 * `EOF`) and our framed ones (offer, accept with a resume offset, chunks, end, SHA-256 checked).
 * Everything is written to a temporary or partial file first and renamed only when complete and
 * verified; relayed files are stored, then streamed to the recipient, then deleted.
 */
import { rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Connection } from './connection.js';
import { chunkedFileJob, hashFile, IncomingFile, seedFileJob, type FileStore } from './files.js';
import { encodeRecord } from './framing.js';
import { Texts, safeFileName, type FileOffer } from './protocol.js';

/** At most this many framed uploads open at once per client. */
const MAX_UPLOADS_PER_CLIENT = 4;

export interface FileEvent {
  from: string;
  to: string | null;
  name: string;
  size: number;
  sha256: string;
  mode: 'seed' | 'chunked';
}

export interface TransferHost {
  readonly store: FileStore;
  readonly maxFileBytes: number;
  online(name: string): Connection | undefined;
  onlineAll(): Connection[];
  onFile(event: FileEvent): void;
  onRefused(conn: Connection, name: string, reason: string): void;
}

interface Upload {
  offer: FileOffer;
  name: string;
  file: IncomingFile;
}

export class Transfers {
  private readonly uploads = new Map<Connection, Map<number, Upload>>();
  private nextOutgoingId = 1;

  constructor(private readonly host: TransferHost) {}

  /** A seed `file_transfer:file_to_server:NAME` or `file_to:USER:NAME`: raw bytes follow at once. */
  async startRaw(conn: Connection, rawName: string, to: string | null): Promise<void> {
    const user = conn.name!;
    const name = safeFileName(rawName);
    let reason: string | null = name === null ? 'the file name is not allowed' : null;
    if (reason === null && to !== null && !this.host.online(to)) reason = `no user named '${to}' is online`;
    if (reason !== null || name === null) {
      const why = reason ?? 'refused';
      conn.rawSink = { write: () => undefined, end: () => Promise.resolve(this.refuse(conn, rawName, why)), abort: () => undefined };
      return;
    }
    const file = await IncomingFile.open(this.host.store.tmpPath(), this.host.maxFileBytes, false);
    conn.rawSink = {
      write: (data) => file.write(data),
      abort: () => file.abort(),
      end: async () => {
        const { size, sha256 } = await file.end();
        if (file.overLimit) {
          await rm(file.path, { force: true });
          return this.refuse(conn, name, `larger than ${this.host.maxFileBytes} bytes`);
        }
        await this.complete(conn, file.path, { from: user, to, name, size, sha256, mode: 'seed' });
      },
    };
  }

  /** The raw transfer's `EOF` came. */
  async endRaw(conn: Connection): Promise<void> {
    const sink = conn.rawSink;
    conn.rawSink = null;
    if (sink) await sink.end();
  }

  private refuse(conn: Connection, name: string, reason: string): void {
    conn.send('error', Texts.badFile(reason));
    this.host.onRefused(conn, name, reason);
  }

  /** A complete, verified file: store it (to the server) or hand it to its recipient. */
  private async complete(conn: Connection, path: string, event: FileEvent): Promise<boolean> {
    if (event.to === null) {
      await this.host.store.commit(path, this.host.store.userDir(event.from), event.name);
      const notice = encodeRecord('info', Texts.uploaded(event.name, event.from));
      for (const other of this.host.onlineAll()) other.sendBytes(notice);
      this.host.onFile(event);
      return true;
    }
    const recipient = this.host.online(event.to);
    if (!recipient) {
      await rm(path, { force: true });
      this.refuse(conn, event.name, `no user named '${event.to}' is online`);
      return false;
    }
    const job = recipient.extended
      ? chunkedFileJob(path, { id: this.nextOutgoingId++, from: event.from, name: event.name, size: event.size, sha256: event.sha256 })
      : seedFileJob(path, Texts.fileTo(event.from, event.name));
    recipient.sendJob(async (write) => {
      try {
        await job(write);
        conn.send('info', Texts.sentTo(event.name, event.to!));
        this.host.onFile(event);
      } finally {
        await rm(path, { force: true });
      }
    });
    return true;
  }

  /** Our mode: an offer. Answered with file_accept (and the offset to resume from) or file_error. */
  async offer(conn: Connection, offer: FileOffer): Promise<void> {
    const mine = this.uploads.get(conn) ?? new Map<number, Upload>();
    const name = safeFileName(offer.name);
    const to = offer.to ?? null;
    const reason =
      name === null ? 'the file name is not allowed'
      : offer.size > this.host.maxFileBytes ? `larger than ${this.host.maxFileBytes} bytes`
      : to !== null && !this.host.online(to) ? `no user named '${to}' is online`
      : mine.has(offer.id) || mine.size >= MAX_UPLOADS_PER_CLIENT ? 'too many transfers at once'
      : null;
    if (reason !== null || name === null) {
      conn.send('file_error', JSON.stringify({ id: offer.id, reason: reason ?? 'refused' }));
      this.host.onRefused(conn, offer.name, reason ?? 'refused');
      return;
    }
    const path = this.host.store.partialPath(conn.name!, to, name, offer.sha256, offer.size);
    const file = await IncomingFile.open(path, offer.size, true);
    mine.set(offer.id, { offer, name, file });
    this.uploads.set(conn, mine);
    conn.send('file_accept', JSON.stringify({ id: offer.id, offset: file.size }));
  }

  chunk(conn: Connection, id: number, data: Buffer): void | Promise<void> {
    const upload = this.uploads.get(conn)?.get(id);
    if (!upload) {
      conn.send('file_error', JSON.stringify({ id, reason: 'no such transfer' }));
      return;
    }
    if (upload.file.size + data.length > upload.offer.size) {
      this.drop(conn, id, true);
      conn.send('file_error', JSON.stringify({ id, reason: 'more bytes than offered' }));
      return;
    }
    return upload.file.write(data);
  }

  async end(conn: Connection, id: number): Promise<void> {
    const upload = this.uploads.get(conn)?.get(id);
    if (!upload) {
      conn.send('file_error', JSON.stringify({ id, reason: 'no such transfer' }));
      return;
    }
    this.uploads.get(conn)!.delete(id);
    const { size, sha256 } = await upload.file.end();
    if (size !== upload.offer.size || sha256 !== upload.offer.sha256) {
      await rm(upload.file.path, { force: true });
      conn.send('file_error', JSON.stringify({ id, reason: size !== upload.offer.size ? 'size differs from the offer' : 'SHA-256 differs from the offer' }));
      this.host.onRefused(conn, upload.name, 'verification failed');
      return;
    }
    const to = upload.offer.to ?? null;
    const done = await this.complete(conn, upload.file.path, { from: conn.name!, to, name: upload.name, size, sha256, mode: 'chunked' });
    if (done) conn.send('file_done', JSON.stringify({ id, name: upload.name, size, sha256 }));
    else conn.send('file_error', JSON.stringify({ id, reason: `no user named '${to}' is online` }));
  }

  private drop(conn: Connection, id: number, remove: boolean): void {
    const upload = this.uploads.get(conn)?.get(id);
    if (!upload) return;
    this.uploads.get(conn)!.delete(id);
    if (remove) upload.file.abort();
    else void upload.file.pause();
  }

  /** The client went away: its framed uploads are kept on disk for a resume. */
  disconnected(conn: Connection): void {
    for (const id of [...(this.uploads.get(conn)?.keys() ?? [])]) this.drop(conn, id, false);
    this.uploads.delete(conn);
  }

  /** The operator's `send_file`: a file from the server to one client or all. */
  async sendFromServer(path: string, targets: Connection[]): Promise<{ size: number; sha256: string }> {
    const info = await stat(path);
    if (!info.isFile()) throw new Error(`not a regular file: ${path}`);
    const { size, sha256 } = await hashFile(path);
    const name = basename(path);
    for (const target of targets) {
      const done = encodeRecord('info', Texts.sentTo(name, target.name!));
      const job = target.extended
        ? chunkedFileJob(path, { id: this.nextOutgoingId++, from: 'server', name, size, sha256 }, done)
        : seedFileJob(path, Texts.fileFromServer(name), done);
      target.sendJob(async (write) => {
        await job(write);
        this.host.onFile({ from: 'server', to: target.name, name, size, sha256, mode: target.extended ? 'chunked' : 'seed' });
      });
    }
    return { size, sha256 };
  }
}
