/**
 * Anomaly detection on real traffic (issue 3): a lab of a server, three clients and an attacker in
 * network namespaces this test makes. The clients make seeded request/response traffic (TCP to three
 * ports, UDP) while tcpdump records it on the server's interface; once a baseline's worth of traffic
 * has gone by, the attacker runs a SYN port scan (nmap -sS) and a SYN flood from spoofed sources
 * (hping3 --rand-source), and one of the clients sends oversized UDP requests (jumbo frames over
 * 1514 bytes, on a 9000-byte MTU path between it and the server) to the usual UDP service, with the
 * normal traffic going on. Then the real
 * `wirelab analyze --read FILE --anomalies --json` reads the capture, and recall per attack and the
 * false-positive rate on normal traffic are computed from ground truth (anomaly-labels.ts).
 * KEEP_PCAP=FILE keeps a copy of the capture, for studying the detector on it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab } from '../../../src/lab/hosts.js';
import { runWirelab } from '../../helpers/process.js';
import { groundTruth, rate, tally, type AnomalyEvent, type Label, type Tally } from './anomaly-labels.js';
import { withDeadline } from '../../helpers/deadline.js';

const agent = fileURLToPath(new URL('./anomaly-traffic.ts', import.meta.url));
/** Fixed ports are safe: the namespaces are this test's alone. */
const TCP_PORTS = [80, 443, 8080];
const UDP_PORT = 9053;
/** Host order fixes the switch port names (p0, p1, ...: src/lab/hosts.ts). */
const HOSTS = ['server', 'c1', 'c2', 'c3', 'attacker'];
const JUMBO_MTU = 9000;
/** The client that also sends oversized datagrams: oversized packets from an otherwise normal host. */
const JUMBO_SENDER = 'c3';
/** Client sessions before the attacks (about 40 s: warm-up and baselines are full by then, checked below). */
const SESSIONS_BEFORE = 1200;
/** Client sessions after the attacks, so that normal traffic goes on past them. */
const SESSIONS_AFTER = 200;
const SCHEDULE = { warmup: 8, baselinePackets: 8000, baselineFlows: 600 };
const STEP_MS = 60_000;
const CAPTURE_STOP_MS = 15_000;

const missing = ['tcpdump', 'nmap', 'hping3'].find((tool) => spawnSync('which', [tool], { stdio: 'ignore' }).status !== 0);
const skip = Lab.unavailableReason() ?? (missing ? `${missing} is not installed` : false);

const deadline = <T>(promise: Promise<T>, what: string, ms = STEP_MS): Promise<T> => withDeadline(promise, ms, what);

