/**
 * `wirelab analyze`: packets from an interface (live, through tcpdump) or a capture file, one line
 * each (NDJSON under --json), optionally written to a capture file, with a summary at the end.
 */
import { Option, type Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import {
  CaptureWriter,
  LiveCapture,
  chooseEngine,
  decodePacket,
  type CaptureEngine,
  readCaptureFile,
  readCaptureFileInto,
  type RawPacket,
  type ReadProgress,
} from '../capture/index.js';
import { WirelabError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { addOutputOptions, commandLogger, nonNegativeInt, positiveInt, untilStopped, type OutputOptions } from './shared.js';
import type { AnomalyDetectorOptions } from '../analysis/index.js';
import { FileConsumer, PacketPrinter, StatsConsumer, StatsSink, type PacketConsumer } from './analyze-consumers.js';
import { AnomalyConsumer } from './analyze-anomalies.js';
import { PeriodicTask } from '../common/lifecycle.js';

interface AnalyzeFlags extends OutputOptions {
  interface?: string;
  read?: string;
  filter?: string;
  count?: number;
  write?: string;
  stats?: boolean;
  anomalies?: boolean;
  packets?: boolean;
  statsInterval: number;
  baselinePackets?: number;
  baselineFlows?: number;
  warmup?: number;
  engine: CaptureEngine | 'auto';
  immediate?: boolean;
}

/** Live capture's filter when none is given: the seed analyzer looked at IP traffic of TCP and UDP. */
const DEFAULT_LIVE_FILTER = 'udp or tcp';

/** Decodes each packet once, hands it to every consumer, counts, and stops at --count. */
class Pipeline {
  packets = 0;
  /** bytes on the wire */
  bytes = 0;
  full = false;

  constructor(
    private readonly printer: PacketPrinter,
    private readonly consumers: PacketConsumer[],
    private readonly limit: number | undefined,
  ) {}

  get done(): boolean {
    return (this.limit !== undefined && this.packets >= this.limit) || this.printer.closed;
  }

  /** Feed a batch; returns how far it got (it stops at the count). */
  feed(batch: readonly RawPacket[]): void {
    for (const raw of batch) {
      if (this.done) return;
      const summary = decodePacket(raw);
      this.packets++;
      this.bytes += raw.originalLength;
      for (const consumer of this.consumers) if (!consumer.accept(raw, summary)) this.full = true;
    }
  }

  async drained(): Promise<void> {
    this.full = false;
    await Promise.all(this.consumers.map((c) => c.drained()));
  }

  async finish(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.finish()));
  }
}

/** IFF_UP in /sys/class/net/IF/flags (linux/if.h) */
const IFF_UP = 0x1;

/** Is the interface administratively up? Where sysfs cannot say, it is taken as up. */
function isUp(name: string): boolean {
  try {
    return (Number.parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8'), 16) & IFF_UP) !== 0;
  } catch {
    return true;
  }
}

/** The first interface that is up and has a non-loopback address (the seed's default). */
function defaultInterface(): string {
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    if (infos?.some((i) => !i.internal) && isUp(name)) return name;
  }
  throw new WirelabError('E_USAGE', 'no non-loopback interface is up: name one with --interface');
}

function progressBar(flags: AnalyzeFlags): ((p: ReadProgress) => void) & { stop(): void } {
  // only when stderr is a terminal and the packet lines go elsewhere: a bar between lines garbles both
  const show = process.stderr.isTTY === true && process.stdout.isTTY !== true && flags.json !== true;
  if (!show) return Object.assign(() => undefined, { stop: () => undefined });
  const bar = new SingleBar({ stream: process.stderr, format: 'reading {bar} {percentage}% | {value}/{total} bytes', hideCursor: true });
  let started = false;
  const update = (p: ReadProgress): void => {
    if (!started) bar.start(p.totalBytes, 0);
    started = true;
    bar.update(p.bytesRead);
  };
  return Object.assign(update, { stop: () => (started ? bar.stop() : undefined) });
}

async function readFile(path: string, pipeline: Pipeline, flags: AnalyzeFlags): Promise<void> {
  let stopped = false;
  void untilStopped().then(() => (stopped = true));
  const progress = progressBar(flags);
  try {
    for await (const batch of readCaptureFile(path, { onProgress: progress })) {
      pipeline.feed(batch);
      if (pipeline.full) await pipeline.drained();
      if (pipeline.done || stopped) break;
    }
  } finally {
    progress.stop();
  }
}

/** --stats alone on a file: the callback reader and the lean field decoder, no per-packet objects. */
async function readFileForStats(path: string, stats: StatsConsumer, pipeline: Pipeline, flags: AnalyzeFlags): Promise<void> {
  let stopped = false;
  void untilStopped().then(() => (stopped = true));
  const progress = progressBar(flags);
  const sink = new StatsSink(stats, flags.count);
  try {
    await readCaptureFileInto(path, sink, { onProgress: progress, stop: () => sink.done || stopped });
  } finally {
    progress.stop();
    pipeline.packets = sink.packets;
    pipeline.bytes = sink.bytes;
  }
}

/** Packets through tcpdump: live from an interface, or a file filtered by tcpdump's BPF. */
async function viaTcpdump(capture: LiveCapture, pipeline: Pipeline, logger: Logger, onStarted: () => void): Promise<LiveCapture> {
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
  return capture;
}

