/**
 * Run `wirelab` subcommands as child processes, on this host or inside a lab host's namespace, and
 * read their NDJSON events: how the demo composes a network of real processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab } from './hosts.js';

const wirelabBin = fileURLToPath(new URL('../../bin/wirelab.js', import.meta.url));

export type ChildEvent = Record<string, unknown> & { event: string };

export interface WirelabChildEvents {
  event: [ChildEvent];
  exit: [{ code: number | null; signal: NodeJS.Signals | null; stderrTail: string }];
}

/** One `wirelab ...` child: its stdout NDJSON lines become `event`s. */
export class WirelabChild extends EventEmitter<WirelabChildEvents> {
  private readonly child: ChildProcess;
  private stderrTail = '';
  private exited = false;
  private readonly exitPromise: Promise<void>;

  constructor(
    readonly label: string,
    args: string[],
    where?: { lab: Lab; host: string },
  ) {
    super();
    const argv = [wirelabBin, ...args];
    const options = { stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[], env: { ...process.env, NO_COLOR: '1' } };
    this.child = where ? where.lab.spawn(where.host, process.execPath, argv, options) : spawn(process.execPath, argv, options);
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    this.exitPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        this.emit('exit', { code, signal, stderrTail: this.stderrTail });
        resolve();
      });
    });
  }

  private onLine(line: string): void {
    if (!line.startsWith('{')) return;
    try {
      const parsed = JSON.parse(line) as ChildEvent;
      if (typeof parsed.event === 'string') this.emit('event', parsed);
    } catch {
      // not an event line
    }
  }

  /** Resolve with the first event matching `predicate`, or reject when the child exits or after `timeoutMs`. */
  waitFor(predicate: (e: ChildEvent) => boolean, timeoutMs: number): Promise<ChildEvent> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('exit', onExit);
      };
      const onEvent = (e: ChildEvent): void => {
        if (!predicate(e)) return;
        cleanup();
        resolve(e);
      };
      const onExit = (x: { code: number | null; stderrTail: string }): void => {
        cleanup();
        reject(new Error(`${this.label} exited (${x.code}): ${x.stderrTail.trim().split('\n').at(-1) ?? ''}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.label} did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('event', onEvent);
      this.on('exit', onExit);
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. Idempotent. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }
}
