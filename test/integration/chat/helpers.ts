/**
 * Chat test helpers: the real server as a child process (operator console on a stdin pipe, NDJSON
 * events on stdout), and a client that speaks the seed's protocol exactly as the original client.py
 * did (records with u16/u32 big-endian lengths, raw file bytes then `EOF` in its own send), with its
 * own minimal reader so that the server's codec is not tested against itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withDeadline } from '../../helpers/deadline.js';

export const fixtures = fileURLToPath(new URL('../../fixtures/chat/', import.meta.url));
const bin = fileURLToPath(new URL('../../../bin/wirelab.js', import.meta.url));

export type Event = Record<string, unknown> & { event: string };

/** A fresh temporary folder with the seed's quiz_dir and sample_dir in it; removed by `cleanup`. */
export function workDir(): { dir: string; data: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-chat-'));
  cpSync(join(fixtures, 'quiz_dir'), join(dir, 'quiz_dir'), { recursive: true });
  cpSync(join(fixtures, 'sample_dir'), join(dir, 'sample_dir'), { recursive: true });
  cpSync(join(fixtures, 'client_files'), join(dir, 'client_files'), { recursive: true });
  return { dir, data: join(dir, 'data'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * One record of the seed's framing, written by the test itself (not by src/chat, which it checks):
 * u16be header length, header, u32be payload length, payload.
 */
export function seedRecord(header: string, payload: string | Buffer): Buffer {
  const h = Buffer.from(header);
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const b = Buffer.alloc(6 + h.length + p.length);
  b.writeUInt16BE(h.length, 0);
  h.copy(b, 2);
  b.writeUInt32BE(p.length, 2 + h.length);
  p.copy(b, 6 + h.length);
  return b;
}

/** `wirelab chat server --json` as a child process. */
export class ServerProcess {
  readonly events: Event[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<{ match: (e: Event) => boolean; resolve: (e: Event) => void }> = [];

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const event = JSON.parse(line) as Event;
      this.events.push(event);
      for (const w of [...this.waiters]) {
        if (w.match(event)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(cwd: string, data: string, args: string[] = []): Promise<{ server: ServerProcess; port: number }> {
    const child = spawn(process.execPath, [bin, 'chat', 'server', '--port', '0', '--data', data, '--json', ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(child);
    const listening = await server.waitFor((e) => e.event === 'listening', 20_000, 'listening');
    return { server, port: listening.port as number };
  }

  /** The first event (seen or to come) matching. */
  waitFor(match: (e: Event) => boolean, ms = 10_000, what = 'event'): Promise<Event> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    const p = new Promise<Event>((resolve) => this.waiters.push({ match, resolve }));
    return withDeadline(p, ms, () => `server ${what}; stderr: ${this.stderr.slice(-2000)}`);
  }

  /** Count of events matching, waiting until there are `n`. */
  async waitForCount(match: (e: Event) => boolean, n: number, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.events.filter(match).length < n) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} events; stderr: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push({ match: () => true, resolve: () => resolve() });
        setTimeout(resolve, 200);
      });
    }
  }

  /** A line typed on the server's console. */
  type(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 8_000);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

export interface SeedRecord {
  header: string;
  payload: Buffer;
}

/** A client speaking the seed's protocol, byte for byte as client.py did. */
export class SeedClient {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<SeedClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new SeedClient(socket)));
      socket.once('error', reject);
    });
  }

  /** One record: u16be header length, header, u32be payload length, payload. */
  send(header: string, payload: string | Buffer): void {
    this.socket.write(seedRecord(header, payload));
  }

  /** Bytes as they are. */
  sendRaw(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** The seed's file send: 1024-byte writes, then `EOF` in a write of its own. */
  async sendFile(content: Buffer): Promise<void> {
    for (let at = 0; at < content.length; at += 1024) await this.sendRaw(content.subarray(at, at + 1024));
    await this.sendRaw(Buffer.from('EOF'));
  }

  private async take(n: number, ms: number, what: string): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (this.buffer.length < n) {
      if (this.ended) throw new Error(`connection closed while waiting for ${what} (have ${this.buffer.length} of ${n} bytes)`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (have ${this.buffer.length} of ${n} bytes: ${JSON.stringify(this.buffer.toString())})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = null;
          resolve();
        };
      });
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  async record(ms = 10_000): Promise<SeedRecord> {
    const hl = (await this.take(2, ms, 'header length')).readUInt16BE(0);
    const header = (await this.take(hl, ms, 'header')).toString();
    const pl = (await this.take(4, ms, 'payload length')).readUInt32BE(0);
    const payload = Buffer.from(await this.take(pl, ms, `payload of ${header}`));
    return { header, payload };
  }

  /** Exactly `n` raw bytes (a file and its `EOF`). */
  raw(n: number, ms = 10_000): Promise<Buffer> {
    return this.take(n, ms, 'raw file bytes').then((b) => Buffer.from(b));
  }

  /** Resolves once the server has closed the connection, with no bytes left unread. */
  async closed(ms = 10_000): Promise<void> {
    await withDeadline(
      new Promise<void>((resolve) => {
        const check = (): void => (this.ended ? resolve() : void (this.wake = check));
        check();
      }),
      ms,
      'server to close the connection',
    );
  }

  get unread(): Buffer {
    return this.buffer;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The records of the reference session (chat-seed-wire.md), in order. */
export interface ReferenceRecord {
  t: number;
  conn: string;
  from: string;
  to: string;
  kind: 'record' | 'raw' | 'garbage';
  header: string | null;
  payload_hex: string;
  text: string;
  bytes: number;
}

export function referenceSession(): ReferenceRecord[] {
  return (JSON.parse(readFileSync(join(fixtures, 'seed-session.json'), 'utf8')) as { records: ReferenceRecord[] }).records;
}

/** A test client script run as its own process (so that it can be killed with SIGKILL mid-transfer). */
export interface ScriptClient {
  /** the lines of its stdout so far */
  lines: string[];
  /** the first stdout line matching `re` (one already seen, or the next), within `ms` */
  line: (re: RegExp, ms?: number) => Promise<string>;
  kill: () => void;
  exited: Promise<number | null>;
}

/** Start `script` (a .ts test client) with `args` under tsx. */
export function runScriptClient(script: string, args: string[]): ScriptClient {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of [...waiters]) if (w.re.test(l)) w.resolve(l);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    lines,
    line: (re, ms = 30_000) => {
      const seen = lines.find((l) => re.test(l));
      return seen ? Promise.resolve(seen) : withDeadline(new Promise((resolve) => waiters.push({ re, resolve })), ms, () => `line ${re}; got ${JSON.stringify(lines)}; stderr ${stderr}`);
    },
    kill: () => child.kill('SIGKILL'),
    exited,
  };
}
