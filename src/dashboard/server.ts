/**
 * The dashboard server: fastify 5 with its static and WebSocket plugins over an Ingest (the source
 * of packets and the aggregates). HTTP API (the same data as the WebSocket updates), /metrics,
 * pause/resume, the captured packets as pcapng, and uploads of capture files.
 */
import { EventEmitter } from 'node:events';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import { z } from 'zod';
import { CaptureWriter, detectFormat } from '../capture/index.js';
import { WirelabError, isWirelabError } from '../common/errors.js';
import { systemClock, type Clock } from '../common/lifecycle.js';
import { silentLogger, type Logger } from '../common/log.js';
import { Gate, isLoopback } from './auth.js';
import { DEFAULT_HOST, DEFAULT_PORT, MAX_BPF_CHARS, MAX_CLIENT_MESSAGE, MAX_UPLOAD_BYTES, UPDATE_PACKET_ROWS } from './constants.js';
import { PacketFilter } from './filter.js';
import { Ingest, type IngestOptions, type SourceInfo } from './ingest.js';
import { dashboardMetrics } from './metrics.js';
import { sharedUpdate, type DashboardUpdate } from './update.js';
import { UpdateHub, type HubOptions } from './ws-hub.js';

export interface DashboardOptions extends IngestOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 8050; 0: any free port */
  port?: number;
  /** required on a non-loopback host; default there: 128 random bits */
  token?: string;
  /** a capture file to read at start */
  read?: string;
  /** an interface to capture on at start */
  interface?: string;
  /** BPF filter of the live capture */
  bpf?: string;
  /** bytes of an upload, at most (default 64 MiB) */
  maxUploadBytes?: number;
  updates?: HubOptions;
  /** the built page (default: the build's dist/dashboard/web) */
  webRoot?: string;
}

export interface DashboardDeps {
  logger?: Logger;
  clock?: Clock;
}

export interface DashboardEvents {
  /** the source (file, upload, live capture) finished or failed */
  source: [SourceInfo & { packets: number }];
}

const snapshotQuery = z.object({
  src: z.string().max(64).optional(),
  dst: z.string().max(64).optional(),
  protocol: z.string().max(64).optional(),
  after: z.coerce.number().int().min(-1).optional(),
  limit: z.coerce.number().int().min(0).max(UPDATE_PACKET_ROWS).optional(),
  token: z.string().optional(),
});

const bpfBody = z.object({ bpf: z.string().max(MAX_BPF_CHARS) });

