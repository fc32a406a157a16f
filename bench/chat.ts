/**
 * Chat server benchmark. The server runs in a child process (this file with --serve) so that its
 * memory is its own; clients are plain sockets in this process speaking the seed's protocol.
 *  1. idle logged-in clients: server RSS per client (goal 10,000 clients);
 *  2. group fan-out: 1,000 and 2,000 clients, 10 messages/s in all, p99 latency from send to every
 *     receipt, none lost or reordered; beside a bare Node loop in the server process writing the same
 *     bytes to the same sockets at the same rate (same run);
 *  3. file transfer MB/s (our framed mode, to disk, SHA-256 checked) beside a bare TCP socket pair
 *     writing to disk the same way, with the CPU time of each end (user + system, all threads);
 *     server RSS sampled during the transfer;
 *  4. logins per second with argon2id at OWASP cost, beside argon2id verifications alone.
 * Logins in parts 1-2 use a cheap argon2 cost (they measure holding and fan-out, not hashing).
 * Run: node --import tsx bench/chat.ts [--only idle,fanout,file,logins] [--clients 10000] [--fanout 1000,2000] [--seconds 10]
 *      [--file-mib 512] [--logins 64]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hash, verify } from '@node-rs/argon2';
import { ChatClient, ChatServer, FrameDecoder, encodeRecord, type HashCost } from '../src/chat/index.js';
import { percentile } from '../src/common/percentile.js';

const self = fileURLToPath(import.meta.url);
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const CHEAP: HashCost = { memoryCost: 64, timeCost: 1 };
const OWASP: HashCost = { memoryCost: 19_456, timeCost: 2 };
const rssMib = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
/** CPU seconds (user + system) a process has used: fields 14 and 15 of /proc/PID/stat, in clock ticks (100/s on Linux). */
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
/** CPU seconds this process has used. */
const ownCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

// ---- the server child ------------------------------------------------------------------------

async function serve(): Promise<void> {
  const data = await mkdtemp(join(tmpdir(), 'wirelab-chat-bench-'));
  const server = new ChatServer({ port: 0, dataDir: data, hashCost: arg('hash', 'cheap') === 'owasp' ? OWASP : CHEAP, loginTimeoutMs: 600_000 });
  const port = await server.start();
  // the reference: a bare TCP server that writes what it gets to a file
  const bare = createServer({ allowHalfOpen: true }, (s) => {
    const file = createWriteStream(join(data, `bare-${Date.now()}.bin`));
    file.on('finish', () => s.end('k'));
    s.on('error', () => undefined);
    s.pipe(file);
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
  const barePort = (bare.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ port, barePort })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line) as { cmd: string; rate?: number; count?: number };
    if (cmd.cmd === 'quit') break;
    if (cmd.cmd === 'bare') await bareLoop(server, cmd.rate!, cmd.count!);
    process.stdout.write(`${JSON.stringify({ done: cmd.cmd })}\n`);
  }
  await server.close();
  bare.close();
  await rm(data, { recursive: true, force: true });
  process.exit(0);
}

/** The reference fan-out: the same record bytes written straight to every logged-in socket. */
async function bareLoop(server: ChatServer, rate: number, count: number): Promise<void> {
  const sockets = server.onlineNames().map((n) => server.user(n)!.socket);
  for (let seq = 0; seq < count; seq++) {
    const bytes = encodeRecord('msg', `Client bare: ${Date.now()} ${seq}\n`);
    for (const s of sockets) s.write(bytes);
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
}

// ---- clients -----------------------------------------------------------------------------------

/** A light seed-protocol client. */
class Light {
  readonly decoder = new FrameDecoder({ maxPayloadBytes: 1 << 20 });
  onRecord: (header: string, text: string) => void = () => undefined;
  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) if (f.kind === 'record') this.onRecord(f.header, f.payload.toString());
    });
    socket.on('error', () => undefined);
  }

  static async login(port: number, name: string): Promise<Light> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const c = new Light(socket);
    await new Promise<void>((resolve, reject) => {
      c.onRecord = (_h, text) => {
        if (text === 'Server: You joined the server.\n') resolve();
        else if (text.startsWith('Username already')) reject(new Error(`name ${name} taken`));
      };
      socket.write(Buffer.concat([encodeRecord('info', 'no'), encodeRecord('info', name), encodeRecord('info', 'pw')]));
    });
    c.onRecord = () => undefined;
    return c;
  }
}

