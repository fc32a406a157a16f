/**
 * Run the real `wirelab` command as a child process, on this host or inside a lab host's namespace,
 * and read its NDJSON events from stdout: how the demo composes a network of real processes, and how
 * the tests drive the real CLI. Every wait has a deadline, so a broken feature fails instead of hanging.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab } from './hosts.js';

export const wirelabBin = fileURLToPath(new URL('../../bin/wirelab.js', import.meta.url));

/** characters of stderr kept when the output is not kept whole */
const STDERR_TAIL_CHARS = 4000;

/** One NDJSON line of a wirelab command: an object with an `event` field. */
export type WirelabEvent = Record<string, unknown> & { event: string };

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WirelabProcessEvents {
  event: [WirelabEvent];
  exit: [ProcessExit & { stderrTail: string }];
}

export interface StartOptions {
  /** run inside this lab host's namespace */
  lab?: Lab;
  host?: string;
  env?: NodeJS.ProcessEnv;
  /** a name for error messages (default: the arguments) */
  label?: string;
  /**
   * keep every event, stdout line and all of stderr for later inspection (default true, as tests
   * want); a long-running owner such as the demo sets false and listens to 'event' instead
   */
  keep?: boolean;
  /** start it in its own process group, out of reach of the terminal's signals (default false) */
  detached?: boolean;
  /** keep stdin open as a pipe, for write() (default: closed) */
  stdin?: boolean;
  /** what node runs before `args` (default: the wirelab command); see src/lab/scripts.ts */
  entry?: string[];
}

interface Waiter {
  predicate: (e: WirelabEvent) => boolean;
  resolve: (e: WirelabEvent) => void;
}

/** One `wirelab ...` child process: its stdout NDJSON lines become `event`s. */
export class WirelabProcess extends EventEmitter<WirelabProcessEvents> {
  /** every event so far (empty unless `keep`) */
  readonly events: WirelabEvent[] = [];
  /** every stdout line so far (empty unless `keep`) */
  readonly stdoutLines: string[] = [];
  /** stderr: all of it with `keep`, else its last few thousand characters */
  stderr = '';
  readonly exited: Promise<ProcessExit>;
  readonly label: string;
  private readonly keep: boolean;
  private readonly waiters = new Set<Waiter>();

  private constructor(
    readonly child: ChildProcess,
    options: StartOptions,
    args: string[],
  ) {
    super();
    this.label = options.label ?? `wirelab ${args.join(' ')}`;
    this.keep = options.keep ?? true;
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderr = this.keep ? this.stderr + chunk : (this.stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.emit('exit', { code, signal, stderrTail: this.stderr.slice(-STDERR_TAIL_CHARS) });
        resolve({ code, signal });
      }),
    );
  }

  /** Start `wirelab ARGS` (stdin closed, stdout and stderr piped, colours off). */
  static start(args: string[], options: StartOptions = {}): WirelabProcess {
    const env = { ...process.env, NO_COLOR: '1', ...options.env };
    const argv = [...(options.entry ?? [wirelabBin]), ...args];
    const stdio: ('ignore' | 'pipe')[] = [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'];
    const spawnOptions = { env, stdio, detached: options.detached === true };
    const child =
      options.lab && options.host !== undefined
        ? options.lab.spawn(options.host, process.execPath, argv, spawnOptions)
        : spawn(process.execPath, argv, spawnOptions);
    return new WirelabProcess(child, options, args);
  }

  private onLine(line: string): void {
    if (this.keep) this.stdoutLines.push(line);
    if (!line.startsWith('{')) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return; // not an event line
    }
    if (typeof parsed !== 'object' || parsed === null || typeof (parsed as WirelabEvent).event !== 'string') return;
    const event = parsed as WirelabEvent;
    if (this.keep) this.events.push(event);
    this.emit('event', event);
    for (const waiter of this.waiters) {
      if (waiter.predicate(event)) {
        this.waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  }

  /** The first event (already seen, with `keep`, or to come) matching `predicate`; rejects after `timeoutMs` or at exit. */
  waitFor(predicate: (e: WirelabEvent) => boolean, timeoutMs = 10_000, what = 'event'): Promise<WirelabEvent> {
    const seen = this.events.find(predicate);
    if (seen) return Promise.resolve(seen);
    return this.waitNew(predicate, timeoutMs, what);
  }

  /** Wait until `count` events in all match `predicate`. */
  async waitForCount(predicate: (e: WirelabEvent) => boolean, count: number, timeoutMs = 10_000): Promise<void> {
    let seen = this.events.filter(predicate).length;
    if (seen >= count) return;
    await this.waitNew((e) => predicate(e) && ++seen >= count, timeoutMs, () => `${count} matching events (saw ${seen})`);
  }

  private waitNew(predicate: (e: WirelabEvent) => boolean, timeoutMs: number, describe: string | (() => string)): Promise<WirelabEvent> {
    const what = (): string => (typeof describe === 'string' ? describe : describe());
    const lastError = (): string => this.stderr.trim().split('\n').slice(-20).join('\n');
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what()}; stderr: ${lastError()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
      void this.exited.then(({ code }) => {
        if (!this.waiters.has(waiter)) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${this.label}: exited (${code}) before ${what()}; stderr: ${lastError()}`));
      });
    });
  }

  /** Write one line to the child's stdin (started with `stdin: true`); false when it is gone. */
  writeLine(line: string): boolean {
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) return false;
    stdin.on('error', () => undefined);
    stdin.write(`${line}\n`);
    return true;
  }

  /** Send a signal (default SIGTERM) and wait for the exit; SIGKILL after `graceMs`. Idempotent. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<ProcessExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const result = await this.exited;
      clearTimeout(timer);
      return result;
    }
    return this.exited;
  }
}
