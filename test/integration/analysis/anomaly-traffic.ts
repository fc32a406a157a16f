/**
 * Seeded normal traffic for the anomaly test, run inside a lab host's namespace as its own process:
 *   serve TCP_PORTS UDP_PORT SINK_PORT
 *                                   TCP request/response servers on each port (comma-separated), a
 *                                   UDP request/response server, and a TCP sink that reads and drops
 *                                   what it is sent; prints "ready"; runs until killed (at most
 *                                   MAX_LIFETIME_MS)
 *   client SERVER TCP_PORTS UDP_PORT SEED
 *                                   sessions back to back with random think times: a TCP connection
 *                                   with 1-4 request/response rounds, or 1-3 UDP exchanges from a new
 *                                   socket; prints "s" after each session; runs until killed or
 *                                   stdin closes (at most MAX_LIFETIME_MS); "f REASON" for a session
 *                                   that failed (the client goes on)
 *   jumbo SERVER UDP_PORT COUNT SEED
 *                                   COUNT oversized UDP requests (3000-8900 bytes: frames over 1514
 *                                   bytes, on a 9000-byte MTU path) asking ordinary replies; exits
 *   sessions SERVER PORT COUNT SEED COUNT ordinary TCP sessions to PORT, 200-500 ms apart; exits
 *   rflood SERVER PORT COUNT PARALLEL
 *                                   a request flood: COUNT connections, PARALLEL at a time, each one
 *                                   small request answered and closed, as fast as they go; exits
 *   bulk SERVER PORT MBYTES MBITS   one connection sending MBYTES megabytes, paced at MBITS Mbit/s;
 *                                   exits
 * Requests ask for replies of at most MAX_REPLY bytes, written in one piece, so every normal frame
 * is a single segment no larger than a 1500-byte MTU allows (the kernel's segmentation offload
 * would otherwise show larger frames to a capture on the sending host).
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createConnection, createServer, type Socket as TcpSocket } from 'node:net';
import { mulberry32, type Rng } from '../../../src/common/prng.js';
import { withDeadline } from '../../helpers/deadline.js';

/** Largest reply payload, bytes: one segment on a 1500-byte MTU. */
const MAX_REPLY = 1400;
const MAX_LIFETIME_MS = 180_000;
const STEP_MS = 5_000;

const deadline = <T>(promise: Promise<T>, what: string): Promise<T> => withDeadline(promise, STEP_MS, what);

function between(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A request: "<reply bytes> <padding>\n" over TCP; over UDP the first two bytes give the reply size. */
function tcpRequest(rng: Rng): { line: string; reply: number } {
  const reply = between(rng, 80, MAX_REPLY);
  return { line: `${reply} ${'x'.repeat(between(rng, 20, 300))}\n`, reply };
}

function udpRequest(bytes: number, reply: number): Buffer {
  const b = Buffer.alloc(bytes, 0x55);
  b.writeUInt16BE(Math.min(reply, MAX_REPLY), 0);
  return b;
}

function serveTcp(sock: TcpSocket): void {
  let pending = '';
  sock.setNoDelay(true);
  sock.on('error', () => sock.destroy());
  sock.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const size = Math.min(MAX_REPLY, Number.parseInt(pending.slice(0, nl), 10) || 0);
      pending = pending.slice(nl + 1);
      sock.write(Buffer.alloc(size, 0x61));
    }
    if (pending.length > 4096) sock.destroy();
  });
  sock.on('end', () => sock.end());
}

/** Read and drop (the bulk transfer's receiver). */
function sink(sock: TcpSocket): void {
  sock.on('error', () => sock.destroy());
  sock.resume();
  sock.on('end', () => sock.end());
}

async function serve(tcpPorts: number[], udpPort: number, sinkPort: number): Promise<void> {
  const servers = tcpPorts.map((port) => createServer(serveTcp).listen(port, '0.0.0.0'));
  servers.push(createServer(sink).listen(sinkPort, '0.0.0.0'));
  await Promise.all(servers.map((s) => once(s, 'listening')));
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    if (msg.length >= 2) udp.send(Buffer.alloc(Math.min(MAX_REPLY, msg.readUInt16BE(0)), 0x62), rinfo.port, rinfo.address);
  });
  udp.bind(udpPort, '0.0.0.0');
  await once(udp, 'listening');
  process.stdout.write('ready\n');
  await pause(MAX_LIFETIME_MS);
  process.exit(0);
}

async function tcpSession(rng: Rng, server: string, port: number): Promise<void> {
  const sock = createConnection({ host: server, port });
  sock.setNoDelay(true);
  try {
    await deadline(once(sock, 'connect'), 'TCP connect');
    const rounds = between(rng, 1, 4);
    for (let i = 0; i < rounds; i++) {
      const { line, reply } = tcpRequest(rng);
      let got = 0;
      const answered = new Promise<void>((resolve) => {
        const onData = (chunk: Buffer): void => {
          got += chunk.length;
          if (got < reply) return;
          sock.off('data', onData);
          resolve();
        };
        sock.on('data', onData);
      });
      sock.write(line);
      await deadline(answered, 'TCP reply');
      await pause(between(rng, 2, 40));
    }
    sock.end();
    await deadline(once(sock, 'close'), 'TCP close');
  } finally {
    sock.destroy();
  }
}

