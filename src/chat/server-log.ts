/**
 * The chat server's log: every server event becomes one pino record (JSON lines with `--log FILE`).
 * Problems a client causes (failed logins, refused files, protocol errors, slow readers) are warnings;
 * the rest is info; failed logins and protocol errors are rate-limited and summarised per address. Chat texts are not logged, only their length: the log is for operating the
 * server, not for reading people's messages. No event carries a password, so none can reach the log.
 */
import type { EventEmitter } from 'node:events';
import type { Clock } from '../common/lifecycle.js';
import type { Logger } from '../common/log.js';
import { WarningDigest } from '../common/warnings.js';
import type { ChatServerEvents } from './server-types.js';

type Fields = Record<string, unknown>;
type Line = { level: 'info' | 'warn'; msg: string; fields?: Fields };

/** Events any client can cause as often as it likes: logged through a digest (below). */
type Digested = 'login-failed' | 'protocol-error';

/** How each other event is logged (fields default to the event's own). */
const lines: { [K in Exclude<keyof ChatServerEvents, Digested>]: (e: ChatServerEvents[K][0]) => Line } = {
  listening: (e) => ({ level: 'info', msg: `listening on ${e.host}:${e.port}${e.tls ? ' (TLS)' : ''}` }),
  connected: () => ({ level: 'info', msg: 'connection opened' }),
  registered: (e) => ({ level: 'info', msg: `user ${e.name} registered` }),
  joined: (e) => ({ level: 'info', msg: `${e.name} logged in` }),
  left: () => ({ level: 'info', msg: 'connection closed' }),
  message: (e) => ({ level: 'info', msg: e.to === null ? 'group message' : 'private message', fields: { from: e.from, to: e.to, bytes: Buffer.byteLength(e.text) } }),
  announcement: (e) => ({ level: 'info', msg: 'operator announcement', fields: { bytes: Buffer.byteLength(e.text) } }),
  file: () => ({ level: 'info', msg: 'file transferred' }),
  'file-refused': () => ({ level: 'warn', msg: 'file refused' }),
  'quiz-started': () => ({ level: 'info', msg: 'quiz started' }),
  'quiz-answer': () => ({ level: 'info', msg: 'quiz answer' }),
  'quiz-ended': () => ({ level: 'info', msg: 'quiz ended' }),
  kicked: (e) => ({ level: 'info', msg: `${e.name} kicked by the operator` }),
  'slow-client': () => ({ level: 'warn', msg: 'client disconnected: not reading' }),
  'partials-removed': () => ({ level: 'info', msg: 'expired resume data removed' }),
  shutdown: () => ({ level: 'info', msg: 'server closed' }),
};

/** An event's `name` is a user's (or a file's); pino's own `name` field is the logger's. */
function renamed(event: string, fields: Fields): Fields {
  const { name, ...rest } = fields;
  if (name === undefined) return rest;
  return { ...rest, [event === 'file' || event === 'file-refused' ? 'file' : 'user']: name };
}

/**
 * Failed logins and bad frames, which any client can cause as often as it likes (from many
 * connections): warnings rate-limited and summarised per address (common/warnings.ts), by these nouns.
 */
const DIGESTED: Record<Digested, string> = { 'login-failed': 'failed login', 'protocol-error': 'protocol error' };

/**
 * Log every event `server` emits to `logger`, with the event name as `event`. Returns the function
 * that logs what the digests still count and stops their timers (call it when the server closes).
 */
export function logServerEvents(server: EventEmitter<ChatServerEvents>, logger: Logger, clock: Clock): () => void {
  const events = server as unknown as NodeJS.EventEmitter;
  const digests = (Object.keys(DIGESTED) as Digested[]).map((name) => {
    const digest = new WarningDigest((text, fields) => logger.warn({ event: name, ...fields }, text), clock);
    events.on(name, (e: Fields) => {
      const { address, reason, ...rest } = renamed(name, e);
      digest.note(DIGESTED[name], String(address), String(reason), rest);
    });
    return digest;
  });
  for (const name of Object.keys(lines) as Array<keyof typeof lines>) {
    const describe = lines[name] as (e: Fields) => Line;
    events.on(name, (e: Fields) => {
      const line = describe(e);
      logger[line.level]({ event: name, ...renamed(name, line.fields ?? e) }, line.msg);
    });
  }
  return () => {
    for (const digest of digests) digest.close();
  };
}
