/**
 * Where the dashboard's packets come from, and where they go: a capture file (read to its end), an
 * uploaded file (in memory), or a live capture (tcpdump/dumpcap through capture's LiveCapture). Each
 * packet is decoded once by capture's decoder, counted into the Aggregates and handed to the
 * analyzer's AnomalyWorker. One source at a time: a new one (an upload) replaces the old and its data.
 */
import { EventEmitter } from 'node:events';
import {
  CaptureReader,
  LiveCapture,
  chooseEngine,
  decodePacket,
  readCaptureFile,
  type CaptureEngine,
  type RawPacket,
} from '../capture/index.js';
import { AnomalyWorker, type AnomalyDetectorOptions } from '../analysis/index.js';
import { WirelabError } from '../common/errors.js';
import { silentLogger, type Logger } from '../common/log.js';
import { Aggregates, type AggregatesOptions } from './aggregates.js';

/** What the page says about the source. */
export interface SourceInfo {
  kind: 'none' | 'file' | 'upload' | 'live';
  /** file name or interface */
  name: string;
  /** BPF filter of a live capture */
  bpf?: string;
  state: 'idle' | 'starting' | 'running' | 'done' | 'error' | 'stopped';
  error?: string;
  /** live: packets the kernel dropped (known once the capture tool exits) */
  droppedByKernel?: number;
}

export interface IngestOptions {
  /** run the Isolation Forest detector (default true) */
  anomalies?: boolean;
  detector?: Omit<AnomalyDetectorOptions, 'onScore'>;
  aggregates?: AggregatesOptions;
  engine?: CaptureEngine | 'auto';
  /** live: hand over each packet at once (tcpdump's immediate mode) */
  immediate?: boolean;
}

export interface IngestEvents {
  /** a file or upload was read to its end (or failed): info.state says which */
  done: [SourceInfo];
  /** anything the page shows changed */
  changed: [];
}

/** Uploaded bytes are parsed in slices of this size, yielding to the event loop between them. */
const UPLOAD_SLICE_BYTES = 1024 * 1024;

export class Ingest extends EventEmitter<IngestEvents> {
  aggregates: Aggregates;
  source: SourceInfo = { kind: 'none', name: '', state: 'idle' };
  paused = false;
  /** live packets not counted because the dashboard was paused */
  skippedWhilePaused = 0;
  /** bumped on every change: clients compare it with what they were last sent */
  version = 0;
  private worker: AnomalyWorker | undefined;
  private capture: LiveCapture | undefined;
  private generation = 0;
  private resumeWaiters: (() => void)[] = [];
  private running: Promise<void> = Promise.resolve();
  private readonly logger: Logger;

  constructor(
    private readonly options: IngestOptions = {},
    deps: { logger?: Logger } = {},
  ) {
    super();
    this.logger = deps.logger ?? silentLogger;
    this.aggregates = new Aggregates(options.aggregates);
  }

  /** The detector's counters (null when it is off or not started). */
  detectorStats(): ReturnType<AnomalyWorker['stats']> | null {
    return this.worker?.stats() ?? null;
  }

  pause(): void {
    this.paused = true;
    this.touch();
  }

  resume(): void {
    this.paused = false;
    for (const wake of this.resumeWaiters.splice(0)) wake();
    this.touch();
  }

  /** Read a capture file to its end (in the background: `done` says when). */
  async readFile(path: string, kind: 'file' | 'upload' = 'file', name = path): Promise<void> {
    const generation = await this.reset({ kind, name, state: 'running' });
    this.running = this.consume(generation, readCaptureFile(path));
  }

  /** Read an uploaded capture held in memory; resolves when it has been read (rejects on a damaged file, keeping its good packets). */
  async readBuffer(bytes: Buffer, name: string): Promise<void> {
    const generation = await this.reset({ kind: 'upload', name, state: 'running' });
    this.running = this.consume(generation, sliceReader(bytes));
    await this.running;
    if (this.source.state === 'error') throw new WirelabError('E_DECODE', this.source.error ?? 'bad capture');
  }

