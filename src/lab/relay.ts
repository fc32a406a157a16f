/**
 * Reaching a TCP port inside a network namespace from the host, without adding anything to the
 * host's network: a Unix socket is a file, and files are shared by every network namespace. Run as a
 * script inside the namespace (`relay.ts UNIX_PATH PORT`), it accepts on the Unix socket and connects
 * each stream to 127.0.0.1:PORT there; `TcpRelay`, in the demo's process on the host, accepts on
 * 127.0.0.1:PORT and connects each stream to that Unix socket. Bytes pass untouched both ways.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WirelabError, fromSystemError } from '../common/errors.js';

/** streams relayed at once at most; more are refused (the dashboard allows 32 WebSocket clients) */
export const MAX_RELAYED = 256;

/**
 * Join two streams (both half-open capable): each one's end is passed on as the other's end, so a
 * half-closed stream still gets its answer; an error on either destroys both, and a stream closed
 * whole ends the other.
 */
function join(a: Socket, b: Socket): void {
  const destroy = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroy).on('close', () => b.end());
  b.on('error', destroy).on('close', () => a.end());
  a.pipe(b);
  b.pipe(a);
}

/** A server whose every connection is joined to a fresh one made by `dial`. */
function relayServer(dial: () => Socket, open: Set<Socket>): Server {
  return createServer({ allowHalfOpen: true }, (inbound) => {
    if (open.size >= MAX_RELAYED) {
      inbound.destroy();
      return;
    }
    open.add(inbound);
    inbound.on('close', () => open.delete(inbound));
    join(inbound, dial());
  });
}

/** Host side: 127.0.0.1:port (0: any free) relayed to the Unix socket at `unixPath`. */
export class TcpRelay {
  private readonly open = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  constructor(private readonly unixPath: string) {}

  async start(port: number): Promise<number> {
    const server = relayServer(() => connect({ path: this.unixPath, allowHalfOpen: true }), this.open);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(fromSystemError(err, `listen on 127.0.0.1:${port}`)));
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new WirelabError('E_LAB', 'the relay has no TCP address');
    this.port = address.port;
    return this.port;
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Namespace side, as a script: `relay.ts UNIX_PATH PORT`; prints {"event":"listening"} once ready. */
function main(argv: string[]): void {
  const [unixPath, portText] = argv;
  const port = Number(portText);
  if (!unixPath || !Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write('usage: relay UNIX_PATH PORT\n');
    process.exit(2);
  }
  const server = relayServer(() => connect({ port, host: '127.0.0.1', allowHalfOpen: true }), new Set());
  server.on('error', (err) => {
    process.stderr.write(`relay: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(unixPath, () => process.stdout.write(`${JSON.stringify({ event: 'listening', path: unixPath, port, time: Date.now() / 1000 })}\n`));
  const stop = (): void => {
    server.close();
    rmSync(unixPath, { force: true });
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