async function udpSession(rng: Rng, server: string, port: number): Promise<void> {
  const sock = createSocket('udp4');
  try {
    const rounds = between(rng, 1, 3);
    for (let i = 0; i < rounds; i++) {
      const answered = once(sock, 'message');
      sock.send(udpRequest(between(rng, 40, 300), between(rng, 60, 1200)), port, server);
      await deadline(answered, 'UDP reply');
      await pause(between(rng, 2, 40));
    }
  } finally {
    sock.close();
  }
}

async function client(server: string, tcpPorts: number[], udpPort: number, seed: number): Promise<void> {
  const rng = mulberry32(seed);
  let stopped = false;
  process.stdin.on('end', () => (stopped = true)).resume();
  setTimeout(() => (stopped = true), MAX_LIFETIME_MS).unref();
  while (!stopped) {
    // think time: exponential, mean 60 ms
    await pause(Math.min(1000, -60 * Math.log(1 - rng())));
    try {
      if (rng() < 0.7) await tcpSession(rng, server, tcpPorts[Math.floor(rng() * tcpPorts.length)]!);
      else await udpSession(rng, server, udpPort);
      process.stdout.write('s\n');
    } catch (err) {
      // a lost reply is traffic too; the test counts these and fails if there are many
      process.stdout.write(`f ${String(err)}\n`);
    }
  }
  process.exit(0);
}

async function jumbo(server: string, port: number, count: number, seed: number): Promise<void> {
  const rng = mulberry32(seed);
  const sock: Socket = createSocket('udp4');
  for (let i = 0; i < count; i++) {
    const sent = new Promise<void>((resolve, reject) =>
      sock.send(udpRequest(between(rng, 3000, 8900), between(rng, 60, 1200)), port, server, (err) => (err ? reject(err) : resolve())),
    );
    await deadline(sent, 'jumbo send');
    await pause(between(rng, 20, 80));
  }
  sock.close();
  process.stdout.write('done\n');
}

async function sessions(server: string, port: number, count: number, seed: number): Promise<void> {
  const rng = mulberry32(seed);
  for (let i = 0; i < count; i++) {
    await tcpSession(rng, server, port);
    await pause(between(rng, 200, 500));
  }
  process.stdout.write('done\n');
}

/** One connection of the request flood: connect, one request, its reply, close. */
async function oneRequest(server: string, port: number): Promise<void> {
  const sock = createConnection({ host: server, port });
  sock.setNoDelay(true);
  try {
    await deadline(once(sock, 'connect'), 'flood connect');
    const answered = once(sock, 'data');
    sock.write('200 GET / HTTP/1.1\n');
    await deadline(answered, 'flood reply');
    sock.end();
    await deadline(once(sock, 'close'), 'flood close');
  } finally {
    sock.destroy();
  }
}

async function requestFlood(server: string, port: number, count: number, parallel: number): Promise<void> {
  let next = 0;
  let failed = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      await oneRequest(server, port).catch(() => failed++);
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  process.stdout.write(`done ${failed} failed\n`);
}

async function bulk(server: string, port: number, mbytes: number, mbits: number): Promise<void> {
  const sock = createConnection({ host: server, port });
  await deadline(once(sock, 'connect'), 'bulk connect');
  const chunk = Buffer.alloc(64 * 1024, 0x42);
  const total = mbytes * 1e6;
  const started = Date.now();
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!sock.write(chunk)) await deadline(once(sock, 'drain'), 'bulk drain');
    const ahead = (sent * 8) / (mbits * 1e3) - (Date.now() - started); // ms sent ahead of the pace
    if (ahead > 0) await pause(ahead);
  }
  sock.end();
  await deadline(once(sock, 'close'), 'bulk close');
  process.stdout.write('done\n');
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  const ports = (text: string | undefined): number[] => (text ?? '').split(',').map(Number);
  if (mode === 'serve') return serve(ports(args[0]), Number(args[1]), Number(args[2]));
  if (mode === 'sessions') return sessions(args[0]!, Number(args[1]), Number(args[2]), Number(args[3]));
  if (mode === 'rflood') return requestFlood(args[0]!, Number(args[1]), Number(args[2]), Number(args[3]));
  if (mode === 'bulk') return bulk(args[0]!, Number(args[1]), Number(args[2]), Number(args[3]));
  if (mode === 'client') return client(args[0]!, ports(args[1]), Number(args[2]), Number(args[3]));
  if (mode === 'jumbo') return jumbo(args[0]!, Number(args[1]), Number(args[2]), Number(args[3]));
  throw new Error(`usage: anomaly-traffic serve|client|jumbo|sessions|rflood|bulk ... (got ${mode})`);
}

main().catch((err: unknown) => {
  process.stderr.write(`anomaly-traffic: ${String(err)}\n`);
  process.exit(1);
});
