/** `wirelab broadcast master|node|keygen`: flags in, components built, events printed. */
import { Option, type Command } from 'commander';
import { isIP } from 'node:net';
import {
  BroadcastMaster,
  BroadcastNode,
  broadcastDefaults,
  describeReport,
  generateKeyFiles,
  loadPrivateKey,
  loadPublicKey,
  type ReceivedMessage,
} from '../broadcast/index.js';
import { WirelabError } from '../common/errors.js';
import { escapeControl, groupDigits, plural } from '../common/format.js';
import { Output, addExamples, addOutputOptions, commandLogger, durationOption, nonNegativeInt, portOption, positiveInt, untilStopped, type OutputOptions } from './shared.js';

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
  state?: string;
  name?: string;
  maxSkew: number;
  duration?: number;
}

function ipv4(value: string, previous: string[] | undefined): string[] {
  if (isIP(value) !== 4) throw new WirelabError('E_USAGE', `--to takes an IPv4 address, got '${value}'`);
  return [...(previous ?? []), value];
}

function ipv4Group(value: string): string {
  if (isIP(value) !== 4) throw new WirelabError('E_USAGE', `--group takes an IPv4 multicast address, got '${value}'`);
  return value;
}

/**
 * The master's events, each printed once: a sent line, one line per acknowledgement, and the report
 * with the round-trip figures of that message (min / median / max under 20 samples).
 * `sendStarted()` gives the time a message was handed over, which its `sent` lines carry (the event
 * itself fires when the socket is done, which can be after a node already printed the message).
 */
function printMasterEvents(out: Output, master: BroadcastMaster): { sendStarted(): void } {
  let startedAt: number | undefined;
  master.on('sent', (e) => out.event('sent', { ...e, time: startedAt }, `-> message ${e.seq} to ${e.target} (${plural(e.bytes, 'byte')})`));
  master.on('ack', (a) => {
    const who = a.plain ? `${a.from} (plain node)` : `${escapeControl(a.node)} (${a.from})`;
    out.event('ack', { ...a }, `<- ${who} acknowledged message ${a.seq}, ${a.rttMs.toFixed(2)} ms round trip`);
  });
  master.on('report', (r) => out.event('report', { ...r }, describeReport(r)));
  // under --json; a person reads warnings on stderr
  master.on('warning', (w) => out.event('warning', w));
  return { sendStarted: () => (startedAt = Date.now() / 1000) };
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
  const printer = printMasterEvents(out, master);
  await master.start();
  const stop = untilStopped();
  let stopped = false;
  void stop.then(() => (stopped = true));
  const reports: Promise<unknown>[] = [];
  try {
    for (let i = 0; (flags.count === 0 || i < flags.count) && !stopped; i++) {
      if (i > 0) await Promise.race([new Promise((r) => setTimeout(r, flags.interval)), stop]);
      if (stopped) break;
      printer.sendStarted();
      reports.push(master.send(flags.message));
    }
    await Promise.race([Promise.all(reports), stop]);
  } finally {
    await master.close();
    await Promise.allSettled(reports);
  }
  const nodes = master.nodes();
  out.event('roster', { nodes }, `roster: ${plural(nodes.length, 'node')} heard` + nodes.map((n) => `\n  ${n.kind === 'plain' ? `${n.endpoint} (plain)` : `${escapeControl(n.name)} ${n.endpoint}`}, ${plural(n.acks, 'ack')}`).join(''));
}

function describeMessage(m: ReceivedMessage): string {
  const text = escapeControl(m.text);
  const oneWay = m.latencyUs === undefined ? '' : ` (${(m.latencyUs / 1000).toFixed(2)} ms one way, by the sender's clock)`;
  if (m.format === 'plain') return `<- plain text from ${m.from}: ${text}`;
  const who = `${escapeControl(m.sender ?? '?')} (${m.from})${m.verified ? ', verified' : ''}`;
  return `<- message ${m.seq} from ${who}: ${text}${oneWay}`;
}

async function runNode(flags: NodeFlags): Promise<void> {
  const logger = commandLogger(flags, 'node', true);
  const out = new Output(flags);
  const trust = flags.trust ? await loadPublicKey(flags.trust) : undefined;
  const node = new BroadcastNode(
    { port: flags.port, host: flags.host, group: flags.group, trust, name: flags.name, maxSkewMs: flags.maxSkew, stateDir: flags.state },
    { logger },
  );
  node.on('message', (m) => out.event('message', { ...m }, describeMessage(m)));
  node.on('rejected', (r) => out.event('rejected', r, out.colour.yellow(`rejected a datagram from ${r.from}: ${escapeControl(r.reason)}`)));
  node.on('invalid', (r) => out.event('invalid', r, out.colour.yellow(`invalid datagram from ${r.from} (${plural(r.bytes, 'byte')}): ${escapeControl(r.reason)}`)));
  node.on('duplicate', (d) => out.event('duplicate', d, `duplicate of message ${d.seq} from ${d.from}, ignored`));
  await node.start();
  out.event('listening', { address: node.address, name: node.name }, `node ${escapeControl(node.name)} listening on UDP ${node.address}`);
  await untilStopped(flags.duration);
  await node.close();
  const stats = node.stats();
  const counts = [`${groupDigits(stats.plain)} plain`, plural(stats.duplicates, 'duplicate'), `${groupDigits(stats.rejected)} rejected`, `${groupDigits(stats.invalid)} invalid`];
  out.event('summary', { ...stats }, `received ${plural(stats.messages, 'message')}: ${counts.join(', ')}`);
}

