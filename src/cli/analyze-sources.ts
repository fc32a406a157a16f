/**
 * Where `wirelab analyze` gets its packets: a capture file or stdin (`-r -`), read by our own reader
 * and filtered by our own BPF interpreter, or a live interface through tcpdump/dumpcap (whose kernel
 * filter applies the expression). Also the interface list of `-D`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { readCaptureFileInto, type LiveCapture, type PacketFilter, type PacketSummary, type RawPacket, type ReadProgress } from '../capture/index.js';
import { WirelabError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { untilStopped } from './shared.js';
import type { PacketConsumer, PacketPrinter } from './analyze-consumers.js';

/** Decodes each packet that passes the filter once, hands it to every consumer, counts, and stops at --count. */
export class Pipeline {
  packets = 0;
  /** bytes on the wire */
  bytes = 0;
  full = false;

  constructor(
    private readonly printer: PacketPrinter,
    private readonly consumers: PacketConsumer[],
    private readonly limit: number | undefined,
    private readonly filter: PacketFilter | undefined,
    private readonly decode: (raw: RawPacket) => PacketSummary,
  ) {
    this.printerOnly = consumers.length === 1 && consumers[0] === printer;
  }

  /** The fewest packets a consumer takes past saying "full" (PacketConsumer.slack), if any has a limit. */
  get slack(): number | undefined {
    const limits = this.consumers.map((c) => c.slack).filter((s): s is number => s !== undefined);
    return limits.length > 0 ? Math.min(...limits) : undefined;
  }

  /** the printer is the only consumer: packet lines may come from the fast writer */
  private readonly printerOnly: boolean;

  get done(): boolean {
    return (this.limit !== undefined && this.packets >= this.limit) || this.printer.closed;
  }

  /** Feed a batch; it stops at the count. */
  feed(batch: readonly RawPacket[]): void {
    for (const raw of batch) {
      if (this.done) return;
      this.feedOne(raw);
    }
  }

  /**
   * One packet from the reader's buffer: filtered, then printed by the fast line writer when the
   * printer is the only consumer and takes it, else decoded into `raw` (one object, reused) and fed.
   */
  feedBytes(raw: RawPacket, buf: Buffer, at: number, capturedLength: number, originalLength: number, tsSec: number, tsNsec: number, linkType: number, interfaceId: number, index: number): void {
    if (this.filter !== undefined && !this.filter.matches(linkType, buf, at, capturedLength, originalLength)) return;
    if (this.printerOnly && this.printer.tryFast(buf, at, capturedLength, originalLength, tsSec, tsNsec, linkType, index)) {
      this.packets++;
      this.bytes += originalLength;
      if (this.printer.full) this.full = true;
      return;
    }
    raw.index = index;
    raw.linkType = linkType;
    raw.tsSec = tsSec;
    raw.tsNsec = tsNsec;
    raw.originalLength = originalLength;
    raw.data = buf.subarray(at, at + capturedLength);
    raw.interfaceId = interfaceId;
    this.decodeAndFeed(raw);
  }

  /** One packet (the caller checks `done` first); no consumer keeps `raw` past the call. */
  feedOne(raw: RawPacket): void {
    if (this.filter !== undefined && !this.filter.matches(raw.linkType, raw.data, 0, raw.data.length, raw.originalLength)) return;
    this.decodeAndFeed(raw);
  }

  private decodeAndFeed(raw: RawPacket): void {
    const summary = this.decode(raw);
    this.packets++;
    this.bytes += raw.originalLength;
    const consumers = this.consumers;
    for (let i = 0; i < consumers.length; i++) if (!consumers[i]!.accept(raw, summary)) this.full = true;
  }

  async drained(): Promise<void> {
    this.full = false;
    await Promise.all(this.consumers.map((c) => c.drained()));
  }

  async finish(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.finish()));
  }
}

/** IFF_UP and IFF_RUNNING in /sys/class/net/IF/flags (linux/if.h) */
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFF_LOOPBACK = 0x8;

function interfaceFlags(name: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8'), 16);
  } catch {
    return undefined;
  }
}

/** The first interface that is up and has a non-loopback address (the seed's default). */
export function defaultInterface(): string {
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    if (infos?.some((i) => !i.internal) && ((interfaceFlags(name) ?? IFF_UP) & IFF_UP) !== 0) return name;
  }
  throw new WirelabError('E_USAGE', 'no non-loopback interface is up: name one with --interface');
}

/** One interface as `-D` lists it. */
export interface InterfaceInfo {
  number: number;
  name: string;
  up: boolean;
  running: boolean;
  loopback: boolean;
  addresses: string[];
}

