/**
 * What every command shares: output (human lines or NDJSON on stdout), the logger from --log/--json,
 * one-line errors, and a clean stop on Ctrl-C.
 */
import { Option, type Command } from 'commander';
import { createLogger, type Logger } from '../common/log.js';
import { WirelabError, isWirelabError } from '../common/errors.js';
import { parsePort } from '../common/net.js';

export interface OutputOptions {
  json?: boolean;
  log?: string;
  quiet?: boolean;
}

/** Lines held while stdout is not being read (write() said wait) before newer ones are dropped and counted. */
const MAX_HELD_CHARS = 8 * 1024 * 1024;

/**
 * Writes the command's own output: NDJSON events with --json, readable lines otherwise. Lines are
 * gathered and written once per turn of the event loop: one write() per burst instead of one per
 * line (stdout to a pipe or file is a synchronous syscall per write on Linux). When stdout asks to
 * wait (write() returns false), lines are held until 'drain', up to MAX_HELD_CHARS; beyond that new
 * lines are dropped and counted, so a stalled reader cannot make the process grow without bound. When
 * the reader goes away (EPIPE, as with `| head`), output stops quietly.
 */
export class Output {
  readonly json: boolean;
  /** lines dropped because stdout was not read fast enough, or had gone away */
  dropped = 0;
  private pending: string[] = [];
  private pendingChars = 0;
  private scheduled = false;
  private waiting = false;
  private closed = false;

  constructor(
    options: OutputOptions,
    private readonly stream: NodeJS.WritableStream = process.stdout,
  ) {
    this.json = options.json === true;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      this.close();
    });
    stream.once('close', () => this.close());
  }

  /** The reader went away: drop what is held and everything after. */
  private close(): void {
    this.closed = true;
    this.pending = [];
    this.pendingChars = 0;
  }

  /** One event: a JSON object with an `event` field under --json, else the human line (if any). */
  event(event: string, fields: Record<string, unknown>, human?: string): void {
    if (this.json) this.write(JSON.stringify({ event, ...fields }));
    else if (human !== undefined) this.write(human);
  }

  /** A line only a human wants to see (suppressed under --json). */
  line(text: string): void {
    if (!this.json) this.write(text);
  }

  private write(line: string): void {
    if (this.closed || this.pendingChars + line.length > MAX_HELD_CHARS) {
      if (this.dropped++ === 0 && !this.closed) process.stderr.write('wirelab: stdout is not being read; dropping output lines\n');
      return;
    }
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    if (this.scheduled || this.waiting) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Write what is gathered now (unless stdout asked to wait: then on its 'drain'). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.waiting || this.closed) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    this.pendingChars = 0;
    if (this.stream.write(text)) return;
    this.waiting = true;
    this.stream.once('drain', () => {
      this.waiting = false;
      this.flush();
    });
  }
}

/** The logger for a command: pretty on a TTY, quiet when stdout carries NDJSON unless --log asks. */
export function commandLogger(options: OutputOptions, name: string): Logger {
  return createLogger({ name, file: options.log, level: options.quiet ? 'warn' : 'info' });
}

export function addOutputOptions(command: Command): Command {
  return command
    .option('--json', 'print NDJSON events on stdout, one object per line')
    .option('--log <file>', 'also write logs to FILE as JSON lines')
    .option('-q, --quiet', 'log warnings and errors only');
}

export const portOption = (flags: string, description: string, fallback: number): Option =>
  new Option(flags, description).default(fallback).argParser((value) => parsePort(value));

export function positiveInt(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
      throw new WirelabError('E_USAGE', `${what} must be a whole number above 0, got '${value}'`);
    }
    return n;
  };
}

export function nonNegativeInt(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
      throw new WirelabError('E_USAGE', `${what} must be a whole number, got '${value}'`);
    }
    return n;
  };
}

/**
 * Resolve when the user asks to stop (SIGINT, SIGTERM) or after `durationMs`, whichever is first.
 * A second Ctrl-C exits at once.
 */
export function untilStopped(durationMs?: number): Promise<string> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (why: string): void => {
      if (timer) clearTimeout(timer);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      resolve(why);
    };
    const onSignal = (signal: NodeJS.Signals): void => finish(signal);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (durationMs !== undefined) timer = setTimeout(() => finish('duration'), durationMs);
  });
}

/** Print an error as one line (no stack for a user's mistake) and pick the exit code. */
export function reportError(err: unknown): number {
  if (isWirelabError(err)) {
    process.stderr.write(`wirelab: ${err.message}\n`);
    return err.code === 'E_USAGE' ? 2 : 1;
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`wirelab: internal error: ${message}\n`);
  return 70;
}

/** A command group whose system is not built yet: it says so in one line and exits non-zero. */
export function notBuiltGroup(program: Command, name: string, summary: string): void {
  program
    .command(name)
    .description(`${summary} (not built yet)`)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new WirelabError('E_NOT_IMPLEMENTED', `'wirelab ${name}' is not built yet`);
    });
}
