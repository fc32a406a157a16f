/**
 * The WebSocket side: each browser watches one view (its filter) and gets an update at most every
 * UPDATE_INTERVAL_MS, and only when something changed. Updates are whole pictures, so a client that
 * cannot keep up loses nothing by skipping some: past MAX_CLIENT_BUFFER queued bytes its updates
 * are skipped (the next carries the latest), and after SLOW_CLIENT_MS over it, it is disconnected.
 * Memory per client is thus bounded by one buffer's worth, whatever the traffic.
 */
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { isWirelabError } from '../common/errors.js';
import { PeriodicTask, systemClock, type Clock } from '../common/lifecycle.js';
import type { Logger } from '../common/log.js';
import { MAX_CLIENT_BUFFER, MAX_CLIENTS, SLOW_CLIENT_MS, UPDATE_INTERVAL_MS, UPDATE_PACKET_ROWS } from './constants.js';
import { PacketFilter, viewFilterSchema } from './filter.js';
import type { Ingest } from './ingest.js';
import { sharedUpdate, updateJson } from './update.js';
import type { TrafficView } from './view.js';

/** What a browser may send. */
const clientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('filter'), filter: viewFilterSchema }),
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
]);

interface Client {
  socket: WebSocket;
  filter: PacketFilter;
  view: TrafficView | undefined;
  /** seq of the last packet sent (-1: none) */
  sentSeq: number;
  /** Ingest.version when last sent (-1: never) */
  sentVersion: number;
  /** view the last update was about */
  sentView: TrafficView | undefined;
  /** ms */
  sentAt: number;
  /** ms since when its buffer has been over the limit (0: it is not) */
  slowSince: number;
}

export interface HubStats {
  clients: number;
  updatesSent: number;
  /** updates not sent because the client's buffer was full */
  updatesSkipped: number;
  /** clients disconnected for being too slow */
  slowDisconnects: number;
  /** bytes sent in updates */
  bytesSent: number;
}

export interface HubOptions {
  intervalMs?: number;
  maxClients?: number;
  maxBuffer?: number;
  slowMs?: number;
}

export class UpdateHub {
  private readonly clients = new Set<Client>();
  private readonly task: PeriodicTask;
  private readonly intervalMs: number;
  private readonly counters = { updatesSent: 0, updatesSkipped: 0, slowDisconnects: 0, bytesSent: 0 };

  constructor(
    private readonly ingest: Ingest,
    private readonly options: HubOptions,
    private readonly logger: Logger,
    private readonly clock: Clock = systemClock,
    private readonly baselineTarget: number | null = null,
  ) {
    this.intervalMs = options.intervalMs ?? UPDATE_INTERVAL_MS;
    // a round every 1/4 interval: an update goes out within 1.25 intervals of a change
    this.task = new PeriodicTask(Math.max(10, this.intervalMs / 4), () => this.round(), (err) => this.logger.error({ err }, 'update round failed'), clock);
  }

  start(): void {
    this.task.start();
  }

  close(): void {
    this.task.stop();
    for (const c of this.clients) c.socket.close(1001, 'server closing');
    this.clients.clear();
  }

  stats(): HubStats {
    return { clients: this.clients.size, ...this.counters };
  }

  /** A new browser: refuses it past MAX_CLIENTS, else sends it a first update at once. */
  add(socket: WebSocket, filterInput: unknown): void {
    if (this.clients.size >= (this.options.maxClients ?? MAX_CLIENTS)) {
      socket.close(1013, 'too many dashboard clients');
      return;
    }
    const client: Client = { socket, filter: new PacketFilter(), view: undefined, sentSeq: -1, sentVersion: -1, sentView: undefined, sentAt: 0, slowSince: 0 };
    this.clients.add(client);
    socket.on('message', (data, isBinary) => this.onMessage(client, data as Buffer, isBinary));
    socket.on('close', () => this.remove(client));
    socket.on('error', (err) => {
      this.logger.debug({ err }, 'dashboard client socket error');
      this.remove(client);
    });
    this.setFilter(client, filterInput);
    this.send(client, this.clock.now(), new Map());
  }

