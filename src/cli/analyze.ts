/**
 * `wirelab analyze`: packets from an interface (live, through tcpdump or dumpcap) or a capture file
 * (or stdin), one line each (NDJSON under --json), filtered by a pcap-filter expression that wirelab
 * runs itself, optionally written to a capture file (or stdout), with statistics, flows, anomalies
 * and a summary at the end. Flags follow tcpdump's where tcpdump has one.
 */
import { Option, type Command } from 'commander';
import { CaptureWriter, LiveCapture, PacketFilter, chooseEngine, decodePacket, type CaptureEngine } from '../capture/index.js';
import { WirelabError } from '../common/errors.js';
import { addExamples, addOutputOptions, commandLogger, positiveInt, type OutputOptions } from './shared.js';
import { parseDuration } from './duration.js';
import { FileConsumer, PacketPrinter, type PacketConsumer } from './analyze-consumers.js';
import type { BaselinePlan } from './analyze-anomalies.js';
import type { FlowConsumer } from './analyze-flows.js';
import type { StatsConsumer } from './analyze-stats.js';
import { Pipeline, defaultInterface, interfaceLine, listInterfaces, readFile, readLive } from './analyze-sources.js';
import { count, grouped } from './analyze-text.js';
import { PeriodicTask } from '../common/lifecycle.js';

interface AnalyzeFlags extends OutputOptions {
  interface?: string;
  read?: string;
  filter?: string;
  count?: number;
  write?: string;
  stats?: boolean;
  anomalies?: boolean;
  flows?: boolean;
  packets?: boolean;
  top: number;
  statsInterval: number;
  baseline?: number;
  baselinePackets?: number;
  baselineFlows?: number;
  warmup?: number;
  engine: CaptureEngine | 'auto';
  immediate?: boolean;
  listInterfaces?: boolean;
  utc?: boolean;
  verbose?: boolean;
  n?: boolean;
}

const DEFAULT_BASELINE_PACKETS = 5_000;
const DEFAULT_BASELINE_FLOWS = 500;
/** s: the detector's own default warm-up (3 x its 5 s flow-rate time constant) */
const DEFAULT_WARMUP_S = 15;

/** A duration (parseDuration: units required), where zero is allowed too ("0s", "0"). */
function durationOrZero(value: string): number {
  return /^0+(\.0+)?(ms|s|m|h)?$/.test(value.trim()) ? 0 : parseDuration(value);
}

/** The filter: -f or the positional expression (as tcpdump takes it), not both. */
function filterExpression(flags: AnalyzeFlags, words: string[]): string | undefined {
  const positional = words.join(' ').trim();
  if (positional !== '' && flags.filter !== undefined) throw new WirelabError('E_USAGE', `a filter given twice: -f '${flags.filter}' and '${positional}'`);
  const expression = (flags.filter ?? positional).trim();
  return expression === '' ? undefined : expression;
}

function baselinePlan(flags: AnalyzeFlags): BaselinePlan {
  const short = flags.baseline !== undefined;
  const packets = flags.baseline ?? flags.baselinePackets ?? DEFAULT_BASELINE_PACKETS;
  return {
    baselinePackets: packets,
    baselineFlows: flags.baselineFlows ?? (short ? Math.max(10, Math.round(packets / 10)) : DEFAULT_BASELINE_FLOWS),
    // a short baseline is fitted from what the file has: no warm-up unless asked
    warmup: flags.warmup !== undefined ? flags.warmup / 1000 : short ? 0 : DEFAULT_WARMUP_S,
    short,
  };
}

/**
 * The consumers a run feeds, in order: lines, statistics, flows, anomalies, the capture file. Each
 * view's module (and the analysis code under it) is loaded only when its flag asks for it: start-up
 * counts when a file of a few packets is read.
 */
async function buildConsumers(flags: AnalyzeFlags, printer: PacketPrinter, writer: CaptureWriter | undefined): Promise<{ consumers: PacketConsumer[]; stats?: StatsConsumer; flows?: FlowConsumer }> {
  const analysing = flags.stats === true || flags.anomalies === true || flags.flows === true;
  // With --stats, --flows or --anomalies the packet lines are off unless --packets asks; -w - carries the capture on stdout
  const lines = flags.packets === true || (!analysing && flags.write === undefined);
  const consumers: PacketConsumer[] = lines ? [printer] : [];
  const stats = flags.stats ? new (await import('./analyze-stats.js')).StatsConsumer() : undefined;
  if (stats) {
    stats.top = flags.top;
    consumers.push(stats);
  }
  const flows = flags.flows ? new (await import('./analyze-flows.js')).FlowConsumer(printer) : undefined;
  if (flows) consumers.push(flows);
  if (flags.anomalies) {
    const plan = baselinePlan(flags);
    if (plan.short) process.stderr.write(`wirelab: warning: a baseline of ${count(plan.baselinePackets, 'packet')} (default ${grouped(DEFAULT_BASELINE_PACKETS)}) is a rough fit: expect false alarms\n`);
    consumers.push(new (await import('./analyze-anomalies.js')).AnomalyConsumer(printer, plan));
  }
  if (writer) consumers.push(new FileConsumer(writer));
  return { consumers, stats, flows };
}

