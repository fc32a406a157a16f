/** `wirelab demo`: the whole small network on this machine, shown live. */
import { Option, type Command } from 'commander';
import { Demo } from '../lab/demo.js';
import { Output, positiveInt, untilStopped } from './shared.js';
import { parseDuration } from './duration.js';

interface DemoFlags {
  duration?: number;
  interval: number;
  loopback?: boolean;
  json?: boolean;
}

async function runDemo(flags: DemoFlags): Promise<void> {
  const out = new Output(flags);
  const demo = new Demo({ namespaces: flags.loopback ? false : undefined, intervalMs: flags.interval });
  const failed = new Promise<string>((resolve) => demo.once('failed', (f) => resolve(`${f.label} ${f.reason}`)));
  demo.on('ready', (r) => {
    const where = r.mode === 'namespaces' ? 'network namespaces on a private bridge' : 'loopback (run as root for separate hosts)';
    out.event('ready', { ...r }, `demo: master and ${r.hosts.length - 1} nodes in ${where}\n` +
      r.hosts.map((h) => `  ${h.name.padEnd(7)} ${h.address}`).join('\n') + `\n  broadcasting to ${r.target}; Ctrl-C to stop`);
  });
  demo.on('sent', (s) => out.event('sent', s, `master  -> ${s.target}  message ${s.seq}`));
  demo.on('received', (m) => out.event('received', m, `  ${m.node} got message ${m.seq}: ${m.text}${m.latencyUs === undefined ? '' : ` (${(m.latencyUs / 1000).toFixed(2)} ms)`}`));
  demo.on('report', (r) => out.event('report', r, `master  <- ${r.delivered} acks for message ${r.seq}` + (r.p50Ms === undefined ? '' : `, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms!.toFixed(2)} ms`)));
  await demo.start();
  const why = await Promise.race([untilStopped(flags.duration), failed.then((f) => `failed: ${f}`)]);
  await demo.close();
  out.event('stopped', { reason: why }, `demo stopped (${why})`);
  if (why.startsWith('failed')) process.exitCode = 1;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run a small network on this machine (namespaces as root, loopback otherwise) and show it live')
    .addOption(new Option('--duration <time>', 'stop after this long (e.g. 10s, 2m, 500ms)').argParser(parseDuration))
    .addOption(new Option('--interval <ms>', 'ms between broadcasts').default(1000).argParser(positiveInt('--interval')))
    .option('--loopback', 'stay on loopback even when namespaces are available')
    .option('--json', 'print NDJSON events on stdout')
    .action((flags: DemoFlags) => runDemo(flags));
}
