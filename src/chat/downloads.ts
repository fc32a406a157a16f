/**
 * Files the client receives, in either wire mode, written to a hidden temporary file in the downloads
 * folder and renamed only when complete (and, in our mode, when the SHA-256 matches the offer). A
 * name from the network is made safe first; a name already present gets a ` (1)` suffix.
 */
import type { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { ChatClientEvents } from './client.js';
import { IncomingFile } from './files.js';
import { parseFileId, parseFileOffer, safeFileName } from './protocol.js';
import { MAX_FILE_BYTES } from './constants.js';

interface Receiving {
  name: string;
  from: string;
  file: IncomingFile | null;
  size: number | null;
  sha256: string | null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export class Downloads {
  private raw: Receiving | null = null;
  private readonly chunked = new Map<number, Receiving>();

  constructor(
    readonly dir: string,
    private readonly events: EventEmitter<ChatClientEvents>,
  ) {}

  private async begin(rawName: string, from: string, size: number | null, sha256: string | null): Promise<Receiving> {
    const name = safeFileName(rawName);
    if (name === null) {
      this.events.emit('file-failed', { name: rawName, reason: 'unsafe file name; discarded' });
      return { name: rawName, from, file: null, size, sha256 };
    }
    await mkdir(this.dir, { recursive: true });
    const file = await IncomingFile.open(join(this.dir, `.${randomBytes(6).toString('hex')}.part`), MAX_FILE_BYTES, false);
    this.events.emit('file-incoming', { name, from, size });
    return { name, from, file, size, sha256 };
  }

  /** The seed's `file_transfer` announcement: `file_to:FROM:NAME\n` or `file from server:NAME\n`. */
  async rawStart(text: string): Promise<void> {
    const match = /^file_to:([^:]*):(.*)$/s.exec(text) ?? /^file from (server):(.*)$/s.exec(text);
    this.raw = await this.begin(match?.[2] ?? '', match?.[1] ?? '?', null, null);
  }

  rawData(data: Buffer): void | Promise<void> {
    const r = this.raw;
    if (!r?.file) return;
    const pending = r.file.write(data);
    this.events.emit('file-progress', { direction: 'down', name: r.name, bytes: r.file.size, size: null });
    return pending;
  }

  async rawEnd(): Promise<void> {
    const r = this.raw;
    this.raw = null;
    if (r?.file) await this.finish(r, false);
  }

  /** Our mode: `file_offer` {id, from, name, size, sha256}. */
  async offer(text: string): Promise<void> {
    const offer = parseFileOffer(text);
    if (!offer || this.chunked.has(offer.id)) return;
    this.chunked.set(offer.id, await this.begin(offer.name, offer.from ?? '?', offer.size, offer.sha256));
  }

  chunk(payload: Buffer): void | Promise<void> {
    if (payload.length < 4) return;
    const r = this.chunked.get(payload.readUInt32BE(0));
    if (!r?.file) return;
    const pending = r.file.write(payload.subarray(4));
    this.events.emit('file-progress', { direction: 'down', name: r.name, bytes: r.file.size, size: r.size });
    return pending;
  }

  async end(text: string): Promise<void> {
    const id = parseFileId(text)?.id;
    const r = id === undefined ? undefined : this.chunked.get(id);
    if (id === undefined || !r) return;
    this.chunked.delete(id);
    if (r.file) await this.finish(r, true);
  }

  private async finish(r: Receiving, verify: boolean): Promise<void> {
    const file = r.file!;
    const { size, sha256 } = await file.end();
    if (verify && (size !== r.size || sha256 !== r.sha256)) {
      await rm(file.path, { force: true });
      this.events.emit('file-failed', { name: r.name, reason: 'SHA-256 or size differs from the offer; discarded' });
      return;
    }
    let path = join(this.dir, r.name);
    const ext = extname(r.name);
    for (let n = 1; (await exists(path)) && n < 1000; n++) path = join(this.dir, `${r.name.slice(0, r.name.length - ext.length)} (${n})${ext}`);
    await rename(file.path, path);
    this.events.emit('file-saved', { name: r.name, path, size, verified: verify });
  }

  /** The connection ended: nothing half-written is left. */
  abort(): void {
    this.raw?.file?.abort();
    this.raw = null;
    for (const r of this.chunked.values()) r.file?.abort();
    this.chunked.clear();
  }
}
