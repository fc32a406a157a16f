/**
 * File transfers on the server, in both wire modes: the seed's raw uploads and relays (bytes ended by
 * `EOF`) and our framed ones (offer, accept with a resume offset, chunks, end, SHA-256 checked).
 * Everything is written to a temporary or partial file first and renamed only when complete and
 * verified; relayed files are stored, then streamed to the recipient, then deleted.
 */
import { rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Connection } from './connection.js';
import { chunkedFileJob, hashFile, IncomingFile, seedFileJob, type FileStore, type OutgoingOffer } from './files.js';
import { encodeRecord } from './framing.js';
import { findDelivery, forgetDelivery, keepDelivery } from './kept-files.js';
import { Texts, safeFileName, type FileOffer, type FileResume } from './protocol.js';

/** At most this many framed uploads open at once per client. */
const MAX_UPLOADS_PER_CLIENT = 4;

export interface FileEvent {
  from: string;
  to: string | null;
  name: string;
  size: number;
  sha256: string;
  mode: 'seed' | 'chunked';
  /** bytes skipped because the recipient had them (a resumed download); 0 otherwise */
  offset: number;
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

/** A delivery to a client of our mode, until it says `file_received`. */
interface Delivery {
  sha256: string;
  size: number;
}

export class Transfers {
  private readonly uploads = new Map<Connection, Map<number, Upload>>();
  /** deliveries sent to each client of our mode, by offer id, until confirmed */
  private readonly deliveries = new Map<Connection, Map<number, Delivery>>();
  /** files a transfer is writing or reading: the expiry sweep leaves them alone */
  readonly inUse = new Set<string>();
  /** 0 is never an offer's id: a `file_error` with id 0 answers a `file_resume` */
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
        await this.complete(conn, file.path, { from: user, to, name, size, sha256, mode: 'seed', offset: 0 });
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
    if (recipient.extended) {
      // kept in outgoing/ until the recipient confirms, so that a broken download can resume
      const kept = await keepDelivery(this.host.store, { user: recipient.name!, from: event.from, name: event.name, size: event.size, sha256: event.sha256, path }, true);
      this.deliver(recipient, kept, { from: event.from, name: event.name, size: event.size, sha256: event.sha256 }, () => {
        conn.send('info', Texts.sentTo(event.name, event.to!));
        this.host.onFile(event);
      });
      return true;
    }
    const job = seedFileJob(path, Texts.fileTo(event.from, event.name));
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

  /** Stream a kept file to a client of our mode (from `offset` on a resume); `sent` runs once it is all written. */
  private deliver(target: Connection, path: string, offer: Omit<OutgoingOffer, 'id'>, sent: () => void): void {
    const id = this.nextOutgoingId++;
    const mine = this.deliveries.get(target) ?? new Map<number, Delivery>();
    mine.set(id, { sha256: offer.sha256, size: offer.size });
    this.deliveries.set(target, mine);
    const record = `${this.host.store.outgoingPath(target.name!, offer.sha256, offer.size)}.json`;
    const job = chunkedFileJob(path, { id, ...offer });
    target.sendJob(async (write) => {
      this.inUse.add(path).add(record);
      try {
        await job(write);
        sent();
      } finally {
        this.inUse.delete(path);
        this.inUse.delete(record);
      }
    });
  }

  /** A client of our mode asks for the rest of a download it has a part of. */
  async resume(conn: Connection, request: FileResume): Promise<void> {
    // one delivery of a file at a time per connection: a client repeating file_resume (within the
    // record rate) would otherwise queue a whole-file job per request, without bound
    const mine = this.deliveries.get(conn);
    if (mine && [...mine.values()].some((d) => d.sha256 === request.sha256 && d.size === request.size)) {
      conn.send('file_error', JSON.stringify({ id: 0, sha256: request.sha256, reason: 'this file is already on its way' }));
      return;
    }
    const kept = await findDelivery(this.host.store, conn.name!, request.sha256, request.size);
    if (!kept || request.offset > kept.size) {
      const reason = kept ? 'offset past the end of the file' : 'the server no longer has this file';
      conn.send('file_error', JSON.stringify({ id: 0, sha256: request.sha256, reason }));
      return;
    }
    const offer = { from: kept.from, name: kept.name, size: kept.size, sha256: kept.sha256, offset: request.offset };
    this.deliver(conn, kept.path, offer, () => this.host.onFile({ from: kept.from, to: conn.name, name: kept.name, size: kept.size, sha256: kept.sha256, mode: 'chunked', offset: request.offset }));
  }