async function runAnalyze(words: string[], flags: AnalyzeFlags): Promise<void> {
  if (flags.listInterfaces) {
    for (const i of listInterfaces()) process.stdout.write((flags.json ? JSON.stringify({ event: 'interface', time: Date.now() / 1000, ...i }) : interfaceLine(i)) + '\n');
    return;
  }
  const logger = commandLogger(flags, 'analyze');
  const live = flags.read === undefined;
  const expression = filterExpression(flags, words);
  // live: the capture tool's kernel filter; files and stdin: our interpreter, per link type
  const filter = expression !== undefined && !live ? new PacketFilter(expression, (lt, why) => process.stderr.write(`wirelab: warning: the filter cannot apply to link type ${lt} (${why}): its packets are left out\n`)) : undefined;
  filter?.check();
  // -w -: stdout carries the capture, so anything printed goes to stderr
  const printer = new PacketPrinter({ json: flags.json === true, eager: live, utc: flags.utc === true, verbose: flags.verbose === true, stream: flags.write === '-' ? process.stderr : process.stdout });
  let writer: CaptureWriter | undefined;
  if (flags.write !== undefined) {
    writer = new CaptureWriter({ path: flags.write });
    await writer.start();
  }
  const { consumers, stats, flows } = await buildConsumers(flags, printer, writer);
  const pipeline = new Pipeline(printer, consumers, flags.count, filter, (raw) => decodePacket(raw));
  const periodic = stats && live ? new PeriodicTask(flags.statsInterval, () => stats.report(printer, false), (err) => logger.error({ err }, 'stats')) : undefined;
  periodic?.start();
  let capture: LiveCapture | undefined;
  let failure: Error | undefined;
  try {
    if (!live && stats && consumers.length === 1) await (await import('./analyze-stats.js')).readFileForStats(flags.read!, stats, pipeline, flags.count, filter, flags.json === true);
    else if (!live) await readFile(flags.read!, pipeline, flags.json === true);
    else {
      const source = { interface: flags.interface ?? defaultInterface(), filter: expression, engine: chooseEngine(flags.engine), immediate: flags.immediate === true };
      capture = new LiveCapture(source, { logger });
      // tells scripts and tests the capture is up (live traffic from now on is seen)
      // (the human form goes to stderr, as tcpdump's "listening on": stdout carries the packets)
      const started = (): void => {
        const text = `capturing on ${source.interface}${expression ? ` (filter '${expression}')` : ''} with ${source.engine}`;
        if (flags.json) printer.event('started', source, text);
        else if (flags.quiet !== true) process.stderr.write(`wirelab: ${text}\n`);
      };
      await readLive(capture, pipeline, logger, started);
    }
  } catch (err) {
    failure = err instanceof Error ? err : new WirelabError('E_DECODE', String(err));
  }
  periodic?.stop();
  await pipeline.finish();
  stats?.report(printer, true);
  flows?.report();
  // a source that never opened (no such file, not a capture, no tcpdump) gets its error alone
  if (failure && pipeline.packets === 0) throw failure;
  printSummary(printer, pipeline, capture);
  if (failure) throw failure;
}

function printSummary(printer: PacketPrinter, pipeline: Pipeline, capture: LiveCapture | undefined): void {
  const fields: Record<string, unknown> = { packets: pipeline.packets, bytes: pipeline.bytes };
  let human = `Summary: ${count(pipeline.packets, 'packet')}, ${count(pipeline.bytes, 'byte')}`;
  if (capture) {
    const stats = capture.stats();
    fields.droppedByKernel = stats.droppedByKernel ?? null;
    fields.receivedByFilter = stats.receivedByFilter ?? null;
    human += `, ${stats.droppedByKernel === undefined ? 'unknown' : grouped(stats.droppedByKernel)} dropped by kernel`;
  }
  printer.event('summary', fields, human);
}

