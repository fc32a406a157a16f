/**
 * The Python test doubles of the original WhisperNet seed and peer (test/fixtures/whispernet/) as child
 * processes whose JSON lines become events, and a config file for them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

const fixtures = fileURLToPath(new URL('../../fixtures/whispernet/', import.meta.url));

/** Why the tests that need Python skip, or false when python3 runs (scripts/setup.sh installs it). */
export const noPython: string | false = spawnSync('python3', ['--version']).status === 0 ? false : 'python3 not found (scripts/setup.sh installs it)';

export type PyEvent = Record<string, unknown> & { event: string };

export class PythonProcess {
  readonly events: PyEvent[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<{ match: (e: PyEvent) => boolean; resolve: (e: PyEvent) => void }>();

  private constructor(readonly child: ChildProcess, readonly label: string) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let event: PyEvent;
      try {
        event = JSON.parse(line) as PyEvent;
      } catch {
        return;
      }
      this.events.push(event);
      for (const w of this.waiters) {
        if (w.match(event)) {
          this.waiters.delete(w);
          w.resolve(event);
        }
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Start a fixture (`seed.py` or `peer.py`); it is killed when the test ends. */
  static start(t: TestContext, script: 'seed.py' | 'peer.py', args: string[]): PythonProcess {
    const child = spawn('python3', ['-u', fixtures + script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new PythonProcess(child, `${script} ${args.join(' ')}`);
    t.after(() => proc.kill());
    return proc;
  }

  /** The first event (seen or to come) matching; rejects after `timeoutMs` or when the process exits. */
  waitFor(match: (e: PyEvent) => boolean, timeoutMs: number, what: string): Promise<PyEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (e: PyEvent): void => (clearTimeout(timer), resolve(e)) };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.label}: no ${what} in ${timeoutMs} ms; stderr: ${this.stderr.slice(-500)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
      void this.exited.then(() => {
        if (!this.waiters.delete(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`${this.label} exited before ${what}; stderr: ${this.stderr.slice(-500)}`));
      });
    });
  }

  /** SIGKILL (idempotent); resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Options of a quick Python peer: short intervals, texts that name their origin. */
export function quickPeerArgs(config: string, extra: string[] = []): string[] {
  return ['--config', config, '--interval', '0.3', '--count', '2', '--liveness', '0.5', '--register-pause', '0.1', '--text', 'message {n} from py{port}', '--duration', '40', ...extra];
}
