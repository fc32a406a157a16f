/**
 * The hostile host of the gossip attack tests (test/integration/hostile/gossip-*.test.ts), run inside
 * a lab namespace: `node --import tsx gossip-attacker.ts MODE JSON`. Each mode replays one attack of
 * issue 13 against the real seed and peer processes and prints NDJSON results (`{"event": ...}`) on
 * stdout. Every loop is bounded in count and in time; the process exits when done, or is killed.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { FrameDecoder, encodeFrame, formatMessage, parseMessage, type Endpoint, type GossipMessage } from '../../../src/gossip/index.js';

const [mode, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}') as Record<string, unknown>;
const self = String(args.self);
const deadline = Date.now() + Number(args.maxMs ?? 20_000);

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
}

function endpoint(text: unknown): Endpoint {
  const [host, port] = String(text).split(':');
  return { host: host!, port: Number(port) };
}

const frame = (m: GossipMessage): Buffer => encodeFrame(formatMessage(m));

/** Open a connection from our address; resolves with the socket, or undefined if refused / reset. */
function open(to: Endpoint, timeoutMs = 3000): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: to.host, port: to.port, localAddress: self });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(undefined);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

/** Send frames and collect the messages and bytes that come back until close or `waitMs`. */
async function converse(to: Endpoint, frames: Buffer[], waitMs = 3000, expect = Infinity): Promise<{ messages: GossipMessage[]; bytes: number; closed: boolean }> {
  const s = await open(to);
  if (!s) return { messages: [], bytes: 0, closed: true };
  const decoder = new FrameDecoder();
  const messages: GossipMessage[] = [];
  let bytes = 0;
  let closed = false;
  s.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    try {
      for (const text of decoder.push(chunk)) messages.push(parseMessage(text));
    } catch {
      s.destroy();
    }
    if (messages.length >= expect) s.destroy();
  });
  s.on('error', () => undefined);
  const done = once(s, 'close').then(() => (closed = true));
  s.write(Buffer.concat(frames));
  await Promise.race([done, new Promise((r) => setTimeout(r, waitMs))]);
  s.destroy();
  return { messages, bytes, closed };
}

/** Listeners on our own address that answer liveness requests: the first `answers` of each, then never. */
async function listeners(count: number, answers: number): Promise<{ servers: Server[]; ports: number[] }> {
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) {
    let left = answers;
    const srv = createServer((s) => {
      const decoder = new FrameDecoder();
      s.on('error', () => undefined);
      s.on('data', (chunk: Buffer) => {
        try {
          for (const text of decoder.push(chunk)) {
            const m = parseMessage(text);
            if (m.type === 'liveness-request' && left-- > 0) {
              s.write(frame({ type: 'liveness-reply', timestamp: m.timestamp, peer: m.peer, replier: { host: self, port: (srv.address() as { port: number }).port } }));
            }
          }
        } catch {
          s.destroy();
        }
      });
    });
    srv.listen(0, self);
    await once(srv, 'listening');
    servers.push(srv);
  }
  return { servers, ports: servers.map((s) => (s.address() as { port: number }).port) };
}

/** Many registrations of addresses that do not answer (ours at closed ports, and others' addresses). */
async function registerFlood(): Promise<void> {
  const seed = endpoint(args.seed);
  const count = Number(args.count ?? 1000);
  let registered = 0;
  let refused = 0;
  const batch = 50;
  for (let i = 0; i < count && Date.now() < deadline; i += batch) {
    const frames: Buffer[] = [];
    for (let j = 0; j < batch; j++) {
      const claim = (i + j) % 2 === 0 ? { host: self, port: 1 + ((i + j) % 60_000) } : { host: `198.51.100.${(i + j) % 250}`, port: 7000 };
      frames.push(frame({ type: 'register', peer: claim }));
    }
    const got = await converse(seed, frames, 1500);
    registered += got.messages.filter((m) => m.type === 'registered').length;
    if (got.closed) refused++;
  }
  emit('register-flood', { sent: count, registered, closedConnections: refused });
}

/** A 9-byte `peer list` request from a stranger: how many bytes come back. */
async function peerList(): Promise<void> {
  const request = encodeFrame('peer list');
  const got = await converse(endpoint(args.seed), [request], 2000);
  emit('peer-list', { sent: request.length, received: got.bytes });
}

/** Hold many connections, each with an unfinished huge frame dripping one byte at a time. */
async function slowloris(): Promise<void> {
  const target = endpoint(args.target);
  const count = Number(args.count ?? 500);
  const sockets: Socket[] = [];
  let openedCount = 0;
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    const s = await open(target, 1000);
    if (!s) continue;
    openedCount++;
    s.on('error', () => undefined);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(200 * 1024, 0);
    s.write(Buffer.concat([header, Buffer.alloc(Number(args.bodyBytes ?? 64 * 1024), 0x61)]));
    sockets.push(s);
  }
  emit('opened', { attempted: count, opened: openedCount });
  const drip = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write('a');
  }, 1000);
  const holdUntil = Math.min(deadline, Date.now() + Number(args.holdMs ?? 12_000));
  while (Date.now() < holdUntil) await new Promise((r) => setTimeout(r, 250));
  clearInterval(drip);
  const stillOpen = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
  emit('slowloris', { opened: openedCount, stillOpen });
  for (const s of sockets) s.destroy();
}

