/** `wirelab demo`: the whole small network on this machine, shown live, one timestamped line per event. */
import type { Command } from 'commander';
import { describeLatencies, escapeControl, plural } from '../common/format.js';
import { Demo } from '../lab/demo.js';
import { Output, addExamples, addOutputOptions, armStop, durationOption, untilStopped, type OutputOptions } from './shared.js';

interface DemoFlags extends OutputOptions {
  duration?: number;
  interval: number;
  loopback?: boolean;
}

function printDemo(out: Output, demo: Demo): void {
  demo.on('ready', (r) => {
    const where = r.mode === 'namespaces' ? 'network namespaces on a private bridge' : 'loopback (run as root for separate hosts)';
    const hosts = r.hosts.map((h) => `  ${h.name.padEnd(7)} ${h.address}`).join('\n');
    out.event('ready', { ...r }, `demo: master and ${plural(r.hosts.length - 1, 'node')} in ${where}\n${hosts}\n  broadcasting to ${r.target}; Ctrl-C to stop`);
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
}

async function runDemo(flags: DemoFlags): Promise<void> {
  // from here a signal stops the demo cleanly, even while it is still building its network
  armStop();
  const out = new Output(flags);
  const demo = new Demo({ namespaces: flags.loopback ? false : undefined, intervalMs: flags.interval });
  const failed = new Promise<string>((resolve) => demo.once('failed', (f) => resolve(`${f.label} ${f.reason}`)));
  printDemo(out, demo);
  await demo.start();
  const why = await Promise.race([untilStopped(flags.duration), failed.then((f) => `failed: ${f}`)]);
  await demo.close();
  out.event('stopped', { reason: why }, `demo stopped (${why})`);
  if (why.startsWith('failed')) process.exitCode = 1;
}

export function register(program: Command): void {
  const demo = program
    .command('demo')
    .description('run a small network on this machine (namespaces as root, loopback otherwise) and show it live')
    .addOption(durationOption('--duration <duration>', 'stop after this long (default: run until stopped)'))
    .addOption(durationOption('--interval <duration>', 'time between broadcasts', 1000))
    .option('--loopback', 'stay on loopback even when namespaces are available');
  addOutputOptions(demo).action((flags: DemoFlags) => runDemo(flags));
  addExamples(demo, [
    ['demo', 'a master and four nodes until Ctrl-C'],
    ['demo --duration 10s --interval 500ms', 'ten seconds, a broadcast every half second'],
    ['demo --loopback --json', 'on loopback even as root, events as NDJSON'],
  ]);
}