const EXAMPLES: [string, string][] = [
  ['analyze -r capture.pcap', 'print every packet of a file'],
  ["analyze -r capture.pcapng 'tcp port 443'", 'only the packets a pcap-filter expression selects'],
  ['analyze -r capture.pcap --stats --top 10', 'volume, protocols, sizes and the top 10 talkers'],
  ['analyze -r capture.pcap --flows --json', 'one Zeek conn.log-style record per connection'],
  ['analyze -r capture.pcap --anomalies --baseline 200', 'anomalies in a short file (a rough baseline)'],
  ['tcpdump -w - | wirelab analyze -r -', 'read a capture from stdin'],
  ["sudo wirelab analyze -i any -c 100 'udp or icmp'", '100 packets live from every interface'],
  ['sudo wirelab analyze -i eth0 -w - | wireshark -k -i -', 'capture to stdout for another tool'],
  ['analyze -D', 'list the interfaces'],
];

export function register(program: Command): void {
  const command = program
    .command('analyze')
    .description('capture and decode packets from an interface, a pcap/pcapng file or stdin')
    .argument('[expression...]', 'filter expression (pcap-filter(7)), as tcpdump takes it')
    .addOption(new Option('-i, --interface <if>', 'capture live on this interface, or "any" (default: the first non-loopback one that is up)').conflicts('read'))
    .option('-r, --read <file>', 'read packets from a pcap or pcapng file; - reads stdin')
    .option('-f, --filter <expression>', 'filter expression (pcap-filter(7)); or give it after the options (default: none, every packet)')
    .option('-c, --count <n>', 'stop after N packets (that pass the filter)', positiveInt('--count'))
    .option('-w, --write <file>', 'write the packets to FILE (.pcap: pcap, otherwise pcapng); - writes pcapng to stdout. Lines are then off unless --packets')
    .option('-D, --list-interfaces', 'list the interfaces to capture on, and exit')
    .option('-n', 'no name resolution: accepted for tcpdump habits (-nn too); wirelab never resolves names')
    .option('--stats', 'traffic statistics: volume, average size, protocols, sizes by protocol, top talkers')
    .addOption(new Option('--top <n>', 'talkers listed by --stats').default(5).argParser(positiveInt('--top')))
    .option('--flows', 'one record per connection when it ends (Zeek conn.log fields), in text or NDJSON')
    .option('--anomalies', 'report abnormal packets and flows (Isolation Forest over a learnt baseline)')
    .option('--packets', 'print every packet too, with --stats, --flows, --anomalies or --write')
    .addOption(new Option('--stats-interval <duration>', 'live: time between statistics reports (500ms, 10s, 2m)').default(10_000, '10s').argParser((v) => parseDuration(v)))
    .addOption(new Option('--baseline <n>', `--anomalies: learn from only N packets and no warm-up, to fit a short capture (with a caveat; default ${DEFAULT_BASELINE_PACKETS})`).argParser(positiveInt('--baseline')).conflicts('baselinePackets'))
    .addOption(new Option('--baseline-packets <n>', 'packets learnt as normal before scoring').default(undefined, String(DEFAULT_BASELINE_PACKETS)).argParser(positiveInt('--baseline-packets')))
    .addOption(new Option('--baseline-flows <n>', 'finished flows learnt as normal before scoring').default(undefined, String(DEFAULT_BASELINE_FLOWS)).argParser(positiveInt('--baseline-flows')))
    .addOption(new Option('--warmup <duration>', 'traffic ignored before learning (e.g. 15s, 500ms; 0s for none)').default(undefined, `${DEFAULT_WARMUP_S}s`).argParser(durationOrZero))
    .option('--immediate', 'live: show each packet the moment it arrives (tcpdump engine; drops sooner at high rates; default: blocks at most 1 s old)')
    .addOption(new Option('--engine <tool>', 'live capture tool: tcpdump, dumpcap, or auto (tcpdump when installed, else dumpcap)').choices(['tcpdump', 'dumpcap', 'auto']).default('auto'));
  addOutputOptions(command);
  // --utc and -v may come with the shared output options; add them here only if they did not
  if (!command.options.some((o) => o.long === '--utc')) command.option('--utc', 'print times in UTC (default: local time, TZ honoured)');
  if (!command.options.some((o) => o.long === '--verbose')) command.option('-v, --verbose', 'TCP lines also show sequence, acknowledgement and window (as tcpdump -v)');
  addExamples(command, EXAMPLES).action(runAnalyze);
}
