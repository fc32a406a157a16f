/** `wirelab broadcast master|node|keygen`: flags in, components built, events printed. */
import { Option, type Command } from 'commander';
import { isIP } from 'node:net';
import {
  BroadcastMaster,
  BroadcastNode,
  broadcastDefaults,
  describeReport,
  escapeControls,
  generateKeyFiles,
  loadPrivateKey,
  loadPublicKey,
  type DeliveryReport,
  type ReceivedMessage,
} from '../broadcast/index.js';
import { WirelabError } from '../common/errors.js';
import { parseDuration } from './duration.js';
import { Output, addOutputOptions, commandLogger, nonNegativeInt, portOption, positiveInt, untilStopped, type OutputOptions } from './shared.js';

interface MasterFlags extends OutputOptions {
  message: string;
  port: number;
  to?: string[];
  group?: string;
  count: number;
  interval: number;
  key?: string;
  plain?: boolean;
  host?: string;
  name?: string;
  ackWait: number;
  expect?: number;
}

interface NodeFlags extends OutputOptions {
  port: number;
  host?: string;
  group?: string;
  trust?: string;
  name?: string;
  maxSkew: number;
  duration?: number;
  state?: string;
}

function ipv4(value: string, previous: string[] | undefined): string[] {
  if (isIP(value) !== 4) throw new WirelabError('E_USAGE', `--to takes an IPv4 address, got '${value}'`);
  return [...(previous ?? []), value];
}

function ipv4Group(value: string): string {
  if (isIP(value) !== 4) throw new WirelabError('E_USAGE', `--group takes an IPv4 multicast address, got '${value}'`);
  return value;
}

function printReport(out: Output, report: DeliveryReport): void {
  const names = [...report.nodes, ...report.plainNodes.map((n) => `${n} (plain)`)];
  out.event('report', { ...report }, describeReport(report) + (names.length ? ` (${names.join(', ')})` : ''));
}

async function runMaster(flags: MasterFlags): Promise<void> {
  const logger = commandLogger(flags, 'master');
  const out = new Output(flags);
  if (flags.plain && flags.key) throw new WirelabError('E_USAGE', '--plain sends bare text, which cannot be signed: give --key or --plain, not both');
  const key = flags.key ? await loadPrivateKey(flags.key, (message) => logger.warn(message)) : undefined;
  const master = new BroadcastMaster(
    { port: flags.port, to: flags.to, group: flags.group, key, plain: flags.plain, bindAddress: flags.host, name: flags.name, ackWaitMs: flags.ackWait, expect: flags.expect },
    { logger },
  );
  master.on('sent', (e) => out.event('sent', e));
  master.on('ack', (a) => out.event('ack', { ...a }));
  master.on('warning', (w) => out.event('warning', w)); // under --json; a person reads it in the log line
  await master.start();
  const stop = untilStopped();
  let stopped = false;
  void stop.then(() => (stopped = true));
  const reports: Promise<void>[] = [];
  try {
    for (let i = 0; (flags.count === 0 || i < flags.count) && !stopped; i++) {
      if (i > 0) await Promise.race([new Promise((r) => setTimeout(r, flags.interval)), stop]);
      if (stopped) break;
      reports.push(master.send(flags.message).then((r) => printReport(out, r)));
    }
    await Promise.race([Promise.all(reports), stop]);
  } finally {
    await master.close();
    await Promise.allSettled(reports);
  }
  const nodes = master.nodes();
  out.event('roster', { nodes }, `roster: ${nodes.length} node${nodes.length === 1 ? '' : 's'} heard` + nodes.map((n) => `\n  ${n.name}${n.kind === 'plain' ? ' (plain)' : ` ${n.endpoint}`} acks=${n.acks}`).join(''));
}

function describeMessage(m: ReceivedMessage): string {
  const who = m.format === 'plain' ? `${m.from} (plain text)` : `${m.from} ${m.sender}#${m.seq}${m.verified ? ' (verified)' : ''}`;
  return `[${new Date().toISOString()}] ${who}: ${escapeControls(m.text)}`;
}

