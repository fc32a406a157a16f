/**
 * `wirelab dashboard`: the live web dashboard over a capture file or a live interface. Flags in, the
 * Dashboard built, its address and source events printed; runs until Ctrl-C or --duration.
 */
import { Option, type Command } from 'commander';
import { statSync } from 'node:fs';
import { Dashboard, isLoopback, limits } from '../dashboard/index.js';
import { ipv4Interfaces } from '../common/net.js';
import { WirelabError } from '../common/errors.js';
import { escapeControl, groupDigits, plural } from '../common/format.js';
import { Output, addExamples, addOutputOptions, commandLogger, durationOption, portOption, positiveInt, untilStopped, type OutputOptions } from './shared.js';

interface DashboardFlags extends OutputOptions {
  interface?: string;
  read?: string;
  filter?: string;
  port: number;
  host: string;
  token?: string;
  anomalies: boolean;
  baselinePackets?: number;
  immediate?: boolean;
  duration?: number;
}

function liveInterface(flags: DashboardFlags): string | undefined {
  if (flags.read !== undefined) return undefined;
  if (flags.interface !== undefined) return flags.interface;
  const first = ipv4Interfaces().find((i) => !i.internal);
  if (first === undefined) throw new WirelabError('E_USAGE', 'no non-loopback interface has an address: name one with --interface, or give --read FILE');
  return first.name;
}

/** A --read path must be a regular file, checked before anything starts (docs/cli.md). */
function checkReadPath(path: string | undefined): void {
  if (path === undefined) return;
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new WirelabError('E_USAGE', `--read: no such file: ${escapeControl(path)}`);
  }
  if (!isFile) throw new WirelabError('E_USAGE', `--read: not a regular file: ${escapeControl(path)}`);
}

async function runDashboard(flags: DashboardFlags): Promise<void> {
  checkReadPath(flags.read);
  const logger = commandLogger(flags, 'dashboard');
  const out = new Output(flags);
  const iface = liveInterface(flags);
  const dashboard = new Dashboard(
    {
      host: flags.host,
      port: flags.port,
      token: flags.token,
      read: flags.read,
      interface: iface,
      bpf: flags.filter,
      anomalies: flags.anomalies,
      immediate: flags.immediate === true,
      detector: flags.baselinePackets === undefined ? undefined : { baselinePackets: flags.baselinePackets },
    },
    { logger },
  );
  dashboard.on('source', (s) => {
    const fields = { kind: s.kind, name: s.name, state: s.state, packets: s.packets, error: s.error ?? null };
    const what = s.state === 'error' ? `stopped: ${s.error ?? 'error'}` : 'read to its end';
    out.event('source', fields, `${escapeControl(s.name)}: ${what}, ${plural(s.packets, 'packet')}`);
  });
  const stopped = untilStopped(flags.duration);
  try {
    await dashboard.start();
    const source = flags.read !== undefined ? { read: flags.read } : { interface: iface, filter: flags.filter ?? null };
    out.event('listening', { url: dashboard.url, host: flags.host, port: dashboard.port, token: dashboard.token ?? null, ...source }, `dashboard at ${dashboard.url}`);
    if (dashboard.token !== undefined && !isLoopback(flags.host)) out.line(`the token is required on ${flags.host}: open the URL above (it carries it)`);
    const why = await stopped;
    logger.info({ why }, 'dashboard stopping');
  } finally {
    await dashboard.close();
  }
  const { aggregates, source, hub } = dashboard.stats();
  out.event('stopped', { ...aggregates, droppedByKernel: source.droppedByKernel ?? null, updatesSent: hub.updatesSent, updatesSkipped: hub.updatesSkipped });
}

export function register(program: Command): void {
  const command = program
    .command('dashboard')
    .description('a live web dashboard of the traffic: volume, protocols, sizes, anomalies, talkers, flows, packets')
    .addOption(new Option('-i, --interface <if>', 'capture live on this interface (default: the first non-loopback one)').conflicts('read'))
    .option('-r, --read <file>', 'show a pcap or pcapng file instead of live traffic')
    .option('-f, --filter <bpf>', 'BPF filter of the live capture (pcap-filter(7))')
    .addOption(portOption('--port <port>', 'TCP port of the page (0: any free port)', limits.DEFAULT_PORT))
    .option('--host <addr>', 'address to listen on; any non-loopback address requires a token', limits.DEFAULT_HOST)
    .option('--token <token>', 'the token required off loopback (default: a random one, printed)')
    .option('--no-anomalies', 'do not run the anomaly detector')
    .addOption(new Option('--baseline-packets <n>', 'packets learnt as normal before anomaly scoring (default 5000)').argParser(positiveInt('--baseline-packets')))
    .option('--immediate', 'live: hand each packet over the moment it arrives (default: blocks at most 1 s old)')
    .addOption(durationOption('--duration <duration>', 'stop after this long, e.g. 30s or 10m (default: until stopped)'))
    .addHelpText(
      'after',
      `
Limits: series ${limits.SERIES_SECONDS} s; ${groupDigits(limits.HISTORY_PACKETS)} packets (${limits.HISTORY_BYTES / 1024 / 1024} MiB) kept for download; uploads up to ${limits.MAX_UPLOAD_BYTES / 1024 / 1024} MiB.`,
    );
  addOutputOptions(command).action(runDashboard);
  addExamples(command, [
    ['dashboard --read capture.pcapng', 'the views of a file at http://127.0.0.1:8050/'],
    ["sudo wirelab dashboard --interface eth0 --filter 'tcp or udp'", 'live traffic of eth0'],
    ['dashboard --read x.pcap --port 0 --json', 'any free port; prints {"event":"listening","url":...}'],
    ['sudo wirelab dashboard --interface eth0 --host 0.0.0.0', 'reachable from the LAN: prints a URL with the required token'],
  ]);
}
