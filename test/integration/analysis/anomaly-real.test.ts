/**
 * Anomaly detection on real traffic (issues 3 and 16): a lab of a server, four clients and an
 * attacker in network namespaces this test makes. Three clients make seeded request/response
 * traffic (TCP to three ports, UDP) while tcpdump records it on the server's interface; once a
 * baseline's worth of traffic has gone by, with the normal traffic going on:
 *  - the attacker runs a SYN port scan (nmap -sS), a SYN flood from spoofed sources (hping3
 *    --rand-source), a UDP flood and an ICMP flood (hping3, 10,000 packets/s, the UDP source port
 *    changing per packet), a request flood (thousands of short connections, each one request) and a
 *    bulk transfer (one connection to a port never used before, paced);
 *  - one client sends oversized UDP requests (jumbo frames over 1514 bytes, on a 9000-byte MTU path
 *    between it and the server) to the usual UDP service;
 *  - benign changes: a new client host starts running the normal client, and a known client uses a
 *    service (a port) not seen before, ten ordinary sessions.
 * Then the real `wirelab analyze --read FILE --anomalies --json` reads the capture (forest seed 1),
 * and the detector itself reads it again with forest seeds 2-5; recall per attack, the false-positive
 * rate on normal traffic and the share of the newcomers' packets flagged are computed from ground
 * truth (anomaly-labels.ts) and held to the goals for every seed.
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
import { AnomalyDetector, type Anomaly, type Novelty } from '../../../src/analysis/index.js';
import { runWirelab } from '../../helpers/process.js';
import { groundTruth, rate, tally, type AnomalyEvent, type Hosts, type Label, type Tally, type Truth } from './anomaly-labels.js';
import { withDeadline } from '../../helpers/deadline.js';

const agent = fileURLToPath(new URL('./anomaly-traffic.ts', import.meta.url));
/** Fixed ports are safe: the namespaces are this test's alone. */
const TCP_PORTS = [80, 443, 8080];
const UDP_PORT = 9053;
/** Ports only the attacks and the benign changes use (the scan covers 1-1000). */
const PORTS = { reqflood: 8080, bulk: 5001, newservice: 8081 };
const UDP_FLOOD_PORT = 7777;
/** Host order fixes the switch port names (p0, p1, ...: src/lab/hosts.ts). */
const HOSTS = ['server', 'c1', 'c2', 'c3', 'attacker', 'c4'];
/** The client that starts only after the baseline. */
const NEWCOMER = 'c4';
/** Sessions the newcomer runs (about 10 s). */
const NEWCOMER_SESSIONS = 100;
/** s after its first packet from which the newcomer's packets are held to the normal traffic's goal. */
const NEWCOMER_SETTLED_S = 1;
/** Forest seeds the detector is run with on the same capture (1 by the CLI, the rest in this process). */
const SEEDS = [1, 2, 3, 4, 5];
const JUMBO_MTU = 9000;
/** The client that also sends oversized datagrams: oversized packets from an otherwise normal host. */
const JUMBO_SENDER = 'c3';
/** Client sessions before the attacks (about 40 s: warm-up and baselines are full by then, checked below). */
const SESSIONS_BEFORE = 1200;
/** Client sessions after the attacks, so that normal traffic goes on past them. */
const SESSIONS_AFTER = 200;
const SCHEDULE = { warmup: 8, baselinePackets: 8000, baselineFlows: 800 };
const STEP_MS = 90_000;
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

/** Wait until `clients` have printed `n` sessions in all. */
async function untilSessions(clients: (ChildProcess & { output: () => string })[], n: number): Promise<void> {
  const sessions = (): number => clients.reduce((k, c) => k + (c.output().match(/^s$/gm)?.length ?? 0), 0);
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
}

/** End `clients` (stdin closed) and wait for them to exit. */
async function stopClients(clients: ChildProcess[]): Promise<void> {
  for (const c of clients) c.stdin!.end();
  await deadline(Promise.all(clients.map((c) => (c.exitCode === null ? once(c, 'exit') : Promise.resolve()))), 'clients stop');
}