  /** The client saved and verified a download: the server's copy can go. */
  async received(conn: Connection, id: number): Promise<void> {
    const mine = this.deliveries.get(conn);
    const delivery = mine?.get(id);
    if (!mine || !delivery) return;
    mine.delete(id);
    // the same bytes may be on their way to this client again (kept under the same key): keep them
    if ([...mine.values()].some((d) => d.sha256 === delivery.sha256 && d.size === delivery.size)) return;
    await forgetDelivery(this.host.store, conn.name!, delivery.sha256, delivery.size);
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
    const path = this.host.store.partialPath(conn.name!, to, name, offer.size, offer.mtime);
    if (this.inUse.has(path)) {
      conn.send('file_error', JSON.stringify({ id: offer.id, reason: 'this file is already being sent' }));
      return;
    }
    const file = await IncomingFile.open(path, offer.size, true);
    this.inUse.add(path);
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
    // the chunk's memory goes back to the pool once it is on disk
    return upload.file.write(data, () => conn.chunkPool?.give(data));
  }

  /** `file_end` with the SHA-256 the client computed while sending: checked against the whole file stored. */
  async end(conn: Connection, id: number, claimed: string): Promise<void> {
    const upload = this.uploads.get(conn)?.get(id);
    if (!upload) {
      conn.send('file_error', JSON.stringify({ id, reason: 'no such transfer' }));
      return;
    }
    this.uploads.get(conn)!.delete(id);
    let result: { size: number; sha256: string };
    try {
      result = await upload.file.end();
    } finally {
      this.inUse.delete(upload.file.path);
    }
    const { size, sha256 } = result;
    if (size !== upload.offer.size || sha256 !== claimed) {
      await rm(upload.file.path, { force: true });
      conn.send('file_error', JSON.stringify({ id, reason: size !== upload.offer.size ? 'size differs from the offer' : 'SHA-256 differs from the bytes received' }));
      this.host.onRefused(conn, upload.name, 'verification failed');
      return;
    }
    const to = upload.offer.to ?? null;
    const done = await this.complete(conn, upload.file.path, { from: conn.name!, to, name: upload.name, size, sha256, mode: 'chunked', offset: 0 });
    if (done) conn.send('file_done', JSON.stringify({ id, name: upload.name, size, sha256 }));
    else conn.send('file_error', JSON.stringify({ id, reason: `no user named '${to}' is online` }));
  }

  private drop(conn: Connection, id: number, remove: boolean): void {
    const upload = this.uploads.get(conn)?.get(id);
    if (!upload) return;
    this.uploads.get(conn)!.delete(id);
    const path = upload.file.path;
    if (remove) {
      upload.file.abort();
      this.inUse.delete(path);
    } else void upload.file.pause().finally(() => this.inUse.delete(path));
  }

  /** The client went away: its framed uploads are kept on disk for a resume, as are its unconfirmed downloads. */
  disconnected(conn: Connection): void {
    for (const id of [...(this.uploads.get(conn)?.keys() ?? [])]) this.drop(conn, id, false);
    this.uploads.delete(conn);
    this.deliveries.delete(conn);
  }

  /** The operator's `send_file`: a file from the server to one client or all. */
  async sendFromServer(path: string, targets: Connection[]): Promise<{ size: number; sha256: string }> {
    const info = await stat(path);
    if (!info.isFile()) throw new Error(`not a regular file: ${path}`);
    const { size, sha256 } = await hashFile(path);
    const name = basename(path);
    for (const target of targets) {
      const event: FileEvent = { from: 'server', to: target.name, name, size, sha256, mode: target.extended ? 'chunked' : 'seed', offset: 0 };
      if (target.extended) {
        const kept = await keepDelivery(this.host.store, { user: target.name!, from: 'server', name, size, sha256, path }, false);
        this.deliver(target, kept, { from: 'server', name, size, sha256 }, () => {
          target.send('info', Texts.sentTo(name, target.name!));
          this.host.onFile(event);
        });
        continue;
      }
      const job = seedFileJob(path, Texts.fileFromServer(name), encodeRecord('info', Texts.sentTo(name, target.name!)));
      target.sendJob(async (write) => {
        await job(write);
        this.host.onFile(event);
      });
    }
    return { size, sha256 };
  }
}