async function loginMany(port: number, prefix: string, n: number): Promise<Light[]> {
  const out: Light[] = [];
  for (let at = 0; at < n; at += 200) {
    const batch = Array.from({ length: Math.min(200, n - at) }, (_, i) => Light.login(port, `${prefix}${at + i}`));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

interface Child {
  proc: ChildProcess;
  port: number;
  barePort: number;
  send: (cmd: object) => Promise<void>;
}

async function startServer(hashCost: 'cheap' | 'owasp'): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', self, '--serve', '--hash', hashCost], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const first = JSON.parse((await lines.next()).value as string) as { port: number; barePort: number };
  const send = async (cmd: object): Promise<void> => {
    proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    if ((cmd as { cmd: string }).cmd !== 'quit') await lines.next();
  };
  return { proc, ...first, send };
}

async function stopServer(child: Child): Promise<void> {
  await child.send({ cmd: 'quit' });
  await new Promise((r) => child.proc.once('exit', r));
}

// ---- 1. idle clients -------------------------------------------------------------------------

async function idleClients(n: number): Promise<void> {
  const child = await startServer('cheap');
  const before = rssMib(child.proc.pid!);
  const started = Date.now();
  const clients = await loginMany(child.port, 'idle', n);
  const seconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const after = rssMib(child.proc.pid!);
  console.log(`| idle logged-in clients held | ${n.toLocaleString('en-US')} (logged in in ${seconds.toFixed(1)} s) | | |`);
  console.log(`| server RSS before / after | ${before.toFixed(0)} / ${after.toFixed(0)} MiB | | |`);
  console.log(`| server memory per client | ${(((after - before) * 1024) / n).toFixed(1)} KiB | | |`);
  clients.forEach((c) => c.socket.destroy());
  await stopServer(child);
}

// ---- 2. fan-out --------------------------------------------------------------------------------

interface FanoutResult {
  p50: number;
  p99: number;
  max: number;
  expected: number;
  received: number;
  reordered: number;
}

/** Receivers record latency per message from the timestamp in the text; order per sender is checked. */
function listen(clients: Light[], pattern: RegExp, result: { latencies: number[]; received: number; reordered: number }): void {
  for (const c of clients) {
    const last = new Map<string, number>();
    c.onRecord = (header, text) => {
      const m = pattern.exec(text);
      if (header !== 'msg' || !m) return;
      result.latencies.push(Date.now() - Number(m[2]));
      result.received++;
      const seq = Number(m[3]);
      if ((last.get(m[1]!) ?? -1) >= seq) result.reordered++;
      last.set(m[1]!, seq);
    };
  }
}

function summarise(r: { latencies: number[]; received: number; reordered: number }, expected: number): FanoutResult {
  const sorted = r.latencies.sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5) ?? NaN, p99: percentile(sorted, 0.99) ?? NaN, max: sorted[sorted.length - 1] ?? NaN, expected, received: r.received, reordered: r.reordered };
}

