/**
 * Anomaly detection off the capture's thread: AnomalyWorker (main thread) gathers packets into
 * column batches (packet-columns.ts) and posts them to a worker thread (detector-worker.ts) that owns
 * the AnomalyDetector; the anomalies come back as messages, in packet order, and are emitted as
 * 'anomaly' events. Batches in flight are bounded: push() returns false when the worker is behind
 * (await drained(), as with a stream's write()); a caller that pushes on regardless has its packets
 * skipped and counted, never queued without bound. This is an IO component (a thread), although it
 * lives beside the pure detector it drives.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { PacketSummary } from '../capture/types.js';
import { WirelabError, type ErrorCode } from '../common/errors.js';
import { systemClock, type Clock } from '../common/lifecycle.js';
import type { Anomaly, AnomalyDetectorOptions, AnomalyDetectorStats } from './anomaly.js';
import { PacketColumnsWriter, type PacketColumns } from './packet-columns.js';
import type { Novelty } from './novelty.js';

/** Packets per message to the worker. */
export const DEFAULT_WORKER_BATCH = 4096;
/** Batches posted and not yet answered, at most. */
export const DEFAULT_MAX_IN_FLIGHT = 4;
/** ms a partly filled batch waits for more packets before it is sent anyway (live capture). */
export const DEFAULT_BATCH_DELAY_MS = 200;
/** ms the worker thread may take to start. */
const START_TIMEOUT_MS = 30_000;

export type WorkerRequest = { type: 'batch'; seq: number; packets: PacketColumns } | { type: 'flush' };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; seq: number; anomalies: Anomaly[]; novelties: Novelty[]; stats: AnomalyDetectorStats }
  | { type: 'flushed'; anomalies: Anomaly[]; novelties: Novelty[]; stats: AnomalyDetectorStats }
  | { type: 'failed'; code: ErrorCode; message: string };

export interface AnomalyWorkerOptions {
  /** the detector's options (onScore cannot cross threads) */
  detector?: Omit<AnomalyDetectorOptions, 'onScore'>;
  /** packets per message (default 4096) */
  batchSize?: number;
  /** batches in flight at most (default 4) */
  maxInFlight?: number;
  /** ms before a partly filled batch is sent (default 200) */
  batchDelayMs?: number;
}

export interface AnomalyWorkerEvents {
  anomaly: [Anomaly];
  /** a new host, service or MAC for an IP address, once each (in packet order among the anomalies) */
  novelty: [Novelty];
  error: [WirelabError];
}

export interface AnomalyWorkerStats {
  /** packets taken by push() */
  packets: number;
  /** packets dropped because the worker was behind and the caller did not wait */
  skipped: number;
  batchesSent: number;
  batchesInFlight: number;
  anomalies: number;
  /** the detector's counters as of its last answer */
  detector: AnomalyDetectorStats | undefined;
}

/**
 * The worker thread's bootstrap (run with `eval`, as a script or, under --input-type=module, as a
 * module: hence dynamic imports only): in a checkout, where the entry is a .ts
 * source, it first registers tsx's loader in the worker (a worker does not inherit the main
 * thread's loader hooks, and Node 20 ignores `--import tsx` in a worker's execArgv), then imports
 * the entry. Installed from dist/, the loader is not needed.
 */
const BOOTSTRAP = `(async () => {
  const { workerData } = await import('node:worker_threads');
  if (workerData.loader) (await import(workerData.loader)).register();
  await import(workerData.entry);
})();`;

/** What the bootstrap needs: the worker's entry and, from sources, tsx's loader API (mirrors bin/wirelab.js). */
function workerEntry(): { entry: string; loader: string | undefined } {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './detector-worker.ts' : './detector-worker.js', import.meta.url).href;
  return { entry, loader: fromSource ? import.meta.resolve('tsx/esm/api') : undefined };
}

export class AnomalyWorker extends EventEmitter<AnomalyWorkerEvents> {
  private worker: Worker | undefined;
  private starting: Promise<void> | undefined;
  private readonly batch: PacketColumnsWriter;
  private readonly maxInFlight: number;
  private readonly delayMs: number;
  private readonly clock: Clock;
  private inFlight = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  /** the delay passed while the batch could not be sent: send it at the next answer */
  private due = false;
  private closed = false;
  private counters = { packets: 0, skipped: 0, batchesSent: 0, anomalies: 0 };
  private detectorStats: AnomalyDetectorStats | undefined;
  private drainWaiters: (() => void)[] = [];
  private flushWaiter: { resolve: (s: AnomalyDetectorStats) => void; reject: (e: WirelabError) => void } | undefined;

