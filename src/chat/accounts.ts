/**
 * Accounts in SQLite (better-sqlite3, WAL, synchronous=FULL so that a registration acknowledged to a
 * client survives kill -9 and power loss), passwords only as argon2id hashes (OWASP parameters).
 * Failed logins are throttled per account and per address.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hash, verify } from '@node-rs/argon2';
import {
  ARGON2_MEMORY_KIB,
  ARGON2_PARALLELISM,
  ARGON2_TIME_COST,
  FAILED_LOGIN_ENTRIES,
  FAILED_LOGIN_WINDOW_MS,
  MAX_FAILED_LOGINS,
} from './constants.js';

/** argon2id cost; the defaults are OWASP's. Lower only for benchmarks that are not about hashing. */
export interface HashCost {
  /** KiB */
  memoryCost: number;
  timeCost: number;
}

const OWASP: HashCost = { memoryCost: ARGON2_MEMORY_KIB, timeCost: ARGON2_TIME_COST };
const hashOptions = (cost: HashCost) => ({
  algorithm: 2, // Algorithm.Argon2id (a const enum, which verbatimModuleSyntax cannot import)
  memoryCost: cost.memoryCost,
  timeCost: cost.timeCost,
  parallelism: ARGON2_PARALLELISM,
});


export type LoginResult = 'ok' | 'invalid' | 'throttled';

export class AccountStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string, number]>;
  private readonly select: Database.Statement<[string], { hash: string }>;
  private readonly failures = new Map<string, { count: number; since: number }>();
  private closed = false;
  /** verified against when the account does not exist, so that both cases take the same time */
  private dummyHash: Promise<string> | undefined;

  /** Open (or create) `DIR/accounts.db`. */
  private readonly hashOptions: ReturnType<typeof hashOptions>;

  constructor(
    dir: string,
    private readonly now: () => number = Date.now,
    cost: HashCost = OWASP,
  ) {
    this.hashOptions = hashOptions(cost);
    mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, 'accounts.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, hash TEXT NOT NULL, created INTEGER NOT NULL)');
    this.insert = this.db.prepare('INSERT OR IGNORE INTO users (name, hash, created) VALUES (?, ?, ?)');
    this.select = this.db.prepare('SELECT hash FROM users WHERE name = ?');
  }

  exists(name: string): boolean {
    return this.select.get(name) !== undefined;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  /** Register a new account; false when the name was taken meanwhile. */
  async register(name: string, password: string): Promise<boolean> {
    const digest = await hash(password, this.hashOptions);
    if (this.closed) return false;
    return this.insert.run(name, digest, Math.floor(this.now() / 1000)).changes === 1;
  }

  /** Check a password; throttled after too many failures for this name or this address. */
  async login(name: string, password: string, address: string): Promise<LoginResult> {
    if (this.isThrottled(`u:${name}`) || this.isThrottled(`a:${address}`)) return 'throttled';
    const row = this.select.get(name);
    this.dummyHash ??= hash('wirelab-dummy-password', this.hashOptions);
    const stored = row?.hash ?? (await this.dummyHash);
    let ok = false;
    try {
      ok = await verify(stored, password);
    } catch {
      ok = false;
    }
    if (ok && row) return 'ok';
    this.fail(`u:${name}`);
    this.fail(`a:${address}`);
    return 'invalid';
  }

  private isThrottled(key: string): boolean {
    const entry = this.failures.get(key);
    if (!entry) return false;
    if (this.now() - entry.since > FAILED_LOGIN_WINDOW_MS) {
      this.failures.delete(key);
      return false;
    }
    return entry.count >= MAX_FAILED_LOGINS;
  }

  private fail(key: string): void {
    const entry = this.failures.get(key);
    if (entry && this.now() - entry.since <= FAILED_LOGIN_WINDOW_MS) {
      entry.count++;
      return;
    }
    this.failures.delete(key);
    if (this.failures.size >= FAILED_LOGIN_ENTRIES) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(key, { count: 1, since: this.now() });
  }

  /** Close the database (checkpoints the WAL). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
