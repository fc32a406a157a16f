/**
 * The broadcast CLI over real UDP sockets on loopback: plain senders and receivers from other
 * programs, signatures, bad input, and one-line errors. The broadcast address is 127.255.255.255.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/common/net.js';
import { WirelabProcess, runWirelab } from '../../helpers/process.js';

const LOOPBACK_BROADCAST = '127.255.255.255';

async function startNode(t: { after: (fn: () => Promise<unknown>) => void }, port: number, extra: string[] = []): Promise<WirelabProcess> {
  const node = WirelabProcess.start(['broadcast', 'node', '--port', String(port), '--json', ...extra]);
  t.after(() => node.stop());
  await node.waitFor((e) => e.event === 'listening', 15_000, 'node listening');
  return node;
}

/** Send datagrams to the loopback broadcast address, so that every socket sharing the port gets them. */
async function sendRaw(port: number, payloads: Buffer[]): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  s.setBroadcast(true);
  for (const p of payloads) await new Promise<void>((resolve, reject) => s.send(p, port, LOOPBACK_BROADCAST, (err) => (err ? reject(err) : resolve())));
  s.close();
}

test('two nodes on one host each get the broadcast and the master counts both acknowledgements', async (t) => {
  const port = await freePort('udp');
  const a = await startNode(t, port, ['--name', 'alpha']);
  const b = await startNode(t, port, ['--name', 'beta']);
  const master = await runWirelab(['broadcast', 'master', '--port', String(port), '--to', LOOPBACK_BROADCAST, '--count', '3', '--interval', '50ms', '--expect', '2', '--json']);
  assert.equal(master.code, 0, master.stderr);
  const reports = master.events.filter((e) => e.event === 'report');
  assert.deepEqual(reports.map((r) => [r.seq, r.delivered, r.nodes]), [1, 2, 3].map((seq) => [seq, 2, ['alpha', 'beta']]));
  assert.ok(reports.every((r) => typeof r.p50Ms === 'number' && r.p50Ms >= 0));
  const roster = master.events.find((e) => e.event === 'roster') as { nodes: { name: string; acks: number }[] } | undefined;
  assert.deepEqual(roster?.nodes.map((n) => [n.name, n.acks]), [['alpha', 3], ['beta', 3]]);
  for (const node of [a, b]) {
    await node.waitForCount((e) => e.event === 'message', 3);
    const seqs = node.events.filter((e) => e.event === 'message').map((e) => e.seq);
    assert.deepEqual(seqs, [1, 2, 3]);
    assert.equal(node.events.find((e) => e.event === 'message')?.text, 'Hello, Nodes!');
  }
});

test('a plain-text datagram from another program (Python, socat) is received and marked plain', async (t) => {
  const port = await freePort('udp');
  const node = await startNode(t, port);
  const python = spawn('python3', ['-c', `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1)\ns.sendto("Hello from master.py".encode(),("${LOOPBACK_BROADCAST}",${port}))`]);
  await new Promise((resolve) => python.once('exit', resolve));
  const fromPython = await node.waitFor((e) => e.event === 'message' && e.text === 'Hello from master.py');
  assert.equal(fromPython.format, 'plain');
  const socat = spawn('socat', ['-u', 'STDIN', `UDP4-SENDTO:127.0.0.1:${port}`], { stdio: ['pipe', 'ignore', 'ignore'] });
  socat.stdin.end('hi from socat');
  const fromSocat = await node.waitFor((e) => e.event === 'message' && e.text === 'hi from socat');
  assert.equal(fromSocat.format, 'plain');
});

test("our master's datagrams are readable by a plain receiver like the seeds' node.py", async (t) => {
  const port = await freePort('udp');
  const receiver = spawn('python3', ['-u', '-c', `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("",${port}))\nprint("ready",flush=True)\ndata,addr=s.recvfrom(4096)\nprint(data.decode())`]);
  t.after(() => receiver.kill());
  let output = '';
  receiver.stdout.setEncoding('utf8');
  const ready = new Promise<void>((resolve) => receiver.stdout.on('data', (chunk: string) => {
    output += chunk;
    if (output.includes('ready')) resolve();
  }));
  await ready;
  const exited = new Promise((resolve) => receiver.once('exit', resolve));
  const master = await runWirelab(['broadcast', 'master', '--port', String(port), '--to', LOOPBACK_BROADCAST, '--message', 'Hello, plain node', '--ack-wait', '100ms']);
  assert.equal(master.code, 0, master.stderr);
  await exited;
  assert.match(output, /^WLB1 M [0-9a-f]{16} 1 \d+ \S+ 17 -\nHello, plain node/m);
});

