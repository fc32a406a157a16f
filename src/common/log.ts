/**
 * Logging: pino everywhere. Logs go to stderr (readable through pino-pretty on a TTY, JSON lines
 * otherwise) and, with `--log FILE`, to that file as JSON lines too. stdout is kept for the command's
 * own output (human lines or NDJSON events).
 */
import { pino, destination, multistream, type Level, type Logger, type DestinationStream, type StreamEntry } from 'pino';
import { createRequire } from 'node:module';
import type { PrettyOptions, PrettyStream } from 'pino-pretty';

export type { Logger } from 'pino';

export interface LogOptions {
  level?: Level;
  /** also write JSON lines to this file */
  file?: string;
  /** pretty-print to stderr (default: when stderr is a TTY) */
  pretty?: boolean;
  /** name shown on each line */
  name?: string;
}

export function createLogger(options: LogOptions = {}): Logger {
  const level = options.level ?? 'info';
  const usePretty = options.pretty ?? process.stderr.isTTY === true;
  const stderr: DestinationStream = usePretty
    ? loadPretty()({ destination: 2, colorize: process.stderr.isTTY === true, sync: true, ignore: 'pid,hostname' })
    : destination({ dest: 2, sync: true });
  const streams: StreamEntry[] = [{ stream: stderr, level }];
  if (options.file) {
    streams.push({ stream: destination({ dest: options.file, mkdir: true, sync: true }), level });
  }
  return pino({ level, name: options.name, base: undefined }, multistream(streams));
}

/** pino-pretty, loaded only when a log is pretty-printed: it costs a command's start-up about 40 ms. */
function loadPretty(): (options: PrettyOptions) => PrettyStream {
  return createRequire(import.meta.url)('pino-pretty') as (options: PrettyOptions) => PrettyStream;
}

/** A logger that writes nothing: the default for library components built without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
