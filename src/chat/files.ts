/**
 * Files of the chat server: where they live under `--data`, how incoming bytes are written (to a
 * temporary file, renamed only when complete and verified), and the jobs that stream a file to a
 * client in either wire mode. Files are streamed, never held whole in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobWriter } from './connection.js';
import { encodeRecord } from './framing.js';
import { CHUNK_RECORD_PREFIX, allocChunkRecord, setChunkLength } from './protocol.js';
import { FILE_CHUNK_BYTES, SEED_EOF_GAP_MS } from './constants.js';

/**
 * Bytes an incoming file may hold in memory before the sender is paused, and the level they must fall
 * to before it goes on. Waiting for the write queue to empty (a stream's 'drain') left the socket
 * unread while the disk wrote the last batch (up to 40 % of an upload's time in one measurement);
 * resuming at the low mark keeps the socket read while the disk writes.
 */
const WRITE_HIGH_BYTES = 4 * 1024 * 1024;
const WRITE_LOW_BYTES = 2 * 1024 * 1024;

/** SHA-256 of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const digest = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    digest.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: digest.digest('hex'), size };
}

/** The layout under `--data`. */
export class FileStore {
  constructor(readonly dataDir: string) {}

  get tmpDir(): string {
    return join(this.dataDir, 'tmp');
  }
  get partialDir(): string {
    return join(this.dataDir, 'partial');
  }
  /** files delivered to clients of our mode, kept until they confirm (for a resumed download) */
  get outgoingDir(): string {
    return join(this.dataDir, 'outgoing');
  }
  /** files a user uploaded to the server */
  userDir(user: string): string {
    return join(this.dataDir, 'files', user);
  }
  get scoresDir(): string {
    return join(this.dataDir, 'all_quiz_scores');
  }

  /** Create the folders; leftovers of a crash in tmp/ are removed (partial/ and outgoing/ are kept for resume). */
  async prepare(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    for (const dir of [this.tmpDir, this.partialDir, this.outgoingDir, join(this.dataDir, 'files'), this.scoresDir]) await mkdir(dir, { recursive: true });
  }

  tmpPath(): string {
    return join(this.tmpDir, `${randomBytes(12).toString('hex')}.part`);
  }

  /**
   * Where a resumable upload keeps its bytes: one file per (user, target, name, size, modification
   * time). The whole file's SHA-256 is checked at the end, so a part of another file under the same
   * key is caught there.
   */
  partialPath(user: string, to: string | null, name: string, size: number, mtime: number | undefined): string {
    const key = createHash('sha256').update(`${user}\0${to ?? ''}\0${name}\0${size}\0${mtime ?? ''}`).digest('hex');
    return join(this.partialDir, `${key}.part`);
  }

  /** Where a delivery to `user` is recorded (`.json`) and, for a relayed file, kept (`.bin`). */
  outgoingPath(user: string, sha256: string, size: number): string {
    const key = createHash('sha256').update(`${user}\0${sha256}\0${size}`).digest('hex');
    return join(this.outgoingDir, key);
  }

  /** Move a complete file to its place (same file system: an atomic rename). */
  async commit(tmp: string, dir: string, name: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    const dest = join(dir, name);
    await rename(tmp, dest);
    return dest;
  }
}

/** Bytes coming in: appended to a file, hashed on the way, capped in size. */
export class IncomingFile {
  size: number;
  private readonly stream: WriteStream;
  private readonly digest = createHash('sha256');
  /** false when writing started past 0 (a resume): the hash is then taken from the file at the end */
  private readonly hashing: boolean;
  private failed: Error | null = null;
  /** writers waiting for the queue to fall to the low mark */
  private waiting: Array<() => void> = [];

  private constructor(
    readonly path: string,
    offset: number,
    private readonly maxBytes: number,
  ) {
    this.size = offset;
    this.hashing = offset === 0;
    // the stream's own mark is not used to pause (see WRITE_HIGH_BYTES); it only batches writes
    this.stream = createWriteStream(path, { flags: offset === 0 ? 'w' : 'a', highWaterMark: WRITE_HIGH_BYTES });
    this.stream.on('error', (err) => (this.failed = err));
    this.stream.on('close', () => this.wake(true));
  }