export function register(program: Command): void {
  const group = program.command('broadcast').description('a UDP broadcast master and its nodes (seeds 000, 001)');
  addExamples(group, [
    ['broadcast node --name n1', 'a node: listen on UDP 12345, print and acknowledge each message'],
    ['broadcast master --to 127.255.255.255', 'one message to the nodes on this machine'],
    ['broadcast keygen --out keys', 'a key pair for signed messages'],
  ]);

  const master = group
    .command('master')
    .description('broadcast a message to every node on the LAN and collect acknowledgements')
    .option('--message <text>', 'the message', broadcastDefaults.DEFAULT_MESSAGE)
    .addOption(portOption('--port <port>', 'destination UDP port', broadcastDefaults.DEFAULT_PORT))
    .option('--to <addr>', "send to this address (repeatable) instead of every interface broadcast address; 255.255.255.255 is where the seeds' master.py sends", ipv4)
    .option('--group <addr>', 'send to this IPv4 multicast group', ipv4Group)
    .option('--host <addr>', "local address to send from (as master.py binds its host's address; 255.255.255.255 then leaves by that interface)")
    .addOption(new Option('--count <n>', 'messages to send; 0 sends until stopped').default(1).argParser(nonNegativeInt('--count')))
    .addOption(durationOption('--interval <duration>', 'time between messages', broadcastDefaults.DEFAULT_INTERVAL_MS))
    .option('--key <file>', 'sign messages with this Ed25519 private key (see keygen)')
    .option('--plain', "send the bare text without the envelope, as the seeds' master.py (cut to 1024 bytes at a character boundary)")
    .option('--name <name>', 'sender name in the envelope (default: host name)')
    .addOption(durationOption('--ack-wait <duration>', 'how long to wait for acknowledgements of each message', broadcastDefaults.DEFAULT_ACK_WAIT_MS))
    .addOption(new Option('--expect <n>', 'report as soon as N nodes acknowledged').argParser(positiveInt('--expect')));
  addOutputOptions(master).action((flags: MasterFlags) => runMaster(flags));
  addExamples(master, [
    ['broadcast master', 'one message to every interface\'s broadcast address, port 12345'],
    ['broadcast master --to 127.255.255.255 --count 5 --interval 500ms', 'five messages to the nodes on this machine'],
    ['broadcast master --group 239.1.2.3 --count 0', 'multicast until Ctrl-C (nodes need --group too)'],
    ['broadcast master --key keys/broadcast.key --json', 'signed messages, events as NDJSON'],
    ['broadcast master --plain --to 255.255.255.255 --host 198.18.0.1', "bare text to the seeds' node.py, as their master.py sends it"],
  ]);

  const node = group
    .command('node')
    .description('listen for broadcasts on all interfaces, print them and acknowledge')
    .addOption(portOption('--port <port>', 'UDP port to listen on (0: any free port)', broadcastDefaults.DEFAULT_PORT))
    .option('--host <addr>', 'address to bind (default: all interfaces)')
    .option('--group <addr>', 'join this IPv4 multicast group', ipv4Group)
    .option('--trust <file>', 'accept only messages signed by this Ed25519 public key (broadcast.pub; a private key is refused)')
    .option('--state <dir>', 'keep the replay windows in DIR, so that a restarted node still refuses messages it took before')
    .option('--name <name>', 'name sent in acknowledgements (default: host name)')
    .addOption(durationOption('--max-skew <duration>', 'clock difference tolerated with --trust', broadcastDefaults.DEFAULT_MAX_SKEW_MS))
    .addOption(durationOption('--duration <duration>', 'stop after this long (default: run until stopped)'));
  addOutputOptions(node).action((flags: NodeFlags) => runNode(flags));
  addExamples(node, [
    ['broadcast node --name n1', 'listen on UDP 12345 on every interface'],
    ['broadcast node --trust keys/broadcast.pub', 'accept only messages signed by the master\'s key'],
    ['broadcast node --group 239.1.2.3 --duration 1m --json', 'a multicast node for one minute, NDJSON events'],
  ]);

  const keygen = group
    .command('keygen')
    .description('make an Ed25519 key pair: DIR/broadcast.key (for --key) and DIR/broadcast.pub (for --trust)')
    .requiredOption('--out <dir>', 'directory to write the keys to')
    .action(async (flags: { out: string }) => {
      const paths = await generateKeyFiles(flags.out);
      process.stdout.write(`private key: ${paths.privateKey}\npublic key:  ${paths.publicKey}\n`);
    });
  addExamples(keygen, [['broadcast keygen --out keys', 'keys/broadcast.key for the master, keys/broadcast.pub for the nodes']]);
}