/** The attacker's floods, one after another (hping3 exits 1 when no reply came back: fine here). */
async function floods(t: TestContext, lab: Lab, server: string): Promise<void> {
  const hping = (args: string[]): Promise<void> => run(t, lab, 'attacker', 'hping3', ['-I', 'eth0', '-q', ...args, server], [0, 1]);
  await run(t, lab, 'attacker', 'nmap', ['-sS', '-Pn', '-n', '-e', 'eth0', '--max-retries', '0', '--max-rate', '400', '-p', '1-1000', server]);
  await hping(['-S', '-p', '80', '-c', '2000', '-i', 'u400', '--rand-source']);
  await hping(['--udp', '-p', String(UDP_FLOOD_PORT), '-c', '20000', '-i', 'u100']);
  await hping(['--icmp', '-c', '20000', '-i', 'u100']);
  await run(t, lab, 'attacker', process.execPath, ['--import', 'tsx', agent, 'rflood', server, String(PORTS.reqflood), '3000', '16']);
}

/** Normal traffic from the clients, the attacks and the benign changes amid it, recorded by tcpdump on the server into `file`. */
async function generate(t: TestContext, lab: Lab, file: string): Promise<Generated> {
  const server = lab.host('server').address;
  // -Z root: tcpdump would otherwise drop to its own user, who cannot write the test's private dir
  const tcpdump = await start(t, lab, 'server', 'tcpdump', ['-i', 'eth0', '-n', '-U', '-Z', 'root', '-w', file, 'ip or arp'], /listening on/);
  const served = [...TCP_PORTS, PORTS.reqflood, PORTS.newservice].filter((p, i, all) => all.indexOf(p) === i);
  await start(t, lab, 'server', process.execPath, ['--import', 'tsx', agent, 'serve', served.join(','), String(UDP_PORT), String(PORTS.bulk)], /ready/);
  const client = (name: string, seed: number): Promise<ChildProcess & { output: () => string }> =>
    start(t, lab, name, process.execPath, ['--import', 'tsx', agent, 'client', server, TCP_PORTS.join(','), String(UDP_PORT), String(seed)]);
  const clients = await Promise.all(['c1', 'c2', 'c3'].map((name, i) => client(name, 101 + i)));
  const count = (list: (ChildProcess & { output: () => string })[], re: RegExp): number => list.reduce((n, c) => n + (c.output().match(re)?.length ?? 0), 0);
  await untilSessions(clients, SESSIONS_BEFORE);
  const started = Date.now();
  await floods(t, lab, server);
  await run(t, lab, JUMBO_SENDER, process.execPath, ['--import', 'tsx', agent, 'jumbo', server, String(UDP_PORT), '40', '7']);
  const attackSeconds = (Date.now() - started) / 1000;
  // the bulk transfer, with the newcomer and the new service's first use beside it
  const newcomer = await client(NEWCOMER, 104);
  await Promise.all([
    // 30 MB at 20 Mbit/s: 12 s, past the flow table's 10 s active timeout
    run(t, lab, 'attacker', process.execPath, ['--import', 'tsx', agent, 'bulk', server, String(PORTS.bulk), '30', '20']),
    run(t, lab, 'c2', process.execPath, ['--import', 'tsx', agent, 'sessions', server, String(PORTS.newservice), '10', '9']),
    untilSessions([newcomer], NEWCOMER_SESSIONS),
  ]);
  await stopClients([newcomer]);
  await untilSessions(clients, count(clients, /^s$/gm) + SESSIONS_AFTER);
  await stopClients(clients);
  await stopCapture(tcpdump);
  const all = [...clients, newcomer];
  return { sessions: count(all, /^s$/gm), failures: count(all, /^f /gm), attackSeconds };
}

const ATTACKS = ['scan', 'flood', 'jumbo', 'udpflood', 'icmpflood', 'reqflood', 'bulk'] as const;
/** Items of each attack scored at least (packets or flows), so that a failed attack generator shows. */
const LEAST: Record<(typeof ATTACKS)[number], number> = { scan: 900, flood: 1800, jumbo: 40, udpflood: 5000, icmpflood: 5000, reqflood: 3000, bulk: 1 };

/**
 * The goals of issue 16, for one forest seed: every attack flagged at >= 90 % of its packets or of
 * its flows; at most 2 % of normal packets and flows; at most 20 % of the newcomer's packets after
 * its `new host` event and of the new service's packets.
 */
