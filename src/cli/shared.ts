/**
 * What every command shares (docs/cli.md): output (timestamped human lines or NDJSON on stdout), the
 * logger from -v/--log/-q, one-line errors, examples in --help, option parsers, and a clean stop on
 * SIGINT, SIGTERM or SIGHUP with the exit code that says so.
 */
import { constants as osConstants } from 'node:os';
import { Option, type Command } from 'commander';
import { checkLogPath, createLogger, type Logger } from '../common/log.js';
import { WirelabError, isWirelabError } from '../common/errors.js';
import { colourWanted, colours, epochSeconds, formatClock, type Colours, type TimePrecision } from '../common/format.js';
import { parsePort } from '../common/net.js';
import { formatDuration, parseDuration } from './duration.js';

export interface OutputOptions {
  json?: boolean;
  log?: string;
  quiet?: boolean;
  verbose?: boolean;
  utc?: boolean;
}

/** Lines held while stdout is not being read (write() said wait) before newer ones are dropped and counted. */
const MAX_HELD_CHARS = 8 * 1024 * 1024;

/** Options of one event line. */
export interface EventLineOptions {
  /** digits of the human timestamp: 'ms' (default) or 'us' (packets, as tcpdump) */
  precision?: TimePrecision;
}

/**
 * An event's time in epoch seconds: the number given, null for "unknown", a decimal string (such as
 * a capture's `1367525833.491822000`) as its number, anything else (undefined) as now.
 */
function eventTime(given: unknown): number | null {
  if (typeof given === 'number' && Number.isFinite(given)) return given;
  if (given === null) return null;
  if (typeof given === 'string' && /^\d+(\.\d+)?$/.test(given)) return Number(given);
  return epochSeconds();
}

/**
 * Writes the command's own output: NDJSON events with --json, timestamped human lines otherwise.
 * Every event carries a time: `fields.time` when the caller gives one (seconds since the epoch, or
 * null for "unknown"), else now. Lines are gathered and written once per turn of the event loop: one
 * write() per burst instead of one per line. When stdout asks to wait (write() returns false), lines
 * are held until 'drain', up to MAX_HELD_CHARS; beyond that new lines are dropped and counted, so a
 * stalled reader cannot make the process grow without bound. When the reader goes away (EPIPE, as
 * with `| head`, or EIO from a terminal that hung up), output stops quietly.
 */
export class Output {
  readonly json: boolean;
  readonly utc: boolean;
  /** colour functions: real ones on a terminal without NO_COLOR, identity otherwise */
  readonly colour: Colours;
  /** lines dropped because stdout was not read fast enough, or had gone away */
  dropped = 0;
  private pending: string[] = [];
  private pendingChars = 0;
  private scheduled = false;
  private waiting = false;
  private closed = false;

  constructor(
    options: OutputOptions,
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
  ) {
    this.json = options.json === true;
    this.utc = options.utc === true;
    this.colour = colours(!this.json && colourWanted(stream));
    // EPIPE: the reader went away (`| head`); EIO: the terminal hung up (then SIGHUP stops us cleanly)
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'EIO') throw err;
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

  /** `HH:MM:SS.mmm` of a time in epoch seconds, local or UTC as the command was asked. */
  clock(time: number, precision: TimePrecision = 'ms'): string {
    return formatClock(time, { utc: this.utc, precision });
  }

  /**
   * One event: a JSON object `{event, time, ...fields}` under --json, else the human text (if any)
   * after the event's time. A human text of several lines keeps them aligned under the first.
   */
  event(event: string, fields: Record<string, unknown>, human?: string, options: EventLineOptions = {}): void {
    const time = eventTime(fields.time);
    if (this.json) {
      this.write(JSON.stringify({ event, ...fields, time }));
      return;
    }
    if (human === undefined) return;
    if (time === null) {
      this.write(human);
      return;
    }
    const stamp = this.clock(time, options.precision);
    this.write(`${this.colour.dim(stamp)} ${human.replaceAll('\n', `\n${' '.repeat(stamp.length + 1)}`)}`);
  }

