/**
 * Logging: pino everywhere, but logs are not output (docs/cli.md). By default stderr shows only
 * warnings and errors, each as one plain line (`wirelab: warning: ...`); with `verbose`, info logs
 * too (pretty on a terminal, plain lines otherwise); with `file`, every log goes to that file as JSON
 * lines. stdout is kept for the command's own output (human lines or NDJSON events).
 */
import { statSync, write, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { Bindings, Level, Logger, DestinationStream, StreamEntry } from 'pino';
import type * as PinoExports from 'pino';
import type { PrettyOptions, PrettyStream } from 'pino-pretty';
import { WirelabError } from './errors.js';
import { colourWanted, escapeControl } from './format.js';

export type { Logger } from 'pino';

export interface LogOptions {
  /** least level shown on stderr: 'warn' by default, 'info' for -v, 'error' for -q */
  level?: Level;
  /** also write JSON lines to this file (its directory must exist) */
  file?: string;
  /** pretty-print to stderr (default: when stderr is a terminal and level is below warn) */
  pretty?: boolean;
  /** name shown on each line */
  name?: string;
  /** where plain lines go (default: stderr); for tests */
  stderr?: { write(text: string): unknown };
}

const LEVEL_VALUES: Record<Level, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };

/** Fields pino adds itself, left out of a plain line. */
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname']);

/**
 * One pino JSON record as one plain line: `wirelab: warning: msg (key=value ...)`; errors have no
 * level word (`wirelab: msg`), as a command's own error line. Fields whose value the message already
 * shows are left out. Control characters are escaped.
 */
export function plainLogLine(record: Record<string, unknown>): string {
  const level = typeof record.level === 'number' ? record.level : 30;
  const word = level >= 50 ? '' : `${LEVEL_NAMES[level] ?? 'log'}: `;
  const msg = typeof record.msg === 'string' ? record.msg : '';
  // fields the message already says are left out, so that the line stays one short line
  const fields = Object.entries(record)
    .filter(([key]) => !OWN_FIELDS.has(key))
    .map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)] as const)
    .filter(([key, value]) => typeof record[key] !== 'string' || !msg.includes(value))
    .map(([key, value]) => `${key}=${value}`);
  const text = fields.length > 0 ? `${msg} (${fields.join(' ')})` : msg;
  return `wirelab: ${word}${escapeControl(text)}\n`;
}

/** Bytes of log lines held while stderr is not being read, before newer lines are dropped and counted. */
const MAX_HELD_LOG_BYTES = 1024 * 1024;

/**
 * stderr for log lines, never blocking the event loop. `process.stderr` on a pipe is a synchronous
 * write on Linux: a reader that stops reading (a full 64 KiB pipe) would stop the whole process,
 * deliveries included. Here one write at a time goes through libuv's thread pool (`fs.write`), lines
 * wait in a queue of at most MAX_HELD_LOG_BYTES, and past that they are dropped and counted; the count
 * is written once the reader is back. At exit, what is queued is written synchronously unless a write
 * is still stuck (the reader is gone: exiting matters more than those lines).
 */
export class StderrLineWriter {
  /** lines dropped because stderr was not being read */
  dropped = 0;
  private queue: string[] = [];
  private queuedBytes = 0;
  private writing = false;
  private droppedSinceReport = 0;

  constructor(
    private readonly fd = 2,
    private readonly maxHeldBytes = MAX_HELD_LOG_BYTES,
  ) {
    process.once('exit', () => this.flushAtExit());
  }

  /** a write is waiting for the reader */
  get busy(): boolean {
    return this.writing;
  }

  write(text: string): void {
    if (this.queuedBytes + text.length > this.maxHeldBytes) {
      this.dropped++;
      this.droppedSinceReport++;
      return;
    }
    this.queue.push(text);
    this.queuedBytes += text.length;
    if (!this.writing) this.next();
  }

  private next(): void {
    if (this.droppedSinceReport > 0 && this.queuedBytes < this.maxHeldBytes / 2) {
      this.queue.push(`wirelab: warning: ${this.droppedSinceReport} log lines dropped: stderr was not being read\n`);
      this.droppedSinceReport = 0;
    }
    if (this.queue.length === 0) return;
    const text = this.queue.join('');
    this.queue = [];
    this.queuedBytes = 0;
    this.writing = true;
    write(this.fd, text, (err) => {
      this.writing = false;
      // EPIPE, EBADF: the reader is gone; later lines are dropped quietly as they come
      if (err) this.queue = [];
      else this.next();
    });
  }

  private flushAtExit(): void {
    if (this.writing || this.queue.length === 0) return;
    try {
      writeSync(this.fd, this.queue.join(''));
    } catch {
      // the reader is gone
    }
    this.queue = [];
  }
}

let sharedStderr: StderrLineWriter | undefined;

/**
 * At the end of a command: a log write stuck in a stderr pipe nobody reads would keep the process
 * alive (a pending fs.write holds the event loop). Leave after `graceMs` if it still is; an unref'd
 * timer, so a process with nothing stuck exits as soon as it is done.
 */