function assertDetection(seed: number, packets: Map<Label, Tally>, flows: Map<Label, Tally>): void {
  for (const label of ATTACKS) {
    const scored = Math.max(packets.get(label)?.scored ?? 0, flows.get(label)?.scored ?? 0);
    assert.ok(scored >= LEAST[label], `seed ${seed}: ${label} items scored after the baseline: ${scored}`);
    const best = Math.max(rate(packets.get(label)) || 0, rate(flows.get(label)) || 0);
    assert.ok(best >= 0.9, `seed ${seed}: recall on ${label}: packets ${pct(rate(packets.get(label)))}, flows ${pct(rate(flows.get(label)))}`);
  }
  assert.ok((packets.get('normal')?.scored ?? 0) >= 5000, 'normal packets scored');
  assert.ok(rate(packets.get('normal')) <= 0.02, `seed ${seed}: packet false positives: ${pct(rate(packets.get('normal')))}`);
  assert.ok(rate(flows.get('normal')) <= 0.02, `seed ${seed}: flow false positives: ${pct(rate(flows.get('normal')))}`);
  for (const label of ['newcomer', 'newservice'] as const) {
    assert.ok((packets.get(label)?.scored ?? 0) >= 50, `${label} packets scored`);
    assert.ok(rate(packets.get(label)) <= 0.2, `seed ${seed}: ${label} packets flagged: ${pct(rate(packets.get(label)))}`);
  }
}

/** Run the detector in this process over the capture's packets with forest seed `seed`. */
function detect(truth: Truth, seed: number): { anomalies: Anomaly[]; novelties: Novelty[] } {
  const detector = new AnomalyDetector({ ...SCHEDULE, seed });
  const anomalies: Anomaly[] = [];
  const novelties: Novelty[] = [];
  for (let i = 0; i < truth.packets.length; i += 4096) {
    anomalies.push(...detector.pushBatch(truth.packets.slice(i, i + 4096)));
    novelties.push(...detector.takeNovelties());
  }
  anomalies.push(...detector.flush());
  return { anomalies, novelties };
}

/**
 * Tally one seed's anomalies, counting the newcomer's packets from after its first one (its `new
 * host` event), and apart those from more than NEWCOMER_SETTLED_S after it.
 */
function tallySeed(truth: Truth, anomalies: AnomalyEvent[]): { packets: Map<Label, Tally>; flows: Map<Label, Tally>; settled: Tally } {
  const result = tally(truth, anomalies);
  const time = (i: number): number => truth.packets[i - 1]!.tsSec + truth.packets[i - 1]!.tsNsec / 1e9;
  const after = truth.scoredPackets.filter((i) => i > truth.newcomerFirst && truth.packetLabel.get(i) === 'newcomer');
  const settled = new Set(after.filter((i) => time(i) > time(truth.newcomerFirst) + NEWCOMER_SETTLED_S));
  const flagged = new Set(anomalies.filter((a) => a.kind === 'packet').map((a) => a.index));
  result.packets.set('newcomer', { scored: after.length, flagged: after.filter((i) => flagged.has(i)).length });
  return { ...result, settled: { scored: settled.size, flagged: [...settled].filter((i) => flagged.has(i)).length } };
}

/** Novelty: one `new host` event for the newcomer, none for hosts of the baseline, one `new service` for the new port. */
function assertNovelty(novelties: Novelty[], hosts: Hosts, server: string, known: string[]): void {
  const newHosts = novelties.filter((e) => e.kind === 'new host');
  assert.equal(newHosts.filter((e) => e.address === hosts.newcomer).length, 1, 'one new host event for the newcomer');
  assert.deepEqual(newHosts.filter((e) => known.includes(e.address)), [], 'no new host event for a host of the baseline');
  const services = novelties.filter((e) => e.kind === 'new service' && e.address === server && e.port === PORTS.newservice);
  assert.equal(services.length, 1, 'one new service event for the new port');
  assert.ok(novelties.length <= 200, `novelty events are few (rate-limited): ${novelties.length}`);
}