/** Every interface of this network namespace (sysfs, with addresses from the OS), then `any`, as tcpdump -D. */
export function listInterfaces(): InterfaceInfo[] {
  const addresses = networkInterfaces();
  let names: string[];
  try {
    names = readdirSync('/sys/class/net');
  } catch {
    names = Object.keys(addresses);
  }
  names.sort((a, b) => a.localeCompare(b));
  const list = names.map((name, i) => {
    const flags = interfaceFlags(name) ?? IFF_UP;
    return {
      number: i + 1,
      name,
      up: (flags & IFF_UP) !== 0,
      running: (flags & IFF_RUNNING) !== 0,
      loopback: (flags & IFF_LOOPBACK) !== 0,
      addresses: (addresses[name] ?? []).map((a) => a.address),
    };
  });
  list.push({ number: list.length + 1, name: 'any', up: true, running: true, loopback: false, addresses: [] });
  return list;
}

/** "1.eth0 [Up, Running] 10.0.0.2 fe80::1", tcpdump -D's line with the addresses added. */
export function interfaceLine(i: InterfaceInfo): string {
  const states = [i.up ? 'Up' : 'Down', ...(i.running ? ['Running'] : []), ...(i.loopback ? ['Loopback'] : [])];
  const note = i.name === 'any' ? '(pseudo-device that captures on all interfaces)' : i.addresses.join(' ');
  return `${i.number}.${i.name} [${states.join(', ')}]${note === '' ? '' : ' ' + note}`;
}

/** A progress bar on stderr, only when stderr is a terminal and the packet lines go elsewhere (cli-progress loaded only then). */
export async function progressBar(json: boolean): Promise<((p: ReadProgress) => void) & { stop(): void }> {
  const show = process.stderr.isTTY === true && process.stdout.isTTY !== true && !json;
  if (!show) return Object.assign(() => undefined, { stop: () => undefined });
  const { SingleBar } = await import('cli-progress');
  const bar = new SingleBar({ stream: process.stderr, format: 'reading {bar} {percentage}% | {value}/{total} bytes', hideCursor: true });
  let started = false;
  const update = (p: ReadProgress): void => {
    if (!started) bar.start(p.totalBytes, 0);
    started = true;
    bar.update(p.bytesRead);
  };
  return Object.assign(update, { stop: () => (started ? bar.stop() : undefined) });
}

/**
 * A file (or stdin) through the pipeline, honouring the consumers' backpressure. The reader's buffer
 * is read into again and again and one RawPacket object is reused: the consumers copy what they keep
 * (the printer and the statistics keep text and numbers, the file writer copies the bytes at once).
 */
export async function readFile(path: string, pipeline: Pipeline, json: boolean): Promise<void> {
  let stopped = false;
  void untilStopped().then(() => (stopped = true));
  const progress = await progressBar(json);
  const raw: RawPacket = { index: 0, linkType: 0, tsSec: 0, tsNsec: 0, originalLength: 0, data: Buffer.alloc(0), interfaceId: 0 };
  let index = 0;
  const sink = {
    packet(buf: Buffer, at: number, capturedLength: number, originalLength: number, tsSec: number, tsNsec: number, linkType: number, interfaceId: number): void {
      index++;
      if (!pipeline.done) pipeline.feedBytes(raw, buf, at, capturedLength, originalLength, tsSec, tsNsec, linkType, interfaceId, index);
    },
  };
  try {
    const slack = pipeline.slack;
    await readCaptureFileInto(path, sink, {
      // a record takes at least 16 bytes: a chunk of 16 x slack bytes never overfills a consumer
      chunkBytes: slack === undefined ? undefined : Math.max(4096, slack * 16),
      onProgress: progress,
      stop: () => pipeline.done || stopped,
      pause: () => (pipeline.full ? pipeline.drained() : undefined),
    });
  } finally {
    progress.stop();
  }
}

/** Packets from a live capture until it ends, --count is reached, or the user stops it. */
export async function readLive(capture: LiveCapture, pipeline: Pipeline, logger: Logger, onStarted: () => void): Promise<void> {
  let failure: WirelabError | undefined;
  let finished: () => void = () => undefined;
  const ended = new Promise<string>((resolve) => (finished = () => resolve('end')));
  capture.on('packet', (raw) => {
    pipeline.feed([raw]);
    if (pipeline.done) finished();
    else if (pipeline.full) {
      capture.pause();
      void pipeline.drained().then(() => capture.resume());
    }
  });
  capture.on('error', (err) => {
    failure ??= err;
    finished();
  });
  capture.on('end', finished);
  // listen for Ctrl-C before announcing the start: the announcement is written at once, and a
  // reader that answers it with SIGINT must not find the default handler (which kills the process)
  const stopped = untilStopped();
  await capture.start();
  onStarted();
  const why = await Promise.race([ended, stopped]);
  logger.debug({ why }, 'capture stopping');
  await capture.close();
  if (failure) throw failure;
}