export function exitIfStderrStuck(graceMs = 1000): void {
  setTimeout(() => {
    if (sharedStderr?.busy === true) process.exit();
  }, graceMs).unref();
}

/** A pino destination that turns each JSON record into one plain line. */
function plainStream(out: { write(text: string): unknown }): DestinationStream {
  return {
    write(chunk: string): void {
      for (const line of chunk.split('\n')) {
        if (line === '') continue;
        try {
          out.write(plainLogLine(JSON.parse(line) as Record<string, unknown>));
        } catch {
          out.write(`wirelab: ${escapeControl(line)}\n`);
        }
      }
    },
  };
}

/**
 * Check a log file path before anything starts: its directory must exist (no silent mkdir) and the
 * path must not be a directory. Throws an E_USAGE WirelabError naming the problem.
 */
export function checkLogPath(file: string): string {
  const dir = dirname(resolve(file));
  const dirStat = statSync(dir, { throwIfNoEntry: false });
  if (dirStat === undefined) throw new WirelabError('E_USAGE', `--log ${file}: directory ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw new WirelabError('E_USAGE', `--log ${file}: ${dir} is not a directory`);
  const fileStat = statSync(file, { throwIfNoEntry: false });
  if (fileStat?.isDirectory()) throw new WirelabError('E_USAGE', `--log ${file}: is a directory`);
  return file;
}

export function createLogger(options: LogOptions = {}): Logger {
  const level = options.level ?? 'warn';
  if (options.file) checkLogPath(options.file);
  const fileLevel: Level = LEVEL_VALUES[level] < LEVEL_VALUES.info ? level : 'info';
  const least = options.file && LEVEL_VALUES[fileLevel] < LEVEL_VALUES[level] ? fileLevel : level;
  const make = (): Logger => buildLogger(options, level, fileLevel, least);
  // a log file is opened at once, so that a bad path fails before the command starts
  return options.file ? make() : lazyLogger(least, make);
}

function buildLogger(options: LogOptions, level: Level, fileLevel: Level, least: Level): Logger {
  const { pino, destination, multistream } = loadPino();
  const quiet = LEVEL_VALUES[level] >= LEVEL_VALUES.warn;
  const usePretty = options.pretty ?? (!quiet && options.stderr === undefined && process.stderr.isTTY === true);
  const stderr: DestinationStream = usePretty
    ? loadPretty()({ destination: 2, colorize: colourWanted(process.stderr), sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' })
    : plainStream(options.stderr ?? (sharedStderr ??= new StderrLineWriter()));
  const streams: StreamEntry[] = [{ stream: stderr, level }];
  if (options.file) {
    try {
      streams.push({ stream: destination({ dest: options.file, mkdir: false, sync: true }), level: fileLevel });
    } catch (err) {
      throw new WirelabError('E_USAGE', `--log ${options.file}: ${(err as Error).message}`, { cause: err });
    }
  }
  return pino({ level: least, name: options.name, base: undefined }, multistream(streams));
}

const LOG_METHODS = new Set<string | symbol>(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const noop = (): void => undefined;

/**
 * A logger that loads and builds pino only when something is logged at an enabled level (or the
 * logger is used in any other way): a command that logs nothing, such as reading a capture file,
 * does not pay pino's start-up (about 20 ms of a run). Calls below `least` are dropped unbuilt, and
 * `child()` stays lazy too.
 */
function lazyLogger(least: Level | 'silent', make: () => Logger): Logger {
  let real: Logger | undefined;
  const bound = new Map<string | symbol, unknown>();
  const build = (): Logger => (real ??= make());
  const enabled = (name: string): boolean => least !== 'silent' && LEVEL_VALUES[name as Level] >= LEVEL_VALUES[least];
  const get = (_target: object, prop: string | symbol): unknown => {
    if (real === undefined) {
      if (LOG_METHODS.has(prop) && !enabled(prop as string)) return noop;
      if (prop === 'level') return least;
      if (prop === 'isLevelEnabled') return enabled;
      if (prop === 'child') return (bindings: Bindings): Logger => lazyLogger(least, () => build().child(bindings));
      build();
    }
    if (!bound.has(prop)) {
      const value = (real as unknown as Record<string | symbol, unknown>)[prop];
      bound.set(prop, typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real) : value);
    }
    return bound.get(prop);
  };
  return new Proxy({}, { get }) as Logger;
}

type PinoModule = typeof PinoExports;

/** pino, loaded (synchronously: it is CommonJS) the first time a logger is really built. */
function loadPino(): PinoModule {
  return createRequire(import.meta.url)('pino') as PinoModule;
}

/** pino-pretty, loaded only when a log is pretty-printed: it costs a command's start-up about 40 ms. */
function loadPretty(): (options: PrettyOptions) => PrettyStream {
  return createRequire(import.meta.url)('pino-pretty') as (options: PrettyOptions) => PrettyStream;
}

/** A logger that writes nothing: the default for library components built without one (pino never loaded for it). */
export const silentLogger: Logger = lazyLogger('silent', () => loadPino().pino({ level: 'silent' }));
