/**
 * A node's replay windows on disk (`--state DIR`), so that a restarted trusting node still refuses
 * messages it accepted before the restart. Saved after every change, one write at a time (changes
 * during a write are saved by the next), atomically (a temporary file renamed over the old one), and
 * once more at close.
 */
import { lstat, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WirelabError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { SessionWindows, WindowSnapshot } from './replay.js';

export const STATE_FILE = 'broadcast-replay.json';
/** Largest state file read back, bytes (1024 sessions of 1024-bit windows take about 230 KB). */
const MAX_STATE_BYTES = 4 * 1024 * 1024;

interface StateFile {
  version: 1;
  /** ms since the epoch */
  savedAt: number;
  windows: Record<string, WindowSnapshot>;
}

/** The directory must exist and be a directory (docs/cli.md: paths are checked at once). */
export async function checkStateDir(dir: string): Promise<void> {
  const info = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    throw new WirelabError('E_USAGE', `--state ${dir}: ${err.code === 'ENOENT' ? 'no such directory' : err.code ?? String(err)}`);
  });
  if (!info.isDirectory()) throw new WirelabError('E_USAGE', `--state ${dir}: not a directory`);
}

export class WindowStore {
  private readonly path: string;
  private writing: Promise<void> | undefined;
  private savedVersion = -1;

  constructor(
    dir: string,
    private readonly windows: SessionWindows,
    private readonly logger: Logger,
  ) {
    this.path = join(dir, STATE_FILE);
  }

  /** Load the saved windows, if any; returns how many sessions were restored. */
  async load(): Promise<number> {
    let text: string;
    try {
      const info = await lstat(this.path);
      if (!info.isFile()) throw new WirelabError('E_USAGE', `${this.path} is not a regular file`);
      if (info.size > MAX_STATE_BYTES) throw new WirelabError('E_USAGE', `${this.path} is over ${MAX_STATE_BYTES} bytes: not a state file`);
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err instanceof WirelabError ? err : new WirelabError('E_FILE', `cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    let parsed: StateFile;
    try {
      parsed = JSON.parse(text) as StateFile;
    } catch (err) {
      throw new WirelabError('E_FILE', `${this.path} is not a state file (${(err as Error).message}); move it away to start afresh`, { cause: err });
    }
    if (parsed?.version !== 1 || typeof parsed.windows !== 'object' || parsed.windows === null) {
      throw new WirelabError('E_FILE', `${this.path} is not a version 1 state file; move it away to start afresh`);
    }
    const loaded = this.windows.restore(parsed.windows);
    this.savedVersion = this.windows.version;
    return loaded;
  }

  /** The windows changed: save them (now, or after the write in progress). */
  changed(): void {
    if (this.writing || this.windows.version === this.savedVersion) return;
    this.writing = this.write().finally(() => {
      this.writing = undefined;
      if (this.windows.version !== this.savedVersion) this.changed();
    });
  }

  private async write(): Promise<void> {
    const version = this.windows.version;
    const state: StateFile = { version: 1, savedAt: Date.now(), windows: this.windows.snapshot() };
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
      await rename(tmp, this.path);
      this.savedVersion = version;
    } catch (err) {
      this.savedVersion = version; // do not retry in a loop; the next change tries again
      this.logger.warn({ err }, `could not save the replay windows to ${this.path}`);
    }
  }

  /** Wait for the write in progress and save what changed since. */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.windows.version !== this.savedVersion) await this.write();
  }
}