test('real traffic in namespaces: scans, floods, oversized packets and a bulk transfer are found, newcomers are reported once (five forest seeds)', { skip, timeout: 420_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-anomaly-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const lab = await Lab.create({ hosts: HOSTS });
  t.after(() => lab.destroy());
  // jumbo frames between one client and the server only: both hosts and their switch ports
  for (const name of ['server', JUMBO_SENDER]) {
    await lab.exec(name, 'ip', ['link', 'set', 'eth0', 'mtu', String(JUMBO_MTU)]);
    await lab.exec(name, 'ip', ['-n', lab.switchNetns, 'link', 'set', `p${HOSTS.indexOf(name)}`, 'mtu', String(JUMBO_MTU)]);
  }
  // the bulk sender's segments as they would be on a wire: no offloaded super-segments
  await lab.exec('attacker', 'ip', ['link', 'set', 'eth0', 'gso_max_segs', '1']);
  const file = join(dir, 'server.pcap');
  const traffic = await generate(t, lab, file);
  if (process.env.KEEP_PCAP) await copyFile(file, process.env.KEEP_PCAP);
  assert.ok(traffic.failures <= traffic.sessions / 100, `client sessions failed: ${traffic.failures} of ${traffic.sessions}`);

  const cli = await runWirelab(
    ['analyze', '--read', file, '--anomalies', '--json', '--warmup', `${SCHEDULE.warmup}s`, '--baseline-packets', String(SCHEDULE.baselinePackets), '--baseline-flows', String(SCHEDULE.baselineFlows)],
    { timeoutMs: 180_000 },
  );
  assert.equal(cli.code, 0, cli.stderr);
  const anomalies = cli.events.filter((e) => e.event === 'anomaly') as unknown as AnomalyEvent[];
  const novelties = cli.events.filter((e) => e.event === 'novelty') as unknown as Novelty[];
  const summary = cli.events.find((e) => e.event === 'anomaly-summary')!;
  const server = lab.host('server').address;
  const hosts: Hosts = { attacker: lab.host('attacker').address, newcomer: lab.host(NEWCOMER).address, lab: new Set(lab.hosts.map((h) => h.address)), ports: PORTS };
  const truth = await groundTruth(file, hosts, SCHEDULE);
  // our reading of the detector's schedule must be the detector's
  assert.equal(summary.packetsScored, truth.scoredPackets.length, 'packets scored');
  assert.equal(summary.flowsScored, truth.scoredFlows.size, 'flows scored');
  assert.equal(summary.skipped, 0, 'the worker skipped nothing');
  // the baselines were normal traffic only, and the only oversized frames (but the attacker's) are
  // the 40 sent on purpose (no offloaded super-segments)
  assert.deepEqual([...truth.learntPackets.keys()], ['normal'], 'packet baseline');
  assert.deepEqual([...truth.learntFlows.keys()], ['normal'], 'flow baseline');
  assert.deepEqual([...truth.oversizedFrom], [[lab.host(JUMBO_SENDER).address, 40]]);
  t.diagnostic(`${truth.packets.length} packets, ${traffic.sessions} client sessions (${traffic.failures} failed), attacks over ${traffic.attackSeconds.toFixed(1)} s`);
  assertNovelty(novelties, hosts, server, ['server', 'c1', 'c2', 'c3'].map((h) => lab.host(h).address));
  // the transfer was reported while it ran (a flow record on the active timeout, before its last packet)
  const bulkPackets = truth.scoredPackets.filter((i) => truth.packetLabel.get(i) === 'bulk');
  const whileOpen = anomalies.filter((a) => a.kind === 'flow' && a.flow!.dport === PORTS.bulk && a.flow!.endReason === 'active');
  assert.ok(whileOpen.length >= 1 && whileOpen[0]!.index < bulkPackets[bulkPackets.length - 1]!, 'the bulk transfer flagged while open');

  for (const seed of SEEDS) {
    const found = seed === 1 ? { anomalies, novelties } : detect(truth, seed);
    const { packets, flows, settled } = tallySeed(truth, found.anomalies);
    t.diagnostic(`seed ${seed} packets: ${describe(packets)}; newcomer after ${NEWCOMER_SETTLED_S} s ${settled.flagged}/${settled.scored}`);
    t.diagnostic(`seed ${seed} flows: ${describe(flows)}`);
    if (seed !== 1) assertNovelty(found.novelties, hosts, server, ['server', 'c1', 'c2', 'c3'].map((h) => lab.host(h).address));
    assertDetection(seed, packets, flows);
    // within a second the newcomer is flagged no more than any normal client
    assert.ok(settled.scored >= 50 && rate(settled) <= 0.02, `seed ${seed}: newcomer packets flagged after ${NEWCOMER_SETTLED_S} s: ${settled.flagged}/${settled.scored}`);
  }
});
