import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { systemClock } from '../../../src/common/lifecycle.js';
import { silentLogger } from '../../../src/common/log.js';
import { dial, handshake, type DialOptions } from '../../../src/gossip/dial.js';
import { Peer, encodeFrame, formatMessage, type GossipMessage } from '../../../src/gossip/index.js';
import { defaultLimits } from '../../../src/gossip/protocol.js';

const frame = (m: GossipMessage): Buffer => encodeFrame(formatMessage(m));
const options = (timeoutMs: number, signal?: AbortSignal): DialOptions => ({
  limits: defaultLimits,
  logger: silentLogger,
  clock: systemClock,
  timeoutMs,
  signal,
});

/** A loopback server on port 0 whose accepted sockets go to `onSocket`; closed by the test. */
async function server(t: { after(fn: () => Promise<void>): void }, onSocket: (s: Socket) => void): Promise<Server> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    onSocket(s);
  });
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return srv;
}

const portOf = (srv: Server): number => (srv.address() as { port: number }).port;

test('a frame right behind the welcome (same TCP segment) waits for the link listener', async (t) => {
  const me = { host: '127.0.0.1', port: 1 };
  const srv = await server(t, (s) => {
    s.once('data', () => s.write(Buffer.concat([frame({ type: 'welcome', peer: me, id: 0, neighbours: [] }), frame({ type: 'anchor' })])));
  });
  const conn = await dial({ host: '127.0.0.1', port: portOf(srv) }, options(5000));
  t.after(() => conn.close());
  const answer = await handshake(conn, { type: 'hello', peer: me, id: 1 }, options(5000));
  assert.equal(answer?.type, 'welcome');
  // The caller attaches its listener only after the handshake resolved (a later microtask).
  await new Promise((r) => setImmediate(r));
  const got: GossipMessage[] = [];
  conn.on('message', (m) => got.push(m));
  conn.release();
  assert.deepEqual(got, [{ type: 'anchor' }], 'the anchor frame was held, not emitted to nobody');
});

test('messages before a malformed one in the same chunk are delivered, then the connection closes', async (t) => {
  const srv = await server(t, (s) => s.write(Buffer.concat([frame({ type: 'anchor' }), frame({ type: 'iwant', hash: 'ab'.repeat(32) }), encodeFrame('nonsense:1')])));
  const conn = await dial({ host: '127.0.0.1', port: portOf(srv) }, options(5000));
  t.after(() => conn.close());
  const got: string[] = [];
  conn.on('message', (m) => got.push(m.type));
  const [reason] = (await once(conn, 'close')) as [string | undefined];
  assert.deepEqual(got, ['anchor', 'iwant']);
  assert.match(reason ?? '', /^malformed input/);
});

test('close() during start ends the seed request in flight at once and starts no timer', async (t) => {
  // A "seed" that accepts and never answers: without the abort, start() would wait out its 10 s timeout.
  const srv = await server(t, () => undefined);
  const peer = new Peer({ seeds: [{ host: '127.0.0.1', port: portOf(srv) }], requestTimeoutMs: 10_000, autoGossip: false });
  t.after(() => peer.close());
  const started = peer.start();
  const outcome = started.then(
    () => 'resolved',
    (err: Error) => err.message,
  );
  await once(srv, 'connection');
  const t0 = Date.now();
  await peer.close();
  assert.match(await outcome, /no seed answered/);
  assert.ok(Date.now() - t0 < 2000, `start() ended ${Date.now() - t0} ms after close()`);
  assert.equal(peer.stats().degree, 0);
});

test('Connection.sendBatch sends every frame, in order, and counts them', async (t) => {
  const chunks: Buffer[] = [];
  const srv = await server(t, (s) => s.on('data', (c: Buffer) => chunks.push(c)));
  const conn = await dial({ host: '127.0.0.1', port: portOf(srv) }, options(5000));
  t.after(() => conn.close());
  const batch: GossipMessage[] = [{ type: 'anchor' }, { type: 'iwant', hash: 'cd'.repeat(32) }];
  assert.equal(conn.sendBatch(batch), 2);
  const expected = Buffer.concat(batch.map(frame));
  const deadline = Date.now() + 5000;
  while (Buffer.concat(chunks).length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(Buffer.concat(chunks), expected);
});

test('the frame deadline is per frame: a busy stream split inside frames stays open, a stalled frame is cut', async (t) => {
  const { Connection } = await import('../../../src/gossip/connection.js');
  const accepted: Socket[] = [];
  const srv = await server(t, (s) => accepted.push(s));
  const client = await dial({ host: '127.0.0.1', port: portOf(srv) }, options(5000));
  t.after(() => client.close());
  await new Promise((r) => setImmediate(r));
  const conn = new Connection(accepted[0]!, { limits: defaultLimits, logger: silentLogger, frameTimeoutMs: 300 });
  let got = 0;
  conn.on('message', () => got++);
  // About 1.2 s of writes of one frame and one byte each: a write ends on a frame boundary only
  // every 74th time (740 ms and more), far past the 300 ms deadline of one frame.
  const one = frame({ type: 'iwant', hash: 'ab'.repeat(32) });
  assert.equal(one.length, 74);
  const stream = Buffer.concat(Array.from({ length: 130 }, () => one));
  const step = one.length + 1;
  for (let at = 0; at + step <= stream.length; at += step) {
    client.socket.write(stream.subarray(at, at + step));
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(conn.isOpen, `open after ${got} frames of a stream split inside frames`);
  assert.ok(got >= 120);
  // Now a frame that never completes.
  const closed = once(conn, 'close');
  client.socket.write(Buffer.from([0, 0, 1, 0, 1, 2]));
  const [reason] = (await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('not closed')), 3000))])) as [string];
  assert.match(reason, /frame not completed in 300 ms/);
});