/** Start `command` in `host`, killed at teardown; resolves once its output matches `ready` (if given). */
async function start(t: TestContext, lab: Lab, host: string, command: string, args: string[], ready?: RegExp): Promise<ChildProcess & { output: () => string }> {
  const child = lab.spawn(host, command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  const seen = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      output += d.toString();
      if (ready?.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} in ${host} exited (${code}) early: ${output.slice(-500)}`)));
  });
  seen.catch(() => undefined);
  if (ready) await deadline(seen, `${command} in ${host} ready`);
  return Object.assign(child, { output: () => output });
}

/** Run `command` in `host` to completion (bounded), failing on an exit code not in `ok`. */
async function run(t: TestContext, lab: Lab, host: string, command: string, args: string[], ok = [0]): Promise<void> {
  const child = await start(t, lab, host, command, args);
  const [code] = (await deadline(once(child, 'exit'), `${command} in ${host}`)) as [number | null];
  assert.ok(code !== null && ok.includes(code), `${command} ${args.join(' ')} exited ${code}: ${child.output().slice(-500)}`);
}

/**
 * SIGINT tcpdump (it then writes its statistics and closes the file), and SIGTERM it if that did not
 * end it within CAPTURE_STOP_MS; fails, with its output, if neither did.
 */
async function stopCapture(tcpdump: ChildProcess & { output: () => string }): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    if (tcpdump.exitCode !== null || tcpdump.signalCode !== null) return;
    const exited = once(tcpdump, 'exit');
    tcpdump.kill(signal);
    const stopped = await deadline(exited, 'tcpdump stops', CAPTURE_STOP_MS).then(() => true, () => false);
    if (stopped) return;
  }
  assert.fail(`tcpdump did not stop on SIGINT nor SIGTERM: ${tcpdump.output().slice(-500)}`);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

function describe(map: Map<Label, Tally>): string {
  return [...map].map(([label, t]) => `${label} ${t.flagged}/${t.scored} (${pct(rate(t))})`).join(', ');
}

interface Generated {
  sessions: number;
  failures: number;
  /** s from the first attack to the end of the last */
  attackSeconds: number;
}

/** Normal traffic from the clients, the three attacks amid it, all recorded by tcpdump on the server into `file`. */
async function generate(t: TestContext, lab: Lab, file: string): Promise<Generated> {
  const server = lab.host('server').address;
  // -Z root: tcpdump would otherwise drop to its own user, who cannot write the test's private dir
  const tcpdump = await start(t, lab, 'server', 'tcpdump', ['-i', 'eth0', '-n', '-U', '-Z', 'root', '-w', file, 'ip or arp'], /listening on/);
  await start(t, lab, 'server', process.execPath, ['--import', 'tsx', agent, 'serve', TCP_PORTS.join(','), String(UDP_PORT)], /ready/);
  const clients = await Promise.all(
    ['c1', 'c2', 'c3'].map((name, i) => start(t, lab, name, process.execPath, ['--import', 'tsx', agent, 'client', server, TCP_PORTS.join(','), String(UDP_PORT), String(101 + i)])),
  );
  const sessions = (): number => clients.reduce((n, c) => n + (c.output().match(/^s$/gm)?.length ?? 0), 0);
  const failures = (): number => clients.reduce((n, c) => n + (c.output().match(/^f /gm)?.length ?? 0), 0);
  const untilSessions = async (n: number): Promise<void> => {
    const reached = new Promise<void>((resolve) => {
      const check = (): void => {
        if (sessions() < n) return;
        for (const c of clients) c.stdout!.off('data', check);
        resolve();
      };
      for (const c of clients) c.stdout!.on('data', check);
      check();
    });
    await deadline(reached, `${n} client sessions (at ${sessions()})`, 120_000);
  };
  await untilSessions(SESSIONS_BEFORE);
  const started = Date.now();
  await run(t, lab, 'attacker', 'nmap', ['-sS', '-Pn', '-n', '-e', 'eth0', '--max-retries', '0', '--max-rate', '400', '-p', '1-1000', server]);
  await run(t, lab, 'attacker', 'hping3', ['-I', 'eth0', '-S', '-p', '80', '-c', '2000', '-i', 'u400', '--rand-source', '-q', server], [0, 1]); // 1: no replies (they went to spoofed addresses)
  await run(t, lab, JUMBO_SENDER, process.execPath, ['--import', 'tsx', agent, 'jumbo', server, String(UDP_PORT), '40', '7']);
  const attackSeconds = (Date.now() - started) / 1000;
  await untilSessions(sessions() + SESSIONS_AFTER);
  for (const c of clients) c.stdin!.end();
  await deadline(Promise.all(clients.map((c) => (c.exitCode === null ? once(c, 'exit') : Promise.resolve()))), 'clients stop');
  await stopCapture(tcpdump);
  return { sessions: sessions(), failures: failures(), attackSeconds };
}

/** Recall >= 90 % on every attack, per packet and (scan, flood) per flow; at most 2 % of normal traffic flagged. */
function assertDetection(packets: Map<Label, Tally>, flows: Map<Label, Tally>): void {
  for (const label of ['scan', 'flood', 'jumbo'] as const) {
    assert.ok((packets.get(label)?.scored ?? 0) >= (label === 'jumbo' ? 40 : 900), `${label} packets scored after the baseline`);
    assert.ok(rate(packets.get(label)) >= 0.9, `packet recall on ${label}: ${pct(rate(packets.get(label)))}`);
  }
  for (const label of ['scan', 'flood'] as const) {
    assert.ok((flows.get(label)?.scored ?? 0) >= 900, `${label} flows scored after the baseline`);
    assert.ok(rate(flows.get(label)) >= 0.9, `flow recall on ${label}: ${pct(rate(flows.get(label)))}`);
  }
  assert.ok((packets.get('normal')?.scored ?? 0) >= 5000, 'normal packets scored');
  assert.ok(rate(packets.get('normal')) <= 0.02, `packet false positives: ${pct(rate(packets.get('normal')))}`);
  assert.ok(rate(flows.get('normal')) <= 0.02, `flow false positives: ${pct(rate(flows.get('normal')))}`);
}

test('real traffic in namespaces: a port scan, a SYN flood and oversized packets are found (recall >= 90%, false positives <= 2%)', { skip, timeout: 240_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-anomaly-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const lab = await Lab.create({ hosts: HOSTS });
  t.after(() => lab.destroy());
  // jumbo frames between one client and the server only: both hosts and their switch ports
  for (const name of ['server', JUMBO_SENDER]) {
    await lab.exec(name, 'ip', ['link', 'set', 'eth0', 'mtu', String(JUMBO_MTU)]);
    await lab.exec(name, 'ip', ['-n', lab.switchNetns, 'link', 'set', `p${HOSTS.indexOf(name)}`, 'mtu', String(JUMBO_MTU)]);
  }
  const file = join(dir, 'server.pcap');
  const traffic = await generate(t, lab, file);
  if (process.env.KEEP_PCAP) await copyFile(file, process.env.KEEP_PCAP);
  assert.ok(traffic.failures <= traffic.sessions / 100, `client sessions failed: ${traffic.failures} of ${traffic.sessions}`);

  const cli = await runWirelab(
    ['analyze', '--read', file, '--anomalies', '--json', '--warmup', `${SCHEDULE.warmup}s`, '--baseline-packets', String(SCHEDULE.baselinePackets), '--baseline-flows', String(SCHEDULE.baselineFlows)],
    { timeoutMs: 120_000 },
  );
  assert.equal(cli.code, 0, cli.stderr);
  const anomalies = cli.events.filter((e) => e.event === 'anomaly') as unknown as AnomalyEvent[];
  const summary = cli.events.find((e) => e.event === 'anomaly-summary')!;
  const attacker = lab.host('attacker').address;
  const truth = await groundTruth(file, { attacker, lab: new Set(lab.hosts.map((h) => h.address)) }, SCHEDULE);
  // our reading of the detector's schedule must be the detector's
  assert.equal(summary.packetsScored, truth.scoredPackets.length, 'packets scored');
  assert.equal(summary.flowsScored, truth.scoredFlows.size, 'flows scored');
  assert.equal(summary.skipped, 0, 'the worker skipped nothing');
  // the baselines were normal traffic only, and the only oversized frames are the 40 sent on
  // purpose (no offloaded super-segments)
  assert.deepEqual([...truth.learntPackets.keys()], ['normal'], 'packet baseline');
  assert.deepEqual([...truth.learntFlows.keys()], ['normal'], 'flow baseline');
  assert.deepEqual([...truth.oversizedFrom], [[lab.host(JUMBO_SENDER).address, 40]]);

  const { packets, flows } = tally(truth, anomalies);
  t.diagnostic(`${truth.packets.length} packets, ${traffic.sessions} client sessions (${traffic.failures} failed), attacks over ${traffic.attackSeconds.toFixed(1)} s`);
  t.diagnostic(`packets: ${describe(packets)}`);
  t.diagnostic(`flows: ${describe(flows)}`);
  assertDetection(packets, flows);
});
