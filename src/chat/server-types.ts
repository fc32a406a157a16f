/** The chat server's options, injected dependencies and events (server.ts). */
import type { Clock } from '../common/lifecycle.js';
import type { Logger } from '../common/log.js';
import type { HashCost } from './accounts.js';
import type { FileEvent } from './transfers.js';

export interface ChatServerOptions {
  host?: string;
  /** 0: any free port */
  port?: number;
  /** where accounts, files and quiz scores live */
  dataDir: string;
  /** PEM certificate and key: TLS instead of plain TCP */
  tls?: { cert: Buffer; key: Buffer };
  /** ms */
  loginTimeoutMs?: number;
  /** ms given to answer a quiz */
  quizMs?: number;
  maxFileBytes?: number;
  maxQueuedBytes?: number;
  maxConnections?: number;
  /** argon2id cost (default OWASP's); benchmarks of other things may lower it */
  hashCost?: HashCost;
  /** parts of uploads and unconfirmed downloads kept for a resume expire after this long (ms) */
  partialTtlMs?: number;
  /** and the oldest go while they hold more than this (bytes) */
  maxPartialBytes?: number;
}

export interface ChatServerDeps {
  /** every event is logged here too (the CLI's `--log FILE`) */
  logger?: Logger;
  /** time and timers (the expiry of kept parts) */
  clock?: Clock;
}

/** Everything that happens, for --json and for tests. */
export interface ChatServerEvents {
  listening: [{ host: string; port: number; tls: boolean }];
  connected: [{ id: number; address: string }];
  registered: [{ name: string; address: string }];
  joined: [{ name: string; address: string; extended: boolean }];
  'login-failed': [{ name: string; address: string; reason: string }];
  left: [{ id: number; name: string | null; address: string; reason: string }];
  message: [{ from: string; to: string | null; text: string }];
  announcement: [{ text: string }];
  file: [FileEvent];
  'file-refused': [{ from: string | null; name: string; reason: string }];
  'protocol-error': [{ id: number; address: string; name: string | null; reason: string }];
  'quiz-started': [{ questions: number; participants: string[] }];
  'quiz-answer': [{ name: string; score: number; total: number }];
  'quiz-ended': [{ scores: Array<{ user: string; score: number }>; total: number }];
  kicked: [{ name: string }];
  'slow-client': [{ id: number; name: string | null }];
  /** a sweep of the resume data removed something (files, bytes) */
  'partials-removed': [{ files: number; bytes: number }];
  shutdown: [Record<string, unknown>];
}
