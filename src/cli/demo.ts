/** `wirelab demo`: the whole lab on this machine, shown live, one timestamped line per event. */
import type { Command } from 'commander';
import { describeLatencies, escapeControl, plural } from '../common/format.js';
import { DEFAULT_CHAT_PORT, DEFAULT_DASHBOARD_PORT, Demo, type DemoReady } from '../lab/demo.js';
import { Output, addExamples, addOutputOptions, armStop, durationOption, portOption, untilStopped, type OutputOptions } from './shared.js';

interface DemoFlags extends OutputOptions {
  duration?: number;
  interval: number;
  loopback?: boolean;
  port: number;
  chatPort: number;
  dashboard: boolean;
}

/** What was started and where to look, as lines for a human. */
function describeReady(r: DemoReady): string {
  const where = r.mode === 'namespaces' ? `in ${plural(r.namespaces.length, 'network namespace')} on a private bridge` : 'on loopback (run as root for separate hosts)';
  const hosts = r.mode === 'namespaces' ? `\n  hosts:     ${r.hosts.map((h) => `${h.name} ${h.address}`).join(', ')}` : '';
  const dashboard = r.dashboard.url !== null ? `open ${r.dashboard.url} (live traffic, protocols named)` : `not started: ${r.dashboard.reason ?? ''}`;
  return [
    `demo: the lab is up ${where}${hosts}`,
    `  broadcast: a master and 4 nodes, to ${r.target}`,
    `  gossip:    seeds ${r.seeds.join(', ')}; ${r.peers.count} peers on ${r.peers.address}`,
    `  chat:      server ${r.chat}; clients ${r.clients.join(', ')} (chat, a file, a quiz)`,
    `  dashboard: ${dashboard}`,
    `  files:     ${r.tempDir} (removed at the end)`,
    `  Ctrl-C to stop`,
  ].join('\n');
}

function printDemo(out: Output, demo: Demo, tty: boolean): void {
  demo.on('progress', (p) => {
    const text = `building the lab [${p.step}/${p.steps}] ${p.text}`;
    if (tty) process.stdout.write(`\r\x1b[K${text}`);
    else out.event('progress', { ...p }, text);
  });
  demo.on('ready', (r) => {
    if (tty) process.stdout.write('\r\x1b[K');
    out.event('ready', { ...r, time: Date.now() / 1000 }, describeReady(r));
  });
  demo.on('sent', (s) => out.event('sent', { ...s }, `master  -> message ${s.seq} to ${s.target}`));
  demo.on('received', (m) => {
    const oneWay = m.latencyUs === undefined ? '' : ` (${(m.latencyUs / 1000).toFixed(2)} ms one way)`;
    out.event('received', { ...m }, `${m.node.padEnd(7)} got message ${m.seq}: ${escapeControl(m.text)}${oneWay}`);
  });
  demo.on('report', (r) => {
    const latency = describeLatencies(r.rtt);
    out.event('report', { ...r }, `master  <- ${plural(r.delivered, 'ack')} for message ${r.seq}${latency ? `; ${latency}` : ''}`);
  });
  demo.on('gossip', (g) => out.event('gossip', { ...g }, `gossip  ${escapeControl(g.text)}`));
  demo.on('chat', (c) => out.event('chat', { ...c }, `chat    ${c.who.padEnd(6)} ${escapeControl(c.text)}`));
}

async function runDemo(flags: DemoFlags): Promise<void> {
  // from here a signal stops the demo cleanly, even while it is still building its network
  armStop();
  const out = new Output(flags);
  const demo = new Demo({ namespaces: flags.loopback ? false : undefined, intervalMs: flags.interval, dashboardPort: flags.port, dashboard: flags.dashboard, chatPort: flags.chatPort });
  const failed = new Promise<string>((resolve) => demo.once('failed', (f) => resolve(`${f.label} ${f.reason}`)));
  const tty = process.stdout.isTTY === true && flags.json !== true;
  printDemo(out, demo, tty);
  try {
    await demo.start();
  } catch (err) {
    if (tty) process.stdout.write('\r\x1b[K'); // the error's line, not after the progress line
    throw err;
  }
  const why = await Promise.race([untilStopped(flags.duration), failed.then((f) => `failed: ${f}`)]);
  await demo.close();
  out.event('stopped', { reason: why }, `demo stopped (${why}); every process, namespace and file of the lab removed`);
  if (why.startsWith('failed')) process.exitCode = 1;
}

export function register(program: Command): void {
  const demo = program
    .command('demo')
    .description('run the whole lab on this machine (namespaces as root, loopback otherwise) and show it live')
    .addOption(durationOption('--duration <duration>', 'stop after this long (default: run until stopped)'))
    .addOption(durationOption('--interval <duration>', 'time between broadcasts', 1000))
    .addOption(portOption('--port <port>', "the dashboard's port on 127.0.0.1 (0: any free port)", DEFAULT_DASHBOARD_PORT))
    .addOption(portOption('--chat-port <port>', "the chat server's port (on loopback a free one when it is taken; 0: any free port)", DEFAULT_CHAT_PORT))
    .option('--no-dashboard', 'do not start the dashboard')
    .option('--loopback', 'stay on loopback even when namespaces are available');
  addOutputOptions(demo).action((flags: DemoFlags) => runDemo(flags));
  addExamples(demo, [
    ['demo', 'the whole lab until Ctrl-C; the dashboard at http://127.0.0.1:8050'],
    ['demo --duration 40s --interval 500ms', 'forty seconds, a broadcast every half second'],
    ['demo --port 0 --json', 'the dashboard on any free port, events as NDJSON (ready has its URL)'],
    ['demo --loopback --json', 'on loopback even as root, events as NDJSON'],
  ]);
}
