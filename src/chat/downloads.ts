/**
 * Files the client receives, in either wire mode, written to a hidden temporary file in the downloads
 * folder and renamed only when complete (and, in our mode, when the SHA-256 matches the offer). A
 * name from the network is made safe first; a name already present gets a ` (1)` suffix.
 *
 * Our mode resumes: a download is written to `.SHA256-SIZE.part` beside a `.SHA256-SIZE.json` that
 * says what it is. When the connection breaks, both stay; after the next login the client sends
 * `file_resume` with the part's length and the server sends the rest. The whole file's SHA-256 is
 * checked at the end, as for any download, and the client confirms with `file_received`.
 */
import type { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { z } from 'zod';
import type { ChatClientEvents } from './client.js';
import { IncomingFile } from './files.js';
import { parseDownloadOffer, parseFileError, parseFileId, safeFileName, type DownloadOffer } from './protocol.js';
import { MAX_FILE_BYTES } from './constants.js';

interface Receiving {
  name: string;
  from: string;
  file: IncomingFile | null;
  size: number | null;
  sha256: string | null;
  /** the `.json` beside a resumable part */
  sidecar: string | null;
}

/** What a `.json` beside a part says. */
const SidecarSchema = z.object({ from: z.string(), name: z.string(), size: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

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
    /** send one record to the server */
    private readonly send: (header: string, payload: string) => void,
  ) {}

  /** `.SHA256-SIZE` in the downloads folder: the part is `BASE.part`, its description `BASE.json`. */
  private keptBase(sha256: string, size: number): string {
    return join(this.dir, `.${sha256}-${size}`);
  }

  private async begin(rawName: string, from: string, size: number | null, sha256: string | null, offset = 0): Promise<Receiving> {
    const name = safeFileName(rawName);
    if (name === null) {
      this.events.emit('file-failed', { name: rawName, reason: 'unsafe file name; discarded' });
      return { name: rawName, from, file: null, size, sha256, sidecar: null };
    }
    await mkdir(this.dir, { recursive: true });
    const file = await IncomingFile.open(join(this.dir, `.${randomBytes(6).toString('hex')}.part`), MAX_FILE_BYTES, false);
    this.events.emit('file-incoming', { name, from, size, offset });
    return { name, from, file, size, sha256, sidecar: null };
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
    if (r?.file) await this.finish(r, null);
  }

  /** Our mode: `file_offer` {id, from, name, size, sha256, offset?}. */
  async offer(text: string): Promise<void> {
    const offer = parseDownloadOffer(text);
    if (!offer || this.chunked.has(offer.id)) return;
    this.chunked.set(offer.id, await this.beginResumable(offer));
  }

  /** A download that can resume: written to `.SHA256-SIZE.part`, described in `.SHA256-SIZE.json`. */
  private async beginResumable(offer: DownloadOffer): Promise<Receiving> {
    const name = safeFileName(offer.name);
    const base = this.keptBase(offer.sha256, offer.size);
    const busy = [...this.chunked.values()].some((r) => r.sidecar === `${base}.json`);
    // a second copy of the same bytes at once (or a bad name) is received the plain way
    if (name === null || busy) return this.begin(offer.name, offer.from, offer.size, offer.sha256);
    await mkdir(this.dir, { recursive: true });
    const offset = offer.offset ?? 0;
    const file = await IncomingFile.open(`${base}.part`, offer.size, offset > 0);
    if (file.size !== offset) {
      // not the part we asked about (it changed meanwhile): drop it and ignore these bytes
      file.abort();
      await rm(`${base}.json`, { force: true });
      this.events.emit('file-failed', { name, reason: `the kept part is not ${offset} bytes long; discarded` });
      return { name, from: offer.from, file: null, size: offer.size, sha256: offer.sha256, sidecar: null };
    }
    await writeFile(`${base}.json`, JSON.stringify({ from: offer.from, name, size: offer.size, sha256: offer.sha256 }));
    this.events.emit('file-incoming', { name, from: offer.from, size: offer.size, offset });
    return { name, from: offer.from, file, size: offer.size, sha256: offer.sha256, sidecar: `${base}.json` };
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
    if (r.file) await this.finish(r, id);
  }

  /** After login: ask for the rest of every download kept from an earlier connection. */
  async resumeKept(): Promise<void> {
    for (const entry of await readdir(this.dir).catch(() => [] as string[])) {
      if (!/^\.[0-9a-f]{64}-\d+\.json$/.test(entry)) continue;
      const base = join(this.dir, entry.slice(0, -'.json'.length));
      const kept = await readFile(`${base}.json`, 'utf8').then((t) => SidecarSchema.safeParse(JSON.parse(t)), () => null);
      if (!kept?.success) continue;
      // the part's length on disk is the offset: what a killed process wrote is all there is
      const offset = await stat(`${base}.part`).then((info) => Math.min(info.size, kept.data.size), () => 0);
      this.send('file_resume', JSON.stringify({ sha256: kept.data.sha256, size: kept.data.size, offset }));
    }
  }

  /** The server cannot resume that download (`file_error` with id 0): the part goes. */
  async resumeRefused(text: string): Promise<void> {
    const refusal = parseFileError(text);
    if (!refusal?.sha256) return;
    for (const entry of await readdir(this.dir).catch(() => [] as string[])) {
      if (!entry.startsWith(`.${refusal.sha256}-`) || !entry.endsWith('.json')) continue;
      const base = join(this.dir, entry.slice(0, -'.json'.length));
      const name = await readFile(`${base}.json`, 'utf8').then((t) => SidecarSchema.safeParse(JSON.parse(t)).data?.name, () => undefined);
      await rm(`${base}.part`, { force: true });
      await rm(`${base}.json`, { force: true });
      this.events.emit('file-failed', { name: name ?? refusal.sha256, reason: `cannot resume: ${refusal.reason}` });
    }
  }

  /**
   * Move into place; in our mode (`id` given) only when the size and SHA-256 match the offer, and the
   * server is told (`file_received`) before the file is announced, so that it can drop its copy.
   */
  private async finish(r: Receiving, id: number | null): Promise<void> {
    const verify = id !== null;
    const file = r.file!;
    const { size, sha256 } = await file.end();
    if (r.sidecar) await rm(r.sidecar, { force: true });
    if (verify && (size !== r.size || sha256 !== r.sha256)) {
      await rm(file.path, { force: true });
      this.events.emit('file-failed', { name: r.name, reason: 'SHA-256 or size differs from the offer; discarded' });
      return;
    }
    let path = join(this.dir, r.name);
    const ext = extname(r.name);
    for (let n = 1; (await exists(path)) && n < 1000; n++) path = join(this.dir, `${r.name.slice(0, r.name.length - ext.length)} (${n})${ext}`);
    await rename(file.path, path);
    if (id !== null) this.send('file_received', JSON.stringify({ id }));
    this.events.emit('file-saved', { name: r.name, path, size, verified: verify });
  }

  /** The connection ended: a seed transfer is discarded; ours are kept (part and description) for a resume. */
  abort(): void {
    this.raw?.file?.abort();
    this.raw = null;
    for (const r of this.chunked.values()) {
      if (r.sidecar) void r.file?.pause();
      else r.file?.abort();
    }
    this.chunked.clear();
  }
}