/** Register live-looking fakes (they answer the connect-back, then go silent) and report them all dead. */
async function reportFlood(): Promise<void> {
  const seed = endpoint(args.seed);
  const { servers, ports } = await listeners(Number(args.fakes ?? 300), 1);
  let registered = 0;
  for (let i = 0; i < ports.length && Date.now() < deadline; i += 25) {
    const frames = ports.slice(i, i + 25).map((port) => frame({ type: 'register', peer: { host: self, port } }));
    const got = await converse(seed, frames, 8000, frames.length);
    registered += got.messages.filter((m) => m.type === 'registered').length;
  }
  const reports = ports.map((port) => frame({ type: 'dead-node', peer: { host: self, port }, timestamp: Date.now(), reporter: self }));
  const got = await converse(seed, reports, 2000);
  emit('report-flood', { fakes: ports.length, registered, reported: ports.length, noted: got.messages.filter((m) => m.type === 'report-noted').length });
  // Keep the fakes' ports open (silent) so that the seed's confirmations run to their timeout.
  while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  for (const s of servers) s.close();
}

/** hello claiming someone else's address, and claims nobody may make. */
async function helloSpoof(): Promise<void> {
  const peer = endpoint(args.peer);
  const results: Record<string, string> = {};
  for (const claim of [String(args.claim), '0.0.0.0:7500', '255.255.255.255:7500', '224.0.0.1:7500', String(args.peer)]) {
    const got = await converse(peer, [frame({ type: 'hello', peer: endpoint(claim), id: 0 })], 4000);
    results[claim] = got.messages[0]?.type ?? (got.closed ? 'closed' : 'nothing');
  }
  emit('hello-spoof', { results });
}

/** Link to a peer honestly (a real listener proves our address), then flood it with forged gossip. */
async function gossipFlood(): Promise<void> {
  const peer = endpoint(args.peer);
  const { servers, ports } = await listeners(1, 1_000_000);
  const s = await open(peer);
  if (!s) return emit('gossip-flood', { linked: false });
  const decoder = new FrameDecoder();
  let welcomed = false;
  s.on('data', (chunk: Buffer) => {
    try {
      for (const text of decoder.push(chunk)) {
        const m = parseMessage(text);
        if (m.type === 'welcome') welcomed = true;
        if (m.type === 'liveness-request') s.write(frame({ type: 'liveness-reply', timestamp: m.timestamp, peer: m.peer, replier: { host: self, port: ports[0]! } }));
      }
    } catch {
      s.destroy();
    }
  });
  s.on('error', () => undefined);
  s.write(frame({ type: 'hello', peer: { host: self, port: ports[0]! }, id: 0 }));
  const linkBy = Date.now() + 5000;
  while (!welcomed && !s.destroyed && Date.now() < linkBy) await new Promise((r) => setTimeout(r, 20));
  if (!welcomed) {
    emit('gossip-flood', { linked: false });
    return;
  }
  const count = Number(args.count ?? 50_000);
  let sent = 0;
  const now = Date.now();
  for (let i = 0; i < count && !s.destroyed && Date.now() < deadline; i++) {
    // Forged origins, stale and future timestamps, and a flood from one origin.
    const kind = i % 4;
    const ts = kind === 1 ? now - 3_600_000 : kind === 2 ? now + 3_600_000 : now;
    const origin = kind === 3 ? { host: '198.51.100.7', port: 7000 } : { host: `198.51.${(i >> 8) & 255}.${i & 255}`, port: 7000 };
    const text = `${ts}:${origin.host}:${origin.port}:${i}`;
    const ok = s.write(frame({ type: 'gossip', text, timestamp: ts, origin, seq: i }));
    sent++;
    if (!ok) await Promise.race([once(s, 'drain'), new Promise((r) => setTimeout(r, 1000))]);
  }
  emit('gossip-flood', { linked: true, sent, stillLinked: !s.destroyed });
  s.destroy();
  for (const srv of servers) srv.close();
}

const modes: Record<string, () => Promise<void>> = { registerFlood, peerList, slowloris, reportFlood, helloSpoof, gossipFlood };
const run = modes[mode ?? ''];
if (!run) {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
run()
  .then(() => emit('done'))
  .catch((err: unknown) => {
    emit('error', { message: String(err) });
    process.exitCode = 1;
  })
  .finally(() => setTimeout(() => process.exit(), 100).unref());