  /** Capture live on an interface; resolves once the capture tool has started. */
  async live(iface: string, bpf: string | undefined): Promise<void> {
    const generation = await this.reset({ kind: 'live', name: iface, bpf, state: 'starting' });
    const capture = new LiveCapture(
      { interface: iface, filter: bpf, engine: chooseEngine(this.options.engine ?? 'auto'), immediate: this.options.immediate === true },
      { logger: this.logger },
    );
    this.capture = capture;
    capture.on('packet', (raw) => {
      if (generation !== this.generation) return;
      if (this.paused) this.skippedWhilePaused++;
      else this.take(raw);
    });
    capture.on('error', (err) => this.finish(generation, err));
    capture.on('end', () => {
      if (generation !== this.generation) return;
      this.source.droppedByKernel = capture.stats().droppedByKernel;
      if (this.source.state === 'running') this.finish(generation, undefined, 'stopped');
    });
    try {
      await capture.start();
    } catch (err) {
      this.finish(generation, err);
      throw err;
    }
    if (generation === this.generation) this.source.state = 'running';
    this.touch();
  }

  /** Stop the source and the detector (idempotent). */
  async close(): Promise<void> {
    // the capture first, still counting: at its stop it delivers the kernel's last block
    await this.stopSource();
    this.generation++;
    this.resume();
    await this.running.catch(() => undefined);
  }

  /** Stop what runs, start afresh: new aggregates, a new detector. Returns the new generation. */
  private async reset(source: SourceInfo): Promise<number> {
    const generation = ++this.generation;
    for (const wake of this.resumeWaiters.splice(0)) wake();
    await this.stopSource();
    await this.running.catch(() => undefined);
    this.aggregates = new Aggregates(this.options.aggregates);
    this.source = source;
    this.skippedWhilePaused = 0;
    if (this.options.anomalies !== false) {
      const aggregates = this.aggregates;
      const worker = new AnomalyWorker({ detector: this.options.detector });
      worker.on('anomaly', (a) => {
        aggregates.addAnomaly(a);
        this.touch();
      });
      worker.on('error', (err) => this.logger.warn({ err }, 'anomaly detector failed'));
      this.worker = worker;
      worker.start().catch((err: unknown) => this.logger.warn({ err }, 'anomaly detector did not start'));
    }
    this.touch();
    return generation;
  }

  private async stopSource(): Promise<void> {
    const capture = this.capture;
    const worker = this.worker;
    this.capture = undefined;
    this.worker = undefined;
    if (capture) {
      await capture.close();
      this.source.droppedByKernel = capture.stats().droppedByKernel;
      if (this.source.state === 'running') this.source.state = 'stopped';
    }
    await worker?.close();
  }

  private take(raw: RawPacket): void {
    const summary = decodePacket(raw);
    this.aggregates.ingest(raw, summary);
    this.worker?.push(summary);
    this.version++;
  }

  /** Feed batches from a file or an upload, at the detector's pace, pausing while paused. */
  private async consume(generation: number, batches: AsyncIterable<RawPacket[]>): Promise<void> {
    try {
      for await (const batch of batches) {
        if (generation !== this.generation) return;
        for (const raw of batch) this.take(raw);
        await this.worker?.drained().catch(() => undefined);
        while (this.paused && generation === this.generation) await new Promise<void>((wake) => this.resumeWaiters.push(wake));
        if (generation !== this.generation) return;
      }
      if (generation !== this.generation) return;
      this.aggregates.endOfInput();
      await this.worker?.flush().catch((err: unknown) => this.logger.warn({ err }, 'anomaly detector flush failed'));
      this.finish(generation, undefined, 'done');
    } catch (err) {
      this.aggregates.endOfInput();
      this.finish(generation, err);
    }
  }

  private finish(generation: number, err: unknown, state: SourceInfo['state'] = 'error'): void {
    if (generation !== this.generation) return;
    this.source.state = err === undefined ? state : 'error';
    if (err !== undefined) this.source.error = err instanceof Error ? err.message : 'capture failed';
    this.touch();
    if (this.source.kind !== 'live') this.emit('done', { ...this.source });
  }

  private touch(): void {
    this.version++;
    this.emit('changed');
  }
}

/** An in-memory capture as batches, a slice at a time (the event loop runs between slices). */
async function* sliceReader(bytes: Buffer): AsyncGenerator<RawPacket[]> {
  const reader = new CaptureReader();
  for (let at = 0; at < bytes.length; at += UPLOAD_SLICE_BYTES) {
    const packets = reader.push(bytes.subarray(at, at + UPLOAD_SLICE_BYTES));
    if (packets.length > 0) yield packets;
    await new Promise((resolve) => setImmediate(resolve));
  }
  reader.end();
}