test('signed messages: a trusting node accepts its master, rejects forged, unsigned and replayed ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal((await runWirelab(['broadcast', 'keygen', '--out', join(dir, 'good')])).code, 0);
  assert.equal((await runWirelab(['broadcast', 'keygen', '--out', join(dir, 'evil')])).code, 0);
  const again = await runWirelab(['broadcast', 'keygen', '--out', join(dir, 'good')]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^wirelab: a key already exists/);

  const port = await freePort('udp');
  const node = await startNode(t, port, ['--trust', join(dir, 'good', 'broadcast.pub')]);
  // A spy on the same port records the genuine datagram, to replay it afterwards.
  const spy = createSocket({ type: 'udp4', reuseAddr: true });
  const captured = new Promise<Buffer>((resolve) => spy.once('message', (msg) => resolve(msg)));
  await new Promise<void>((resolve) => spy.bind(port, '0.0.0.0', resolve));
  t.after(() => spy.close());

  const send = (extra: string[], message: string): Promise<unknown> =>
    runWirelab(['broadcast', 'master', '--port', String(port), '--to', LOOPBACK_BROADCAST, '--message', message, '--ack-wait', '200ms', ...extra]);
  await send(['--key', join(dir, 'good', 'broadcast.key')], 'genuine');
  await node.waitFor((e) => e.event === 'message' && e.text === 'genuine' && e.verified === true);
  await send(['--key', join(dir, 'evil', 'broadcast.key')], 'forged');
  await send([], 'unsigned');
  await sendRaw(port, [await captured, Buffer.from('plain text')]);
  await node.waitForCount((e) => e.event === 'rejected', 4);
  const reasons = node.events.filter((e) => e.event === 'rejected').map((e) => e.reason);
  assert.deepEqual(reasons, ['bad signature (forged or altered)', 'unsigned envelope', 'replayed message', 'unsigned plain-text datagram']);
  assert.deepEqual(node.events.filter((e) => e.event === 'message').map((e) => e.text), ['genuine']);
});

test('garbage, truncated and oversized datagrams leave the node running, counted', async (t) => {
  const port = await freePort('udp');
  const node = await startNode(t, port);
  await sendRaw(port, [
    Buffer.from([0x00, 0xff, 0x13, 0x37]),
    Buffer.from('WLB1 M 0123456789abcdef 1 1 m 50 -\nshort'),
    Buffer.alloc(20_000, 0x61),
    Buffer.alloc(0),
  ]);
  await node.waitForCount((e) => e.event === 'invalid', 4);
  await sendRaw(port, [Buffer.from('still alive?')]);
  await node.waitFor((e) => e.event === 'message' && e.text === 'still alive?');
  const { code } = await node.stop('SIGINT');
  assert.equal(code, 130, 'a clean stop by Ctrl-C exits 128+2');
  const summary = await node.waitFor((e) => e.event === 'summary');
  assert.deepEqual([summary.invalid, summary.oversized, summary.plain], [4, 1, 1]);
  assert.deepEqual(
    node.events.filter((e) => e.event === 'invalid').map((e) => e.reason),
    ['not text nor an envelope (4 bytes)', 'malformed envelope: body is 5 bytes, header says 50', 'oversized datagram: 20000 bytes (limit 8192)', 'empty datagram'],
  );
});

test('user mistakes get one clear line and a non-zero exit', async (t) => {
  const port = await freePort('udp');
  // Hold the port without SO_REUSEADDR so the node cannot share it.
  const holder = createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(port, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const cases: [string[], RegExp, number][] = [
    [['broadcast', 'node', '--port', String(port), '--host', '127.0.0.1'], /^wirelab: listen on UDP 127\.0\.0\.1:\d+: address already in use\n$/, 1],
    [['broadcast', 'node', '--trust', '/nonexistent/key.pub'], /^wirelab: cannot read public key \/nonexistent\/key\.pub: ENOENT\n$/, 1],
    [['broadcast', 'master', '--key', '/nonexistent/key'], /^wirelab: cannot read private key/, 1],
    [['broadcast', 'master', '--to', '1.2.3'], /^wirelab: --to takes an IPv4 address, got '1\.2\.3'\n$/, 2],
    [['broadcast', 'master', '--group', '10.0.0.1', '--port', String(port)], /must be an IPv4 multicast address/, 1],
    [['broadcast', 'node', '--port', '70000'], /port must be a number from 0 to 65535/, 2],
  ];
  for (const [args, stderr, code] of cases) {
    const result = await runWirelab(args);
    assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, stderr, args.join(' '));
  }
});