function summaryLine(pipeline: Pipeline, capture: LiveCapture | undefined, live: boolean): [Record<string, unknown>, string] {
  const stats = capture?.stats();
  const fields: Record<string, unknown> = { packets: pipeline.packets, bytes: pipeline.bytes };
  let human = `Summary: ${pipeline.packets} packets, ${pipeline.bytes} bytes`;
  if (live) {
    fields.droppedByKernel = stats?.droppedByKernel ?? null;
    fields.receivedByFilter = stats?.receivedByFilter ?? null;
    human += `, ${stats?.droppedByKernel ?? 'unknown'} dropped by kernel`;
  }
  return [fields, human];
}

async function runAnalyze(flags: AnalyzeFlags): Promise<void> {
  const logger = commandLogger(flags, 'analyze');
  const printer = new PacketPrinter(flags.json === true, flags.read === undefined);
  // With --stats or --anomalies the per-packet lines are off unless --packets asks for them.
  const consumers: PacketConsumer[] = flags.packets || (!flags.stats && !flags.anomalies) ? [printer] : [];
  const stats = flags.stats ? new StatsConsumer() : undefined;
  if (stats) consumers.push(stats);
  if (flags.anomalies) {
    const options: AnomalyDetectorOptions = { baselinePackets: flags.baselinePackets, baselineFlows: flags.baselineFlows, warmup: flags.warmup };
    consumers.push(new AnomalyConsumer(printer, flags.json === true, options));
  }
  let writer: CaptureWriter | undefined;
  if (flags.write !== undefined) {
    writer = new CaptureWriter({ path: flags.write });
    await writer.start();
    consumers.push(new FileConsumer(writer));
  }
  const pipeline = new Pipeline(printer, consumers, flags.count);
  const live = flags.read === undefined;
  const periodic = stats && live ? new PeriodicTask(flags.statsInterval * 1000, () => stats.report(printer, flags.json === true, false), (err) => logger.error({ err }, 'stats')) : undefined;
  periodic?.start();
  let capture: LiveCapture | undefined;
  let failure: Error | undefined;
  try {
    if (flags.read !== undefined && flags.filter === undefined && stats && consumers.length === 1) await readFileForStats(flags.read, stats, pipeline, flags);
    else if (flags.read !== undefined && flags.filter === undefined) await readFile(flags.read, pipeline, flags);
    else {
      const source = live
        ? { interface: flags.interface ?? defaultInterface(), filter: flags.filter ?? DEFAULT_LIVE_FILTER, engine: chooseEngine(flags.engine), immediate: flags.immediate === true }
        : { readFile: flags.read, filter: flags.filter };
      capture = new LiveCapture(source, { logger });
      const started = (): void => {
        // tells scripts and tests the capture is up (live traffic from now on is seen)
        if (flags.json) printer.print(JSON.stringify({ event: 'started', ...source }));
        else logger.info(source, 'capturing');
      };
      await viaTcpdump(capture, pipeline, logger, started);
    }
  } catch (err) {
    failure = err instanceof Error ? err : new WirelabError('E_DECODE', String(err));
  }
  periodic?.stop();
  await pipeline.finish();
  stats?.report(printer, flags.json === true, true);
  // a source that never opened (no such file, not a capture, no tcpdump) gets its error alone
  if (failure && pipeline.packets === 0) throw failure;
  const [fields, human] = summaryLine(pipeline, capture, live);
  if (flags.json) printer.print(JSON.stringify({ event: 'summary', ...fields }));
  else printer.print(human);
  if (failure) throw failure;
}

export function register(program: Command): void {
  const command = program
    .command('analyze')
    .description('capture and decode packets from an interface or a pcap/pcapng file')
    .addOption(new Option('-i, --interface <if>', 'capture live on this interface (default: the first non-loopback one)').conflicts('read'))
    .option('-r, --read <file>', 'read packets from a pcap or pcapng file')
    .option('-f, --filter <bpf>', `BPF filter (live default '${DEFAULT_LIVE_FILTER}'; with --read, applied by tcpdump)`)
    .option('-c, --count <n>', 'stop after N packets', positiveInt('--count'))
    .option('--immediate', 'live: show each packet the moment it arrives (tcpdump engine; drops sooner at high rates; default: blocks at most 1 s old)')
    .addOption(new Option('--engine <tool>', 'live capture tool: tcpdump, dumpcap, or auto (tcpdump when installed, else dumpcap)').choices(['tcpdump', 'dumpcap', 'auto']).default('auto'))
    .option('-w, --write <file>', 'also write the packets to FILE (.pcap: pcap, otherwise pcapng)')
    .option('--stats', 'traffic statistics: volume, average size, protocols, sizes by protocol, top talkers')
    .option('--anomalies', 'report abnormal packets and flows (Isolation Forest over a learnt baseline)')
    .option('--packets', 'print every packet too, with --stats or --anomalies')
    .addOption(new Option('--stats-interval <s>', 'seconds between statistics of a live capture').default(10).argParser(positiveInt('--stats-interval')))
    .addOption(new Option('--baseline-packets <n>', 'packets learnt as normal before scoring (default 5000)').argParser(positiveInt('--baseline-packets')))
    .addOption(new Option('--baseline-flows <n>', 'finished flows learnt as normal before scoring (default 500)').argParser(positiveInt('--baseline-flows')))
    .addOption(new Option('--warmup <s>', 'seconds of traffic ignored before learning (default 15)').argParser(nonNegativeInt('--warmup')));
  addOutputOptions(command).action(runAnalyze);
}