  constructor(
    private readonly options: AnomalyWorkerOptions = {},
    deps: { clock?: Clock } = {},
  ) {
    super();
    this.batch = new PacketColumnsWriter(options.batchSize ?? DEFAULT_WORKER_BATCH);
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1)
      throw new WirelabError('E_CONFIG', `maxInFlight must be >= 1, got ${this.maxInFlight}`);
    this.delayMs = options.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS;
    this.clock = deps.clock ?? systemClock;
  }

  /** Start the worker thread; resolves once its detector is built (rejects on bad options). */
  start(): Promise<void> {
    this.starting ??= this.launch();
    return this.starting;
  }

  private async launch(): Promise<void> {
    if (this.closed) throw new WirelabError('E_CLOSED', 'anomaly worker closed');
    // execArgv: none of the parent's flags (--test, --input-type, ...); the bootstrap loads tsx itself
    const worker = new Worker(BOOTSTRAP, { eval: true, execArgv: [], workerData: { ...workerEntry(), options: this.options.detector ?? {} } });
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = this.clock.setTimeout(() => reject(new WirelabError('E_TIMEOUT', 'anomaly worker did not start')), START_TIMEOUT_MS);
        const first = (m: WorkerReply): void => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'failed') reject(new WirelabError(m.code, m.message));
        };
        worker.once('message', first);
        worker.once('error', (err) => reject(new WirelabError('E_CONFIG', `anomaly worker: ${err.message}`, { cause: err })));
        worker.once('exit', (code) => reject(new WirelabError('E_CLOSED', `anomaly worker exited (${code}) while starting`)));
      });
      if (this.closed) throw new WirelabError('E_CLOSED', 'anomaly worker closed while starting');
    } catch (err) {
      this.closed = true;
      await worker.terminate();
      throw err;
    } finally {
      if (timer) this.clock.clearTimeout(timer);
    }
    this.worker = worker;
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    worker.on('error', (err) => this.fail(new WirelabError('E_CONFIG', `anomaly worker: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new WirelabError('E_CLOSED', `anomaly worker exited (${code})`));
    });
    this.holdOpen(); // after the listeners: listening for messages refs the worker's port again
    if (this.due) this.send(); // a partial batch whose delay passed while the thread was starting
  }

  /**
   * Take one packet. False when the worker is behind (or still starting): wait for drained()
   * before pushing more; packets pushed while the batch is full and nothing can be sent are skipped
   * (and counted).
   */
  push(p: PacketSummary): boolean {
    if (this.closed) return false;
    this.counters.packets++;
    if (this.batch.full && !this.send()) {
      this.counters.skipped++;
      return false;
    }
    this.batch.add(p);
    if (this.batch.full) this.send();
    else if (this.batch.count === 1 && this.timer === undefined)
      this.timer = this.clock.setTimeout(() => this.onDelay(), this.delayMs);
    return this.worker !== undefined && this.inFlight < this.maxInFlight;
  }

  /** Resolves when another batch can be sent (or the worker is closed); rejects if it failed to start. */
  async drained(): Promise<void> {
    if (!this.worker && this.starting) await this.starting;
    if (this.inFlight < this.maxInFlight || this.closed) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * End of input: send what is left, let the detector finish its open flows, and resolve with its
   * final counters once every anomaly has been emitted.
   */
  async flush(): Promise<AnomalyDetectorStats> {
    if (!this.worker || this.closed) throw new WirelabError('E_CLOSED', 'anomaly worker is not running');
    while (this.batch.count > 0) {
      await this.drained();
      if (this.closed) throw new WirelabError('E_CLOSED', 'anomaly worker closed');
      this.send();
    }
    const done = new Promise<AnomalyDetectorStats>((resolve, reject) => (this.flushWaiter = { resolve, reject }));
    this.post({ type: 'flush' });
    this.holdOpen();
    return done;
  }

  stats(): AnomalyWorkerStats {
    return { ...this.counters, batchesInFlight: this.inFlight, detector: this.detectorStats };
  }

  /** Stop the thread (idempotent); pending flush() and drained() settle. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.flushWaiter?.reject(new WirelabError('E_CLOSED', 'anomaly worker closed'));
    this.flushWaiter = undefined;
    this.wakeDrainers();
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  /** Post the current batch if fewer than maxInFlight are out; false if it has to wait. */
  private send(): boolean {
    if (this.batch.count === 0) return true;
    if (this.inFlight >= this.maxInFlight || !this.worker) {
      return false;
    }
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.due = false;
    const packets = this.batch.take();
    this.inFlight++;
    this.counters.batchesSent++;
    this.post({ type: 'batch', seq: this.seq++, packets }, [packets.numbers.buffer, packets.refs.buffer]);
    this.holdOpen();
    return true;
  }

  private post(message: WorkerRequest, transfer: ArrayBuffer[] = []): void {
    this.worker?.postMessage(message, transfer);
  }

  private onDelay(): void {
    this.timer = undefined;
    if (!this.send()) this.due = true;
  }

  private onReply(m: WorkerReply): void {
    switch (m.type) {
      case 'result':
        this.inFlight--;
        this.detectorStats = m.stats;
        this.emitAll(m.anomalies, m.novelties);
        if (this.due) this.send();
        if (this.inFlight < this.maxInFlight) this.wakeDrainers();
        this.holdOpen();
        break;
      case 'flushed':
        this.detectorStats = m.stats;
        this.emitAll(m.anomalies, m.novelties);
        this.flushWaiter?.resolve(m.stats);
        this.flushWaiter = undefined;
        this.holdOpen();
        break;
      case 'failed':
        this.fail(new WirelabError(m.code, m.message));
        break;
      case 'ready':
        break;
    }
  }

  /** Emit a batch's anomalies and novelty events merged in packet order (a novelty first at a tie). */
  private emitAll(anomalies: Anomaly[], novelties: Novelty[]): void {
    let n = 0;
    for (const a of anomalies) {
      while (n < novelties.length && novelties[n]!.index <= a.index) this.emit('novelty', novelties[n++]!);
      this.counters.anomalies++;
      this.emit('anomaly', a);
    }
    while (n < novelties.length) this.emit('novelty', novelties[n++]!);
  }

  private fail(err: WirelabError): void {
    const waiter = this.flushWaiter;
    this.flushWaiter = undefined;
    void this.close();
    if (waiter) waiter.reject(err);
    else this.emit('error', err);
  }

  /**
   * The thread keeps the process alive only while an answer is awaited: an idle worker that its
   * owner forgot to close (say, after an error elsewhere) must not stop the process from exiting.
   */
  private holdOpen(): void {
    if (this.inFlight > 0 || this.flushWaiter) this.worker?.ref();
    else this.worker?.unref();
  }

  private wakeDrainers(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }
}