  private remove(client: Client): void {
    if (!this.clients.delete(client)) return;
    if (client.view) client.view.watchers--;
  }

  private onMessage(client: Client, data: Buffer, isBinary: boolean): void {
    let message: z.infer<typeof clientMessage>;
    try {
      if (isBinary) throw new Error('binary message');
      message = clientMessage.parse(JSON.parse(data.toString('utf8')));
    } catch {
      this.reply(client, { type: 'error', message: 'bad message' });
      return;
    }
    if (message.type === 'pause') this.ingest.pause();
    else if (message.type === 'resume') this.ingest.resume();
    else if (this.setFilter(client, message.filter)) this.send(client, this.clock.now(), new Map());
  }

  /** Point the client at the view of a filter; a bad filter gets an error message and changes nothing. */
  private setFilter(client: Client, input: unknown): boolean {
    try {
      const filter = PacketFilter.parse(input);
      const view = this.ingest.aggregates.view(filter, this.clock.now());
      if (client.view) client.view.watchers--;
      view.watchers++;
      client.filter = filter;
      client.view = view;
      client.sentSeq = -1;
      return true;
    } catch (err) {
      this.reply(client, { type: 'error', message: isWirelabError(err) ? err.message : 'bad filter' });
      return false;
    }
  }

  private reply(client: Client, message: object): void {
    if (client.socket.readyState === client.socket.OPEN && client.socket.bufferedAmount < (this.options.maxBuffer ?? MAX_CLIENT_BUFFER)) {
      client.socket.send(JSON.stringify(message));
    }
  }

  /** One round: every client due and behind gets the latest picture. */
  private round(): void {
    const now = this.clock.now();
    const shared = new Map<TrafficView, string>();
    for (const client of this.clients) {
      if (now - client.sentAt < this.intervalMs) continue;
      if (client.sentVersion === this.ingest.version && client.sentView === this.ingest.aggregates.peekView(client.filter)) continue;
      this.send(client, now, shared);
    }
    this.ingest.aggregates.evictIdle(now);
  }

  /** The client's view in the current aggregates (an upload replaces them: the view is built again). */
  private viewOf(client: Client, now: number): TrafficView {
    const aggregates = this.ingest.aggregates;
    const view = aggregates.view(client.filter, now);
    if (view !== client.view) {
      if (client.view) client.view.watchers--;
      view.watchers++;
      client.view = view;
      client.sentSeq = -1;
    }
    return view;
  }

  private send(client: Client, now: number, shared: Map<TrafficView, string>): void {
    const socket = client.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > (this.options.maxBuffer ?? MAX_CLIENT_BUFFER)) {
      this.counters.updatesSkipped++;
      client.slowSince ||= now;
      if (now - client.slowSince > (this.options.slowMs ?? SLOW_CLIENT_MS)) {
        this.counters.slowDisconnects++;
        socket.terminate();
        this.remove(client);
      }
      return;
    }
    client.slowSince = 0;
    let view: TrafficView;
    try {
      view = this.viewOf(client, now);
    } catch (err) {
      this.reply(client, { type: 'error', message: isWirelabError(err) ? err.message : 'view failed' });
      return;
    }
    let json = shared.get(view);
    if (json === undefined) {
      json = JSON.stringify(sharedUpdate(this.ingest, view, now, this.baselineTarget));
      shared.set(view, json);
    }
    const packets = view.packetsAfter(client.sentSeq, UPDATE_PACKET_ROWS);
    const message = updateJson(json, packets, view.lastSeq);
    client.sentSeq = view.lastSeq;
    client.sentVersion = this.ingest.version;
    client.sentView = view;
    client.sentAt = now;
    this.counters.updatesSent++;
    this.counters.bytesSent += message.length;
    socket.send(message);
  }
}
