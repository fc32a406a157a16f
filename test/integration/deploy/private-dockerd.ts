/**
 * A Docker engine of the test's own, kept off the machine's network: dockerd runs inside a network
 * namespace the test creates (entered with `nsenter --net`, so that it still sees the machine's
 * cgroups), with its own data root, exec root and socket, and with every option that would touch a
 * firewall or forwarding turned off (--iptables=false --ip6tables=false --ip-forward=false
 * --ip-masq=false --bridge=none). Its bridges, veths, iptables and ip_forward are therefore those of
 * the namespace, which is deleted at the end. Stopped by its PID; waits for it to exit.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Debian's client, of the engine's own version (another `docker` may come first in PATH). */
export const DOCKER = '/usr/bin/docker';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Mount points at or under any of these directories, in mount order. */
export function mountsUnder(roots: string[]): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => roots.some((root) => point === root || point.startsWith(`${root}/`)));
}

export class PrivateDockerd {
  readonly id = randomBytes(3).toString('hex');
  readonly netns = `wl-${this.id}-docker`;
  /** short: unix socket paths must stay under 108 bytes */
  readonly execRoot = `/run/wl-${this.id}`;
  readonly dataRoot: string;
  readonly socket = `${this.execRoot}/docker.sock`;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  /** the last lines dockerd logged, for failure messages */
  readonly log: string[] = [];

  constructor(scratch: string) {
    this.dataRoot = `${scratch}/docker-${this.id}`;
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: `unix://${this.socket}`, COMPOSE_INTERACTIVE_NO_CLI: '1' };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Create the namespace, start dockerd in it, and resolve once its API listens (deadline timeoutMs). */
  async start(timeoutMs = 60_000): Promise<void> {
    await execFileAsync('ip', ['netns', 'add', this.netns]);
    await execFileAsync('ip', ['-n', this.netns, 'link', 'set', 'lo', 'up']);
    mkdirSync(this.execRoot, { recursive: true });
    mkdirSync(this.dataRoot, { recursive: true });
    // nsenter execs dockerd: the child's PID is dockerd's own
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${this.netns}`,
        'dockerd',
        `--data-root=${this.dataRoot}`,
        `--exec-root=${this.execRoot}`,
        `--pidfile=${this.execRoot}/dockerd.pid`,
        `--host=unix://${this.socket}`,
        '--iptables=false',
        '--ip6tables=false',
        '--ip-forward=false',
        '--ip-masq=false',
        '--bridge=none',
        '--userland-proxy=true',
        '--log-level=info',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child = child;
    // if the test process ends without stop() (a crash), dockerd still gets SIGTERM and stops its containers
    const onExit = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    process.once('exit', onExit);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        process.removeListener('exit', onExit);
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dockerd did not listen within ${timeoutMs} ms:\n${this.log.join('\n')}`)), timeoutMs);
      createInterface({ input: child.stderr }).on('line', (line) => {
        this.log.push(line);
        if (this.log.length > 50) this.log.shift();
        if (line.includes('API listen on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`dockerd exited with ${code}:\n${this.log.join('\n')}`));
      });
    });
  }

  /** Run the engine's client against this engine. */
  docker(args: string[], timeoutMs = 300_000): Promise<RunResult> {
    return execFileAsync(DOCKER, args, { env: this.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  }

  /** Run docker-compose 1.29 against this engine. */
  compose(args: string[], timeoutMs = 300_000): Promise<RunResult> {
    return execFileAsync('docker-compose', args, { env: this.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  }

  /** Start a long-running client command (docker events, compose logs -f, docker run -i) against this engine. */
  spawn(program: string, args: string[], options: { stdin?: boolean } = {}): ChildProcess {
    return spawn(program, args, { env: this.env, stdio: [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  }

  /** Run a program inside the engine's network namespace (where published ports and the lab's bridge are). */
  inNamespace(program: string, args: string[], timeoutMs = 30_000): Promise<RunResult> {
    return execFileAsync('nsenter', [`--net=/run/netns/${this.netns}`, program, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  }

  /** Stop dockerd by its PID (SIGTERM, then SIGKILL after graceMs), delete its namespace and roots. Idempotent. */
  async stop(graceMs = 30_000): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await execFileAsync('ip', ['netns', 'del', this.netns]).catch(() => undefined);
    // a dockerd killed hard may leave container mounts behind: unmount them before removing anything
    for (const mount of mountsUnder([this.dataRoot, this.execRoot]).reverse()) {
      await execFileAsync('umount', ['-l', mount]).catch(() => undefined);
    }
    rmSync(this.execRoot, { recursive: true, force: true });
    rmSync(this.dataRoot, { recursive: true, force: true });
  }
}