/** Where the built page is: beside the compiled server, or in dist/ when running from sources. */
function defaultWebRoot(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? '../../dist/dashboard/web/' : './web/', import.meta.url));
}

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export class Dashboard extends EventEmitter<DashboardEvents> {
  readonly ingest: Ingest;
  readonly token: string | undefined;
  private readonly app: FastifyInstance;
  private readonly hub: UpdateHub;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private address: { host: string; port: number } | undefined;
  private closing: Promise<void> | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly options: DashboardOptions = {},
    deps: DashboardDeps = {},
  ) {
    super();
    this.logger = deps.logger ?? silentLogger;
    this.clock = deps.clock ?? systemClock;
    const host = options.host ?? DEFAULT_HOST;
    this.token = isLoopback(host) ? options.token : (options.token ?? randomBytes(16).toString('hex'));
    this.ingest = new Ingest(options, { logger: this.logger });
    this.ingest.on('done', (info) => this.emit('source', { ...info, packets: this.ingest.aggregates.packets }));
    this.hub = new UpdateHub(this.ingest, options.updates ?? {}, this.logger, this.clock, options.detector?.baselinePackets ?? 5000);
    this.app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: options.maxUploadBytes ?? MAX_UPLOAD_BYTES });
  }

  /** http://HOST:PORT/ (with ?token= when one is needed) once started. */
  get url(): string {
    if (!this.address) throw new WirelabError('E_CLOSED', 'dashboard not started');
    const host = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `http://${host}:${this.address.port}/${this.token === undefined ? '' : `?token=${this.token}`}`;
  }

  get port(): number {
    return this.address?.port ?? 0;
  }

  async start(): Promise<void> {
    await this.routes();
    const host = this.options.host ?? DEFAULT_HOST;
    try {
      await this.app.listen({ host, port: this.options.port ?? DEFAULT_PORT });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new WirelabError('E_ADDR_IN_USE', `port ${this.options.port ?? DEFAULT_PORT} on ${host} is in use`, { cause: err });
      throw new WirelabError('E_NETWORK', `cannot listen on ${host}: ${(err as Error).message}`, { cause: err });
    }
    this.app.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    const bound = this.app.server.address();
    this.address = { host, port: typeof bound === 'object' && bound ? bound.port : 0 };
    this.hub.start();
    if (this.options.read !== undefined) await this.ingest.readFile(this.options.read);
    else if (this.options.interface !== undefined) await this.ingest.live(this.options.interface, this.options.bpf);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.hub.close();
      await this.ingest.close();
      const closed = this.app.close();
      // sockets the HTTP server no longer tracks (an upgrade it refused) would hold close() open
      for (const socket of this.sockets) socket.destroy();
      await closed;
    })();
    return this.closing;
  }

  stats(): { hub: ReturnType<UpdateHub['stats']>; aggregates: ReturnType<Ingest['aggregates']['stats']>; source: SourceInfo } {
    return { hub: this.hub.stats(), aggregates: this.ingest.aggregates.stats(), source: this.ingest.source };
  }

  /** The update a WebSocket client of this filter would get, with up to `limit` packets after `after`. */
  snapshot(filter: PacketFilter, after = -1, limit = UPDATE_PACKET_ROWS): DashboardUpdate {
    const now = this.clock.now();
    const view = this.ingest.aggregates.view(filter, now);
    const shared = sharedUpdate(this.ingest, view, now, this.options.detector?.baselinePackets ?? 5000);
    return { ...shared, packets: view.packetsAfter(after, limit), lastSeq: view.lastSeq };
  }

  private async routes(): Promise<void> {
    const app = this.app;
    const gate = new Gate(this.token, this.options.host ?? DEFAULT_HOST);
    app.addHook('onRequest', async (request, reply) => {
      void reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
      if (!gate.check(request, reply)) return reply;
      return undefined;
    });
    app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _request, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        const mib = (this.options.maxUploadBytes ?? MAX_UPLOAD_BYTES) / 1024 / 1024;
        return reply.code(413).send({ error: `file too large: the limit is ${mib} MiB` });
      }
      if (isWirelabError(err)) return reply.code(err.code === 'E_TOO_LARGE' ? 429 : 400).send({ error: err.message });
      if (err instanceof z.ZodError) return reply.code(400).send({ error: `bad request: ${err.issues[0]?.message ?? 'invalid'}` });
      if ((err.statusCode ?? 500) < 500) return reply.code(err.statusCode!).send({ error: err.message });
      this.logger.error({ err }, 'dashboard request failed');
      return reply.code(500).send({ error: 'internal error' });
    });
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    await app.register(fastifyWebsocket, { options: { maxPayload: MAX_CLIENT_MESSAGE } });
    app.get('/ws', { websocket: true }, (socket, request) => this.hub.add(socket, pickFilter(request.query)));
    app.get('/api/snapshot', (request) => {
      const q = snapshotQuery.parse(request.query);
      return this.snapshot(PacketFilter.parse(pickFilter(q)), q.after, q.limit);
    });
    app.get('/api/state', () => ({ ...this.stats(), paused: this.ingest.paused, detector: this.ingest.detectorStats() }));
    app.post('/api/pause', () => {
      this.ingest.pause();
      return { paused: true };
    });
    app.post('/api/resume', () => {
      this.ingest.resume();
      return { paused: false };
    });
    app.post('/api/live', (request) => this.changeBpf(request.body));
    app.get('/api/capture.pcapng', (request, reply) => this.download(request, reply));
    app.post('/api/upload', (request, reply) => this.upload(request, reply));
    const metrics = dashboardMetrics(this.ingest, this.hub);
    app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
    const root = this.options.webRoot ?? defaultWebRoot();
    if (existsSync(join(root, 'index.html'))) await app.register(fastifyStatic, { root, index: 'index.html' });
    else app.get('/', (_request, reply) => reply.type('text/plain').send('The dashboard page is not built: run `npm run build:web`. The API is at /api/snapshot.\n'));
  }

  /**
   * A new BPF expression for the live capture: the capture restarts with it (and the data with it).
   * A filter the capture tool refuses gets its message, and the previous filter is put back.
   */
  private async changeBpf(body: unknown): Promise<{ bpf: string | null }> {
    const { bpf } = bpfBody.parse(body ?? {});
    const source = this.ingest.source;
    if (source.kind !== 'live') throw new WirelabError('E_USAGE', 'a BPF filter applies to a live capture only (this source is a file)');
    const wanted = bpf.trim() === '' ? undefined : bpf.trim();
    try {
      await this.ingest.live(source.name, wanted);
    } catch (err) {
      await this.ingest.live(source.name, source.bpf).catch((again: unknown) => this.logger.error({ err: again }, 'live capture did not restart'));
      throw err;
    }
    return { bpf: wanted ?? null };
  }

  /** The packets held (those passing the filter) as a pcapng file. */
  private async download(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const filter = PacketFilter.parse(pickFilter(snapshotQuery.parse(request.query)));
    const dir = await mkdtemp(join(tmpdir(), 'wirelab-dashboard-'));
    const path = join(dir, 'capture.pcapng');
    let packets = 0;
    try {
      const writer = new CaptureWriter({ path, format: 'pcapng' });
      await writer.start();
      for (const raw of this.ingest.aggregates.historyPackets(filter)) {
        packets++;
        if (!writer.write(raw)) await writer.drained();
      }
      await writer.close();
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const stream = createReadStream(path);
    stream.once('close', () => void rm(dir, { recursive: true, force: true }));
    const stamp = new Date(this.clock.now()).toISOString().replace(/[-:]/g, '').slice(0, 15);
    return reply
      .header('content-type', 'application/vnd.tcpdump.pcapng')
      .header('content-disposition', `attachment; filename="wirelab-${stamp}.pcapng"`)
      .header('x-wirelab-packets', String(packets))
      .send(stream);
  }

  /** A pcap or pcapng file in the body: it replaces the current source and its data. */
  private async upload(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const body = request.body;
    if (!Buffer.isBuffer(body)) return reply.code(415).send({ error: 'send the file as application/octet-stream' });
    if (body.length < 4 || detectFormat(body.subarray(0, 4)) === undefined) {
      return reply.code(400).send({ error: 'not a pcap or pcapng file (its first bytes are not a capture file magic number)' });
    }
    const header = request.headers['x-filename'];
    let name = 'upload';
    try {
      if (typeof header === 'string') name = decodeURIComponent(header).slice(0, 200) || name;
    } catch {
      // a malformed name: keep the default
    }
    try {
      await this.ingest.readBuffer(body, name);
    } catch (err) {
      const packets = this.ingest.aggregates.packets;
      return reply.code(422).send({ error: `${isWirelabError(err) ? err.message : String(err)} (${packets} packets before it are shown)`, packets });
    }
    return reply.send({ ok: true, name, packets: this.ingest.aggregates.packets, bytes: this.ingest.aggregates.bytes });
  }
}

function pickFilter(query: unknown): { src?: string; dst?: string; protocol?: string } {
  const q = (query ?? {}) as Record<string, unknown>;
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return { src: text(q.src), dst: text(q.dst), protocol: text(q.protocol) };
}
