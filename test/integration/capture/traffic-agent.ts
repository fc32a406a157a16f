/**
 * The traffic the capture tests generate, run inside a namespace host as its own process:
 *   serve PORT            UDP sink on PORT (IPv4 and IPv6), TCP echo on PORT, DNS responder on UDP 53;
 *                         prints "ready" once all are listening, runs until killed (at most 120 s)
 *   client V4 V6 PORT     to the server at V4 (and V6, e.g. "fe80::1%eth0", or "-" for none): three UDP
 *                         datagrams, one over IPv6, a TCP exchange with handshake and teardown, a DNS
 *                         query and its answer, one fragmented UDP datagram (MTU 1500), then the marker
 *                         datagram; prints "done" and exits
 * Every wait has a deadline; a failure exits non-zero with the reason on stderr.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { withDeadline } from '../../helpers/deadline.js';

/** The payload of the last datagram: tests wait until every capture has seen it. */
export const MARKER = 'WIRELAB-CAPTURE-MARKER';
/** Bytes of the datagram that IPv4 must fragment on a 1500-byte MTU. */
export const FRAGMENTED_BYTES = 4000;
export const DNS_NAME = 'host.wirelab.test';
/** The A record the responder gives (TEST-NET-3, RFC 5737). */
export const DNS_ANSWER = '203.0.113.7';

const DEADLINE_MS = 15_000;

const deadline = <T>(promise: Promise<T>, what: string): Promise<T> => withDeadline(promise, DEADLINE_MS, what);

/** RFC 1035 4.1 question section for `name`, type A, class IN. */
function question(name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')]));
  return Buffer.concat([...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

function dnsQuery(id: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, question(DNS_NAME)]);
}

/** The answer to a query from dnsQuery(): the question echoed, one A record by compression pointer. */
function dnsAnswer(query: Buffer): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8180, 2); // QR, RD, RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(1, 6);
  const answer = Buffer.alloc(16);
  answer.writeUInt16BE(0xc00c, 0); // pointer to the question's name
  answer.writeUInt16BE(1, 2);
  answer.writeUInt16BE(1, 4);
  answer.writeUInt32BE(60, 6);
  answer.writeUInt16BE(4, 10);
  DNS_ANSWER.split('.').forEach((octet, i) => answer.writeUInt8(Number(octet), 12 + i));
  return Buffer.concat([header, question(DNS_NAME), answer]);
}

async function bindUdp(type: 'udp4' | 'udp6', port: number, address: string): Promise<Socket> {
  const socket = createSocket({ type, ipv6Only: type === 'udp6' });
  socket.bind(port, address);
  await once(socket, 'listening');
  return socket;
}

async function serve(port: number): Promise<void> {
  const sinks = [await bindUdp('udp4', port, '0.0.0.0'), await bindUdp('udp6', port, '::')];
  const dns = await bindUdp('udp4', 53, '0.0.0.0');
  dns.on('message', (msg, from) => dns.send(dnsAnswer(msg), from.port, from.address));
  const echo = createServer((sock) => {
    sock.on('data', (d) => sock.write(d));
    sock.on('end', () => sock.end());
    sock.on('error', () => sock.destroy());
  });
  echo.listen(port, '0.0.0.0');
  await once(echo, 'listening');
  process.stdout.write('ready\n');
  setTimeout(() => {
    for (const s of [...sinks, dns]) s.close();
    echo.close();
  }, 120_000).unref();
  await new Promise<void>((resolve) => setTimeout(resolve, 120_000));
}

async function send(socket: Socket, payload: Buffer, port: number, address: string): Promise<void> {
  await new Promise<void>((resolve, reject) => socket.send(payload, port, address, (err) => (err ? reject(err) : resolve())));
}

async function tcpExchange(address: string, port: number): Promise<void> {
  const sock = createConnection({ host: address, port });
  await deadline(once(sock, 'connect'), 'TCP connect');
  sock.write('hello over tcp');
  await deadline(once(sock, 'data'), 'TCP echo');
  sock.end();
  await deadline(once(sock, 'close'), 'TCP close');
}

async function client(v4: string, v6: string, port: number): Promise<void> {
  const udp = await bindUdp('udp4', 0, '0.0.0.0');
  for (let i = 0; i < 3; i++) await send(udp, Buffer.from(`datagram ${i}`), port, v4);
  if (v6 !== '-') {
    const udp6 = await bindUdp('udp6', 0, '::');
    await send(udp6, Buffer.from('datagram over IPv6'), port, v6);
    udp6.close();
  }
  await tcpExchange(v4, port);
  const answered = once(udp, 'message');
  await send(udp, dnsQuery(0x2a2a), 53, v4);
  await deadline(answered, 'DNS answer');
  await send(udp, Buffer.alloc(FRAGMENTED_BYTES, 0x46), port, v4);
  await send(udp, Buffer.from(MARKER), port, v4);
  udp.close();
  process.stdout.write('done\n');
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'serve') return serve(Number(args[0]));
  if (mode === 'client') return client(args[0]!, args[1]!, Number(args[2]));
  throw new Error(`usage: traffic-agent serve PORT | client V4 V6 PORT (got ${mode})`);
}

// run only as a script: tests import the constants above
if (process.argv[1]?.endsWith('traffic-agent.ts')) {
  main().catch((err: unknown) => {
    process.stderr.write(`traffic-agent: ${String(err)}\n`);
    process.exit(1);
  });
}