  /** A new file at `path`, or a resumed one: its length is the offset (cut back to `maxBytes`). */
  static async open(path: string, maxBytes: number, resume: boolean): Promise<IncomingFile> {
    let offset = 0;
    if (resume) {
      try {
        offset = (await stat(path)).size;
        if (offset > maxBytes) {
          await truncate(path, 0);
          offset = 0;
        }
      } catch {
        offset = 0;
      }
    }
    return new IncomingFile(path, offset, maxBytes);
  }

  get overLimit(): boolean {
    return this.size > this.maxBytes;
  }

  /**
   * Append; resolves at once unless more than WRITE_HIGH_BYTES wait for the disk, then once they are
   * down to WRITE_LOW_BYTES. `written` runs once `data` is no longer needed (written out, or not to be
   * written).
   */
  write(data: Buffer, written?: () => void): void | Promise<void> {
    if (this.failed) throw this.failed;
    this.size += data.length;
    if (this.size > this.maxBytes) {
      written?.();
      return;
    }
    if (this.hashing) this.digest.update(data);
    this.stream.write(data, () => {
      written?.();
      this.wake(false);
    });
    if (this.stream.writableLength <= WRITE_HIGH_BYTES) return;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private wake(always: boolean): void {
    if (this.waiting.length > 0 && (always || this.stream.writableLength <= WRITE_LOW_BYTES)) for (const go of this.waiting.splice(0)) go();
  }

  /** Close and return the size and SHA-256 of the whole file. */
  async end(): Promise<{ size: number; sha256: string }> {
    await new Promise<void>((resolve, reject) => {
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
    if (this.failed) throw this.failed;
    if (this.hashing) return { size: this.size, sha256: this.digest.digest('hex') };
    return hashFile(this.path);
  }

  /** Stop writing and keep what is on disk (for a resume). */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
  }

  /** Stop and delete the file. */
  abort(): void {
    this.stream.destroy();
    void rm(this.path, { force: true });
  }
}

/** Read a file in chunks, handing each (a fresh buffer) to `onBytes` and waiting for it. */
async function streamFile(path: string, onBytes: (data: Buffer) => Promise<void> | void): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(FILE_CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      await onBytes(Buffer.from(buffer.subarray(0, bytesRead)));
    }
  } finally {
    await handle.close();
  }
}

/**
 * The seed's server-to-client transfer: a `file_transfer` record announcing it, the raw bytes, `EOF`,
 * then a pause so that the seed client's `recv(1024)` sees `EOF` at the end of a read.
 */
export function seedFileJob(path: string, announce: string, after?: Buffer): (write: JobWriter) => Promise<void> {
  return async (write) => {
    await write(encodeRecord('file_transfer', announce));
    await streamFile(path, (data) => write(data));
    await write(Buffer.from('EOF', 'latin1'));
    await new Promise((resolve) => setTimeout(resolve, SEED_EOF_GAP_MS));
    if (after) await write(after);
  };
}

/** A server-to-client offer of our mode; `offset` above 0 resumes a download from there. */
export interface OutgoingOffer {
  id: number;
  from: string;
  name: string;
  size: number;
  sha256: string;
  offset?: number;
}

/** Our own mode: `file_offer` (JSON), `file_chunk` records (u32 id + bytes) from the offset, `file_end`. */
export function chunkedFileJob(path: string, offer: OutgoingOffer, after?: Buffer): (write: JobWriter) => Promise<void> {
  return async (write) => {
    await write(encodeRecord('file_offer', JSON.stringify(offer)));
    const handle = await open(path, 'r');
    try {
      for (let at = offer.offset ?? 0; ; ) {
        const record = allocChunkRecord(offer.id, FILE_CHUNK_BYTES);
        const { bytesRead } = await handle.read(record, CHUNK_RECORD_PREFIX, FILE_CHUNK_BYTES, at);
        if (bytesRead === 0) break;
        at += bytesRead;
        await write(setChunkLength(record, bytesRead));
      }
    } finally {
      await handle.close();
    }
    await write(encodeRecord('file_end', JSON.stringify({ id: offer.id })));
    if (after) await write(after);
  };
}
