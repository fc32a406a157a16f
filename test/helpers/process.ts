/**
 * Run the real `wirelab` command as a child process (optionally inside a lab host's namespace), read
 * its NDJSON events from stdout, and await the ones a test needs. Every wait has a deadline, so a
 * broken feature fails the test instead of hanging it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../src/lab/hosts.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const wirelabBin = fileURLToPath(new URL('../../bin/wirelab.js', import.meta.url));

export type WirelabEvent = Record<string, unknown> & { event: string };

interface Waiter {
  predicate: (e: WirelabEvent) => boolean;
  resolve: (e: WirelabEvent) => void;
}

export interface StartOptions {
  /** run inside this lab host's namespace */
  lab?: Lab;
  host?: string;
  env?: NodeJS.ProcessEnv;
}

export class WirelabProcess {
  readonly events: WirelabEvent[] = [];
  readonly stdoutLines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<Waiter>();

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static start(args: string[], options: StartOptions = {}): WirelabProcess {
    const env = { ...process.env, NO_COLOR: '1', ...options.env };
    const argv = [wirelabBin, ...args];
    const child =
      options.lab && options.host
        ? options.lab.spawn(options.host, process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new WirelabProcess(child);
  }

  private onLine(line: string): void {
    this.stdoutLines.push(line);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || typeof (parsed as WirelabEvent).event !== 'string') return;
    const event = parsed as WirelabEvent;
    this.events.push(event);
    for (const waiter of this.waiters) {
      if (waiter.predicate(event)) {
        this.waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  }

  /** The first event (already seen or to come) matching `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (e: WirelabEvent) => boolean, timeoutMs = 10_000, what = 'event'): Promise<WirelabEvent> {
    const seen = this.events.find(predicate);
    if (seen) return Promise.resolve(seen);
    return this.waitNew(predicate, timeoutMs, what);
  }

  private waitNew(predicate: (e: WirelabEvent) => boolean, timeoutMs: number, describe: string | (() => string)): Promise<WirelabEvent> {
    const what = (): string => (typeof describe === 'string' ? describe : describe());
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
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}; stderr: ${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
      void this.exited.then(({ code }) => {
        if (!this.waiters.has(waiter)) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`process exited (${code}) before ${what()}; stderr: ${this.stderr.slice(-2000)}`));
      });
    });
  }

  /** Wait until `count` events in all match `predicate`. */
  async waitForCount(predicate: (e: WirelabEvent) => boolean, count: number, timeoutMs = 10_000): Promise<void> {
    let seen = this.events.filter(predicate).length;
    if (seen >= count) return;
    await this.waitNew((e) => predicate(e) && ++seen >= count, timeoutMs, () => `${count} matching events (saw ${seen})`);
  }

  /** Send a signal (default SIGTERM) and wait for the exit; SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
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

/** Run `wirelab ARGS` to completion and return its exit code and output. */
export async function runWirelab(
  args: string[],
  options: StartOptions & { timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; events: WirelabEvent[] }> {
  const proc = WirelabProcess.start(args, options);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const { code } = await proc.exited;
  clearTimeout(timer);
  await new Promise((r) => setImmediate(r));
  return { code, stdout: proc.stdoutLines.join('\n'), stderr: proc.stderr, events: proc.events };
}
