/**
 * The compose lab seen from outside, as a user sees it: `wirelab chat client` in a container of its
 * own on the lab's network, scripted through its stdin like a person at the keyboard (each answer
 * typed only once its prompt is on the screen), and the dashboard's HTTP API and page, fetched from
 * inside the engine's network namespace, where the dashboard listens on 127.0.0.1:8050.
 */
import type { ChildProcess } from 'node:child_process';
import { DOCKER, type PrivateDockerd } from './private-dockerd.js';

/** where compose.yaml puts the chat server */
export const CHAT_SERVER = { host: '172.29.77.40', port: 10000 };
/** where compose.yaml's dashboard listens, in the engine's (the host's) network namespace */
export const DASHBOARD_URL = 'http://127.0.0.1:8050';

/** One interactive chat client in a container: what it printed, and the keys typed into it. */
export class ChatSession {
  private text = '';
  /** what `expect` has matched so far: a prompt is matched once, not again on the next question */
  private consumed = 0;
  private readonly waiters = new Set<() => void>();
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(
    private readonly engine: PrivateDockerd,
    readonly name: string,
    image: string,
    network: string,
  ) {
    // the same confinement as compose.yaml's services; --downloads on the tmpfs (the root is read-only)
    const args = ['run', '-i', '--rm', '--init', '--name', name, '--network', network, '--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL'];
    args.push('--security-opt', 'no-new-privileges:true', image, 'chat', 'client', '--host', CHAT_SERVER.host, '--port', String(CHAT_SERVER.port), '--downloads', '/tmp/downloads');
    this.child = engine.spawn(DOCKER, args, { stdin: true });
    this.child.stdin!.on('error', () => undefined);
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onOutput(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => this.onOutput(chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  private onOutput(chunk: string): void {
    this.text += chunk;
    for (const waiter of this.waiters) waiter();
  }

  /** Everything the client printed so far. */
  get output(): string {
    return this.text;
  }

  /** Wait until the output past the last match contains `pattern`; the match is then consumed. */
  expect(pattern: string | RegExp, timeoutMs: number): Promise<void> {
    const find = (): number => {
      const rest = this.text.slice(this.consumed);
      if (typeof pattern === 'string') {
        const at = rest.indexOf(pattern);
        return at < 0 ? -1 : this.consumed + at + pattern.length;
      }
      const match = pattern.exec(rest);
      return match ? this.consumed + match.index + match[0].length : -1;
    };
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const end = find();
        if (end < 0) return;
        this.consumed = end;
        done();
        resolve();
      };
      const fail = (why: string) => (): void => {
        done();
        reject(new Error(`chat client ${this.name}: ${why} waiting for ${String(pattern)}; it printed:\n${this.text}`));
      };
      const timer = setTimeout(fail(`nothing within ${timeoutMs} ms`), timeoutMs);
      const onExit = fail('exited');
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        this.child.off('exit', onExit);
      };
      this.waiters.add(check);
      this.child.once('exit', onExit);
      check();
    });
  }

  /** Type one line. */
  type(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** The seed's dialogue: registered or not, name, password; resolves once the client says it is in. */
  async logIn(account: { name: string; password: string; register: boolean }, timeoutMs: number): Promise<void> {
    await this.expect('Are you already registered? (yes/no): ', timeoutMs);
    this.type(account.register ? 'no' : 'yes');
    await this.expect(account.register ? 'Enter a username: ' : 'Enter your username: ', timeoutMs);
    this.type(account.name);
    await this.expect(account.register ? 'Enter a password: ' : 'Enter your password: ', timeoutMs);
    this.type(account.password);
    await this.expect('/help for commands', timeoutMs);
  }

  /** `/quit`, then the container's exit code. */
  async quit(): Promise<number | null> {
    this.type('/quit');
    this.child.stdin!.end();
    return this.exited;
  }

  /** For teardown: the container removed whatever state it is in, the client command stopped. */
  async remove(): Promise<void> {
    await this.engine.docker(['rm', '-f', this.name]).catch(() => undefined);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

export interface HttpAnswer {
  status: number;
  type: string;
  body: string;
}

/** GET a path of the dashboard from inside the engine's namespace (node's fetch there; no curl needed). */
export async function dashboardGet(engine: PrivateDockerd, path: string): Promise<HttpAnswer> {
  const script = `fetch(process.argv[1]).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() })))`;
  const { stdout } = await engine.inNamespace(process.execPath, ['-e', script, `${DASHBOARD_URL}${path}`]);
  return JSON.parse(stdout) as HttpAnswer;
}

export interface ProtocolCount {
  protocol: string;
  packets: number;
}

/** The dashboard's unfiltered counters (`/api/snapshot`, docs/dashboard.md), or undefined while it is not answering. */
export async function dashboardStats(engine: PrivateDockerd): Promise<{ packets: number; protocols: ProtocolCount[] } | undefined> {
  try {
    const answer = await dashboardGet(engine, '/api/snapshot?limit=0');
    if (answer.status !== 200) return undefined;
    return (JSON.parse(answer.body) as { stats: { packets: number; protocols: ProtocolCount[] } }).stats;
  } catch {
    return undefined; // not listening yet
  }
}