  /** A line only a human wants to see, without a time (suppressed under --json). */
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

/**
 * The logger for a command: on stderr only warnings and errors as plain lines by default, info logs
 * with -v, errors only with -q; every log as JSON lines in --log FILE. `warningsAreEvents`: the
 * component's warnings (a rejected datagram...) are printed as events on stdout already, so stderr
 * shows them only with -v, lest each be printed twice.
 */
export function commandLogger(options: OutputOptions, name: string, warningsAreEvents = false): Logger {
  const level = options.verbose ? 'info' : options.quiet || warningsAreEvents ? 'error' : 'warn';
  return createLogger({ name, file: options.log, level });
}

/** The output flags every command that prints takes: --json, --utc, --log, -v, -q. */
export function addOutputOptions(command: Command): Command {
  return command
    .option('--json', 'print NDJSON events on stdout, one object per line, each with event and time (epoch seconds)')
    .option('--utc', 'print times in UTC instead of local time')
    .addOption(new Option('--log <file>', 'write all logs to FILE as JSON lines (its directory must exist)').argParser((value) => checkLogPath(value)))
    .option('-v, --verbose', 'show info logs on stderr')
    .option('-q, --quiet', 'hide warnings on stderr (errors only)');
}

/**
 * An `Examples:` section at the end of the command's --help (docs/cli.md: every command has one).
 * Each example is `[command line, what it does]`; the command line starts after `wirelab `. Printed
 * as the command line, then what it does on the next line, indented.
 */
export function addExamples(command: Command, examples: [commandLine: string, what: string][]): Command {
  // a line that names wirelab itself (in a pipeline, after sudo) is printed as it is
  const text = examples.map(([line, what]) => `  ${/\bwirelab\b/.test(line) ? line : `wirelab ${line}`}\n      ${what}`).join('\n');
  return command.addHelpText('after', `\nExamples:\n${text}`);
}

/** A duration flag (`500ms`, `10s`, `2m`, `1h`), its default shown in the same syntax. */
export function durationOption(flags: string, description: string, fallbackMs?: number): Option {
  const name = /--[\w-]+/.exec(flags)?.[0] ?? flags;
  const option = new Option(flags, description).argParser((value) => parseDuration(value, name));
  return fallbackMs === undefined ? option : option.default(fallbackMs, formatDuration(fallbackMs));
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

/** The signals that ask a command to stop cleanly. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

const stopState: { signal: StopSignal | undefined; armed: boolean; waiters: Set<(why: StopSignal) => void> } = {
  signal: undefined,
  armed: false,
  waiters: new Set(),
};

/** 128 + the signal's number: the exit code of a command stopped by that signal. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + osConstants.signals[signal];
}

/** The signal that stopped this command, if one did. */
export function stoppedBySignal(): StopSignal | undefined {
  return stopState.signal;
}

function onStopSignal(signal: NodeJS.Signals): void {
  if (stopState.signal !== undefined) {
    // a second signal during the clean stop: leave at once
    process.exit(signalExitCode(signal));
  }
  stopState.signal = signal as StopSignal;
  for (const waiter of stopState.waiters) waiter(signal as StopSignal);
  stopState.waiters.clear();
}

/**
 * From now on SIGINT, SIGTERM and SIGHUP ask for a clean stop instead of killing the process: a
 * command with a long start-up (the demo) calls it first, so that a signal during start-up is
 * honoured by the same clean shutdown once start-up is over. untilStopped() arms it too.
 */
export function armStop(): void {
  if (stopState.armed) return;
  stopState.armed = true;
  for (const signal of STOP_SIGNALS) process.on(signal, onStopSignal);
}

/**
 * Resolve when the user asks to stop (SIGINT, SIGTERM, SIGHUP: the signal's name) or after
 * `durationMs` ('duration'), whichever is first. A second signal exits at once with 128+N. The
 * command then shuts down cleanly and main() exits with 128+N for a signal, 0 for the duration.
 */
export function untilStopped(durationMs?: number): Promise<string> {
  armStop();
  if (stopState.signal !== undefined) return Promise.resolve(stopState.signal);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const waiter = (why: StopSignal): void => {
      if (timer) clearTimeout(timer);
      resolve(why);
    };
    stopState.waiters.add(waiter);
    if (durationMs !== undefined) {
      timer = setTimeout(() => {
        stopState.waiters.delete(waiter);
        resolve('duration');
      }, durationMs);
    }
  });
}

/** Print an error as one line (no stack for a user's mistake) and pick the exit code. */
export function reportError(err: unknown): number {
  if (isWirelabError(err)) {
    process.stderr.write(`wirelab: ${err.message}\n`);
    return err.code === 'E_USAGE' ? 2 : 1;
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`wirelab: internal error (a bug: please report it): ${message}\n`);
  return 70;
}

/** A command group whose system is not built yet: it says so in one line and exits non-zero. */
export function notBuiltGroup(program: Command, name: string, summary: string): void {
  const command = program
    .command(name)
    .description(`${summary} (not built yet)`)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new WirelabError('E_NOT_IMPLEMENTED', `'wirelab ${name}' is not built yet`);
    });
  addExamples(command, [[name, 'says that it is not built yet and exits with 1']]);
}
