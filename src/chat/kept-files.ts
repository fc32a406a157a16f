/**
 * What the server keeps on disk so that a broken transfer can resume: parts of uploads
 * (`DATA/partial/KEY.part`) and deliveries to clients of our mode not yet confirmed
 * (`DATA/outgoing/KEY.json`, and `KEY.bin` for a relayed file; an operator's file stays where it is).
 * Both expire: `sweepKeptFiles` removes what is older than the TTL, then the oldest until the total
 * is under the cap, and never a file a transfer is using.
 */
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { FileStore } from './files.js';

/** A delivery recorded for a resume: who it is for and where its bytes are. */
export interface KeptDelivery {
  user: string;
  from: string;
  name: string;
  size: number;
  sha256: string;
  /** the bytes: `KEY.bin` for a relayed file, the operator's file otherwise */
  path: string;
}

const KeptDeliverySchema = z.object({
  user: z.string(),
  from: z.string(),
  name: z.string(),
  size: z.number().int().min(0),
  sha256: z.string(),
  path: z.string(),
});

/**
 * Record a delivery to `user`. A relayed file (`move` true) is moved into outgoing/ (it is kept until
 * the client confirms or it expires); an operator's file is only pointed at. Returns the path to send from.
 */
export async function keepDelivery(store: FileStore, delivery: KeptDelivery, move: boolean): Promise<string> {
  const base = store.outgoingPath(delivery.user, delivery.sha256, delivery.size);
  let path = resolve(delivery.path);
  if (move) {
    await rename(delivery.path, `${base}.bin`);
    path = `${base}.bin`;
  }
  await writeFile(`${base}.json`, JSON.stringify({ ...delivery, path }));
  return path;
}

/** The delivery recorded for (user, hash, size), or null when none is kept (or its bytes are gone or changed). */
export async function findDelivery(store: FileStore, user: string, sha256: string, size: number): Promise<KeptDelivery | null> {
  const base = store.outgoingPath(user, sha256, size);
  try {
    const kept = KeptDeliverySchema.parse(JSON.parse(await readFile(`${base}.json`, 'utf8')));
    if (kept.user !== user || kept.sha256 !== sha256 || kept.size !== size) return null;
    return (await stat(kept.path)).size === size ? kept : null;
  } catch {
    return null;
  }
}

/** The client has the file: forget the delivery (and its copy). */
export async function forgetDelivery(store: FileStore, user: string, sha256: string, size: number): Promise<void> {
  const base = store.outgoingPath(user, sha256, size);
  await rm(`${base}.json`, { force: true });
  await rm(`${base}.bin`, { force: true });
}

export interface SweepLimits {
  /** now, ms since the epoch */
  now: number;
  /** files untouched for longer than this go (ms) */
  ttlMs: number;
  /** then the oldest go until parts and copies together hold at most this many bytes */
  maxBytes: number;
  /** paths in use by a transfer: never removed */
  inUse: ReadonlySet<string>;
}

interface Entry {
  path: string;
  bytes: number;
  mtimeMs: number;
}

async function entries(dir: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (info?.isFile()) out.push({ path, bytes: info.size, mtimeMs: info.mtimeMs });
  }
  return out;
}

/** Remove one kept file; a `.bin` takes its `.json` along (and the other way round). */
async function remove(path: string): Promise<void> {
  await rm(path, { force: true });
  if (path.endsWith('.bin')) await rm(`${path.slice(0, -4)}.json`, { force: true });
  if (path.endsWith('.json')) await rm(`${path.slice(0, -5)}.bin`, { force: true });
}

/** Remove expired parts and deliveries, then the oldest over the cap. Returns what went (files and bytes). */
export async function sweepKeptFiles(store: FileStore, limits: SweepLimits): Promise<{ files: number; bytes: number }> {
  const all = [...(await entries(store.partialDir)), ...(await entries(store.outgoingDir))];
  // counted: parts and relayed copies (a delivery's small `.json` record goes with its copy, uncounted)
  const removed = { files: 0, bytes: 0 };
  const drop = async (e: Entry): Promise<void> => {
    await remove(e.path);
    if (e.path.endsWith('.json')) return;
    removed.files++;
    removed.bytes += e.bytes;
  };
  const live: Entry[] = [];
  for (const e of all) {
    if (!limits.inUse.has(e.path) && limits.now - e.mtimeMs > limits.ttlMs) await drop(e);
    else live.push(e);
  }
  // the cap counts the bytes kept (parts and relayed copies, not the small records)
  const held = live.filter((e) => !e.path.endsWith('.json')).sort((a, b) => a.mtimeMs - b.mtimeMs);
  let total = held.reduce((sum, e) => sum + e.bytes, 0);
  for (const e of held) {
    if (total <= limits.maxBytes) break;
    if (limits.inUse.has(e.path)) continue;
    await drop(e);
    total -= e.bytes;
  }
  return removed;
}