async function fanout(n: number, seconds: number): Promise<void> {
  const child = await startServer('cheap');
  const clients = await loginMany(child.port, 'fan', n);
  await new Promise((r) => setTimeout(r, 1000));
  const rate = 10;
  const count = rate * seconds;
  // wirelab: clients take turns sending, 10 messages/s in all
  const ours = { latencies: [] as number[], received: 0, reordered: 0 };
  listen(clients, /^Client (fan\d+): (\d+) (\d+)\n$/, ours);
  for (let seq = 0; seq < count; seq++) {
    const sender = clients[seq % n]!;
    sender.socket.write(encodeRecord('msg', `${Date.now()} ${seq}`));
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  await new Promise((r) => setTimeout(r, 2000));
  const oursResult = summarise(ours, count * (n - 1));
  // reference: the server process writes the same bytes straight to the same sockets
  const bare = { latencies: [] as number[], received: 0, reordered: 0 };
  listen(clients, /^Client (bare): (\d+) (\d+)\n$/, bare);
  await child.send({ cmd: 'bare', rate, count });
  await new Promise((r) => setTimeout(r, 2000));
  const bareResult = summarise(bare, count * n);
  const row = (label: string, r: FanoutResult): string =>
    `| ${label} | ${r.p50.toFixed(1)} / ${r.p99.toFixed(1)} / ${r.max.toFixed(0)} ms | ${r.received.toLocaleString('en-US')} of ${r.expected.toLocaleString('en-US')} | ${r.reordered} |`;
  console.log(row(`${n.toLocaleString('en-US')} clients, wirelab server`, oursResult));
  console.log(row(`${n.toLocaleString('en-US')} clients, bare write loop`, bareResult));
  console.log(`| p99 ratio wirelab / bare | ${(oursResult.p99 / bareResult.p99).toFixed(2)} | | |`);
  clients.forEach((c) => c.socket.destroy());
  await stopServer(child);
}

// ---- 3. file transfer ----------------------------------------------------------------------

async function fileTransfer(mib: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-chat-file-'));
  const path = join(dir, 'big.bin');
  writeFileSync(path, randomBytes(mib * 1024 * 1024));
  const child = await startServer('cheap');
  const pid = child.proc.pid!;
  // reference: a bare TCP pair, the receiver writing to disk
  let started = Date.now();
  let cpu = [cpuSeconds(pid), ownCpuSeconds()];
  await new Promise<void>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: child.barePort }, () => createReadStream(path, { highWaterMark: 1 << 20 }).pipe(s));
    s.once('error', reject);
    s.once('data', () => resolve()); // the receiver has written the whole file
  });
  const bareSeconds = (Date.now() - started) / 1000;
  const bareCpu = [cpuSeconds(pid) - cpu[0]!, ownCpuSeconds() - cpu[1]!];
  const client = new ChatClient({ port: child.port, downloadsDir: dir });
  await client.connect();
  await client.login({ register: true, name: 'uploader', password: 'pw' }, () => Promise.reject(new Error('taken')));
  const base = rssMib(pid);
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMib(pid))), 100);
  started = Date.now();
  cpu = [cpuSeconds(pid), ownCpuSeconds()];
  await client.sendFile(path, null);
  const oursSeconds = (Date.now() - started) / 1000;
  const oursCpu = [cpuSeconds(pid) - cpu[0]!, ownCpuSeconds() - cpu[1]!];
  clearInterval(sampler);
  await client.quit();
  const mbs = (s: number): number => (mib * 1.048576) / s;
  const cpuText = (c: number[]): string => `${c[0]!.toFixed(2)} s receiver, ${c[1]!.toFixed(2)} s sender`;
  console.log(`| bare TCP pair, ${mib} MiB to disk | ${mbs(bareSeconds).toFixed(0)} MB/s | 1.00 | ${cpuText(bareCpu)} |`);
  console.log(`| wirelab upload (framed, SHA-256 both ends, to disk) | ${mbs(oursSeconds).toFixed(0)} MB/s | ${(bareSeconds / oursSeconds).toFixed(2)} | ${cpuText(oursCpu)} |`);
  console.log(`| server RSS during the upload | ${base.toFixed(0)} -> peak ${peak.toFixed(0)} MiB | | |`);
  await stopServer(child);
  await rm(dir, { recursive: true, force: true });
}

// ---- 4. logins ----------------------------------------------------------------------------

async function logins(n: number): Promise<void> {
  const child = await startServer('owasp');
  const started = Date.now();
  const clients = await loginMany(child.port, 'login', n);
  const seconds = (Date.now() - started) / 1000;
  clients.forEach((c) => c.socket.destroy());
  await stopServer(child);
  const stored = await hash('pw', { algorithm: 2, memoryCost: OWASP.memoryCost, timeCost: OWASP.timeCost, parallelism: 1 });
  const refStarted = Date.now();
  for (let at = 0; at < n; at += 8) await Promise.all(Array.from({ length: Math.min(8, n - at) }, () => verify(stored, 'pw')));
  const refSeconds = (Date.now() - refStarted) / 1000;
  console.log(`| argon2id verify alone (8 at a time) | ${(n / refSeconds).toFixed(1)} /s | 1.00 |`);
  console.log(`| registrations through the server (argon2id, OWASP) | ${(n / seconds).toFixed(1)} /s | ${(refSeconds / seconds).toFixed(2)} |`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--serve')) return serve();
  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`load average at start: ${load()}`);
  const only = arg('only', 'idle,fanout,file,logins').split(',');
  if (only.includes('idle')) {
    console.log('\n| idle clients | figure | | |\n| --- | --- | --- | --- |');
    await idleClients(Number(arg('clients', '10000')));
  }
  if (only.includes('fanout')) {
    console.log('\n| fan-out, 10 msg/s in all | latency p50 / p99 / max | delivered | reordered |\n| --- | --- | --- | --- |');
    for (const n of arg('fanout', '1000,2000').split(',').map(Number)) await fanout(n, Number(arg('seconds', '10')));
  }
  if (only.includes('file')) {
    console.log('\n| file transfer | rate | ratio | CPU time |\n| --- | --- | --- | --- |');
    await fileTransfer(Number(arg('file-mib', '512')));
  }
  if (only.includes('logins')) {
    console.log('\n| logins | rate | ratio |\n| --- | --- | --- |');
    await logins(Number(arg('logins', '64')));
  }
  console.log(`\nload average at end: ${load()}`);
}

await main();