async function runNode(flags: NodeFlags): Promise<void> {
  const logger = commandLogger(flags, 'node');
  const out = new Output(flags);
  const trust = flags.trust ? await loadPublicKey(flags.trust) : undefined;
  const node = new BroadcastNode(
    { port: flags.port, host: flags.host, group: flags.group, trust, name: flags.name, maxSkewMs: flags.maxSkew, stateDir: flags.state },
    { logger },
  );
  node.on('message', (m) => out.event('message', { ...m }, out.json ? undefined : describeMessage(m)));
  node.on('rejected', (r) => out.event('rejected', r));
  node.on('invalid', (r) => out.event('invalid', r));
  node.on('duplicate', (d) => out.event('duplicate', d));
  await node.start();
  out.event('listening', { address: node.address, name: node.name }, `node ${node.name} listening on UDP ${node.address}`);
  await untilStopped(flags.duration);
  await node.close();
  const stats = node.stats();
  out.event('summary', { ...stats }, `received ${stats.messages} messages, ${stats.plain} plain, ${stats.duplicates} duplicates, ${stats.rejected} rejected, ${stats.invalid} invalid`);
}

export function register(program: Command): void {
  const group = program.command('broadcast').description('a UDP broadcast master and its nodes (seeds 000, 001)');

  addOutputOptions(
    group
      .command('master')
      .description('broadcast a message to every node on the LAN and collect acknowledgements')
      .option('--message <text>', 'the message', broadcastDefaults.DEFAULT_MESSAGE)
      .addOption(portOption('--port <port>', 'destination UDP port', broadcastDefaults.DEFAULT_PORT))
      .option('--to <addr>', "send to this address (repeatable) instead of every interface broadcast address; 255.255.255.255 is where the seeds' master.py sends", ipv4)
      .option('--group <addr>', 'send to this IPv4 multicast group', ipv4Group)
      .option('--host <addr>', "local address to send from (as master.py binds its host's address; 255.255.255.255 then leaves by that interface)")
      .addOption(new Option('--count <n>', 'messages to send; 0 sends until Ctrl-C').default(1).argParser(nonNegativeInt('--count')))
      .addOption(new Option('--interval <duration>', 'time between messages (e.g. 500ms, 2s)').default(broadcastDefaults.DEFAULT_INTERVAL_MS, '1s').argParser(parseDuration))
      .option('--key <file>', 'sign messages with this Ed25519 private key (see keygen)')
      .option('--plain', "send the bare text without the envelope, as the seeds' master.py (cut to 1024 bytes at a character boundary)")
      .option('--name <name>', 'sender name in the envelope (default: host name)')
      .addOption(new Option('--ack-wait <duration>', 'time to wait for acknowledgements').default(broadcastDefaults.DEFAULT_ACK_WAIT_MS, '1s').argParser(parseDuration))
      .addOption(new Option('--expect <n>', 'report as soon as N nodes acknowledged').argParser(positiveInt('--expect'))),
  ).action((flags: MasterFlags) => runMaster(flags));

  addOutputOptions(
    group
      .command('node')
      .description('listen for broadcasts on all interfaces, log them and acknowledge')
      .addOption(portOption('--port <port>', 'UDP port to listen on', broadcastDefaults.DEFAULT_PORT))
      .option('--host <addr>', 'address to bind (default: all interfaces)')
      .option('--group <addr>', 'join this IPv4 multicast group', ipv4Group)
      .option('--trust <file>', 'accept only messages signed by this Ed25519 public key (broadcast.pub; a private key is refused)')
      .option('--state <dir>', 'keep the replay windows in DIR, so that a restarted node still refuses messages it took before')
      .option('--name <name>', 'name sent in acknowledgements (default: host name)')
      .addOption(new Option('--max-skew <duration>', 'clock difference tolerated with --trust').default(broadcastDefaults.DEFAULT_MAX_SKEW_MS, '30s').argParser(parseDuration))
      .addOption(new Option('--duration <duration>', 'stop after this long (e.g. 10s)').argParser(parseDuration)),
  ).action((flags: NodeFlags) => runNode(flags));

  group
    .command('keygen')
    .description('make an Ed25519 key pair: DIR/broadcast.key (for --key) and DIR/broadcast.pub (for --trust)')
    .requiredOption('--out <dir>', 'directory to write the keys to')
    .action(async (flags: { out: string }) => {
      const paths = await generateKeyFiles(flags.out);
      process.stdout.write(`private key: ${paths.privateKey}\npublic key:  ${paths.publicKey}\n`);
    });
}
