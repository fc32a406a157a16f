/**
 * Real traffic: the test sends UDP datagrams and one TCP connection to 127.0.0.1 on a port it got by
 * binding port 0, tcpdump captures them on `lo` (with a filter for that port only), and the file is
 * decoded by us and by tshark and compared; then the decoded fields are checked against what was sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { decodeLayers } from '../../../src/capture/decode/index.js';
import { readPcap } from './read-pcap.js';
import { compareWithTshark, tsharkRows } from './tshark.js';
import { withDeadline } from '../../helpers/deadline.js';

const DATAGRAMS = 10;
/** SYN, SYN-ACK, ACK, two data segments and two FINs: the fewest packets one echo connection makes. */
const TCP_MIN_PACKETS = 7;
const MESSAGE = 'hello wirelab';

const canCapture = process.getuid?.() === 0 && spawnSync('tcpdump', ['--version']).status === 0;

/** Reject after `ms` with `what`, so that no wait can hang the test. */
const deadline = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => withDeadline(promise, ms, what);

/** A UDP receiver and a TCP echo server on the same 127.0.0.1 port (found by binding UDP port 0). */
async function bindBoth(t: test.TestContext): Promise<{ port: number; udp: UdpSocket; server: Server }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const udp = createSocket('udp4');
    t.after(() => udp.close());
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const port = udp.address().port;
    const server = createServer((sock) => {
      sock.on('data', (d) => sock.write(d));
      sock.on('end', () => sock.end());
      sock.on('error', () => sock.destroy());
    });
    t.after(() => server.close());
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return { port, udp, server };
  }
  throw new Error('no port free for both UDP and TCP after 10 attempts');
}

async function sendDatagrams(udp: UdpSocket, port: number, t: test.TestContext): Promise<number> {
  const client = createSocket('udp4');
  t.after(() => client.close());
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
  let received = 0;
  const all = new Promise<void>((resolve) => udp.on('message', () => ++received === DATAGRAMS && resolve()));
  for (let i = 0; i < DATAGRAMS; i++) client.send(Buffer.from(`datagram ${i}`), port, '127.0.0.1');
  await deadline(all, 10_000, `${DATAGRAMS} datagrams received (got ${received})`);
  return client.address().port;
}

async function echoOnce(port: number): Promise<number> {
  const sock = createConnection({ port, host: '127.0.0.1' });
  await deadline(once(sock, 'connect'), 10_000, 'TCP connect');
  const localPort = sock.localPort!;
  sock.write(MESSAGE);
  await deadline(once(sock, 'data'), 10_000, 'echo');
  sock.end();
  await deadline(once(sock, 'close'), 10_000, 'TCP close');
  return localPort;
}

test('live loopback traffic captured by tcpdump decodes like tshark and like what was sent', { skip: canCapture ? false : 'needs root and tcpdump', timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-decode-live-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lo.pcap');
  const { port, udp } = await bindBoth(t);
  const total = DATAGRAMS + TCP_MIN_PACKETS;
  const tcpdump = spawn('tcpdump', ['-i', 'lo', '-n', '-U', '-Z', 'root', '-c', String(total), '-w', file, `udp port ${port} or tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = once(tcpdump, 'exit');
  t.after(() => {
    if (tcpdump.exitCode === null && tcpdump.signalCode === null) tcpdump.kill('SIGKILL');
  });
  let stderr = '';
  const listening = new Promise<void>((resolve) => tcpdump.stderr.on('data', (d: Buffer) => (stderr += d.toString()).includes('listening on') && resolve()));
  await deadline(listening, 15_000, 'tcpdump listening');

  const udpClientPort = await sendDatagrams(udp, port, t);
  const tcpClientPort = await echoOnce(port);
  await deadline(exited, 20_000, `tcpdump to capture ${total} packets; stderr: ${stderr}`);

  const packets = readPcap(file).map((p) => decodeLayers(p));
  assert.equal(packets.length, total);
  const c = compareWithTshark(packets, tsharkRows(file));
  t.diagnostic(`live capture: ${packets.length} packets, ${c.agreed}/${c.compared} fields agree with tshark`);
  assert.deepEqual(c.mismatches, []);

  const summaries = packets.map((p) => p.summary);
  assert.ok(summaries.every((s) => s.error === undefined && s.src === '127.0.0.1' && s.dst === '127.0.0.1'));
  const datagrams = summaries.filter((s) => s.protocol === 'UDP');
  assert.deepEqual(datagrams.map((s) => [s.sport, s.dport, s.info]), Array.from({ length: DATAGRAMS }, (_, i) => [udpClientPort, port, `Len=${`datagram ${i}`.length}`]));
  const segments = summaries.filter((s) => s.protocol === 'TCP');
  assert.deepEqual(segments.slice(0, 2).map((s) => [s.sport, s.dport, s.flags]), [[tcpClientPort, port, 'SYN'], [port, tcpClientPort, 'SYN,ACK']]);
  assert.ok(segments.some((s) => s.sport === tcpClientPort && s.info.endsWith(`Len=${MESSAGE.length}`)), 'the client data segment');
  assert.ok(segments.some((s) => s.sport === port && s.info.endsWith(`Len=${MESSAGE.length}`)), 'the echo segment');
});
