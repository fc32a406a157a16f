/**
 * Traffic the test generates itself (UDP, TCP with handshake and teardown, ICMP echo, ARP, IPv6 with
 * neighbour discovery and ping, a DNS query and answer, a fragmented IPv4 datagram), captured inside
 * namespaces this test made (never on the machine's own interfaces) by tcpdump, dumpcap and
 * `wirelab analyze --write` at once. Every file, whoever wrote it (pcap and pcapng; Ethernet on eth0
 * and lo, Linux cooked SLL and SLL2 on `any`), is read by us and compared with tshark packet by
 * packet, and tcpdump's file and ours must hold the same packets.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeLayers, readCaptureFile, type RawPacket } from '../../../src/capture/index.js';
import { Lab } from '../../../src/lab/hosts.js';
import { runWirelab } from '../../helpers/process.js';
import { compareWithTshark, tsharkRows } from '../decode/tshark.js';
import { dumpcapSpec, startCaptures, stopAfterMarker, tcpdumpSpec, wirelabSpec, type CaptureSpec } from './lab-capture.js';
import { DNS_NAME, FRAGMENTED_BYTES, MARKER } from './traffic-agent.js';
import { ourSeedFields, tsharkSeedFields } from './tshark-json.js';

const run = promisify(execFile);
const agent = fileURLToPath(new URL('./traffic-agent.ts', import.meta.url));
/** A fixed port is safe here: the namespaces are this test's alone. */
const PORT = 40000;
/**
 * Leave out what IPv6 sends by itself at random moments (router solicitations; MLD reports, which
 * carry a hop-by-hop header), so captures started a few milliseconds apart see the same packets.
 */
const FILTER = 'not ip6 proto 0 and not (icmp6 and ip6[40] == 133)';

const missingTool = ['tcpdump', 'dumpcap', 'tshark'].find((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0);
const skip = Lab.unavailableReason() ?? (missingTool ? `${missingTool} is not installed` : false);

async function readAll(file: string): Promise<RawPacket[]> {
  const packets: RawPacket[] = [];
  for await (const batch of readCaptureFile(file)) packets.push(...batch);
  return packets;
}

/** The host's IPv6 link-local address once duplicate address detection is over, or undefined without IPv6. */
async function linkLocal(lab: Lab, host: string): Promise<string | undefined> {
  const started = Date.now();
  while (Date.now() - started < 10_000) {
    const out = await lab.exec(host, 'ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
    if (out.trim() === '') return undefined;
    if (!/tentative/.test(out)) return /inet6 (\S+)\//.exec(out)?.[1];
    // DAD takes about a second and announces nothing we could wait on
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${host}: IPv6 link-local address still tentative after 10 s`);
}

/** Start the agent's servers in `host` and wait for its "ready". */
async function startServer(t: TestContext, lab: Lab, host: string): Promise<void> {
  const server = lab.spawn(host, process.execPath, ['--import', 'tsx', agent, 'serve', String(PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => server.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('traffic agent server not ready within 30 s')), 30_000);
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.once('exit', (code) => reject(new Error(`traffic agent server exited ${code}`)));
  });
}

/** Our reading of `file` against tshark's (fields by -T fields, and `wirelab analyze --json` by -T json). */
async function compareFile(t: TestContext, file: string): Promise<RawPacket[]> {
  const packets = await readAll(file);
  const c = compareWithTshark(packets.map((p) => decodeLayers(p)), tsharkRows(file));
  assert.deepEqual(c.mismatches, [], file);
  const cli = await runWirelab(['analyze', '--read', file, '--json'], { timeoutMs: 60_000 });
  assert.equal(cli.code, 0, cli.stderr);
  const ours = ourSeedFields(cli.events);
  assert.deepEqual(ours, tsharkSeedFields(file), `${file}: wirelab analyze --json vs tshark -T json`);
  t.diagnostic(`${file.split('/').pop()}: ${packets.length} packets (link type ${packets[0]?.linkType}), ${c.agreed}/${c.compared} fields and ${ours.length} JSON records agree with tshark`);
  return packets;
}

/**
 * Same packets, same bytes, same order. Timestamps agree within a millisecond: each packet socket
 * stamps its own copy, so two captures differ by a few microseconds.
 */
function assertSamePackets(a: RawPacket[], b: RawPacket[], what: string): void {
  const digest = (p: RawPacket): string => `${p.originalLength} ${createHash('sha256').update(p.data).digest('hex').slice(0, 16)}`;
  assert.deepEqual(a.map(digest), b.map(digest), what);
  const skew = a.map((p, i) => Math.abs((p.tsSec - b[i]!.tsSec) * 1e9 + p.tsNsec - b[i]!.tsNsec));
  assert.ok(Math.max(0, ...skew) < 1e6, `${what}: timestamps within 1 ms (largest difference ${Math.max(0, ...skew)} ns)`);
}

test('between two namespace hosts: tcpdump, dumpcap and wirelab capture the same traffic, decoded as tshark does', { skip, timeout: 240_000 }, async (t) => {
  const lab = await Lab.create({ hosts: ['a', 'b'] });
  t.after(() => lab.destroy());
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-lab-capture-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const b = lab.host('b');
  const [, v6] = await Promise.all([linkLocal(lab, 'a'), linkLocal(lab, 'b')]);
  if (!v6) t.diagnostic('the lab has no IPv6: the IPv6 part is left out');
  await startServer(t, lab, 'b');

  const files = {
    tcpdump: join(dir, 'eth0.tcpdump.pcap'),
    wirelab: join(dir, 'eth0.wirelab.pcapng'),
    sll: join(dir, 'any.sll.pcap'),
    sll2: join(dir, 'any.sll2.pcap'),
    dumpcap: join(dir, 'any.dumpcap.pcapng'),
  };
  const specs: CaptureSpec[] = [
    tcpdumpSpec('tcpdump eth0', 'eth0', files.tcpdump, FILTER),
    wirelabSpec('wirelab eth0', 'eth0', files.wirelab, FILTER),
    tcpdumpSpec('tcpdump any (SLL)', 'any', files.sll, FILTER, ['-y', 'LINUX_SLL']),
    tcpdumpSpec('tcpdump any (SLL2)', 'any', files.sll2, FILTER, ['-y', 'LINUX_SLL2']),
    dumpcapSpec('dumpcap any', 'any', files.dumpcap, FILTER),
  ];
  const captures = await startCaptures(lab, 'a', specs);
  t.after(() => captures.forEach((c) => c.child.kill('SIGKILL')));

  await lab.exec('a', 'ping', ['-n', '-c', '2', '-i', '0.2', '-W', '5', b.address]);
  if (v6) await lab.exec('a', 'ping', ['-6', '-n', '-c', '2', '-i', '0.2', '-W', '5', `${v6}%eth0`]);
  await lab.exec('a', process.execPath, ['--import', 'tsx', agent, 'client', b.address, v6 ? `${v6}%eth0` : '-', String(PORT)]);
  await stopAfterMarker(captures, MARKER.length);

  const read: Record<string, RawPacket[]> = {};
  for (const [name, file] of Object.entries(files)) read[name] = await compareFile(t, file);
  assertSamePackets(read.wirelab!, read.tcpdump!, 'wirelab --write and tcpdump -w hold the same packets');
  assert.deepEqual([read.sll![0]?.linkType, read.sll2![0]?.linkType, read.tcpdump![0]?.linkType, read.dumpcap![0]?.linkType], [113, 276, 1, 113]);
  assert.equal(read.sll!.length, read.tcpdump!.length, 'any sees what eth0 sees (nothing on lo)');
  assert.equal(read.sll2!.length, read.tcpdump!.length);
  assert.equal(read.dumpcap!.length, read.tcpdump!.length);

  // the traffic asked for is all there, as our decoder reads it
  const s = read.wirelab!.map((p) => decodeLayers(p).summary);
  const has = (what: string, predicate: (x: (typeof s)[number]) => boolean): void => assert.ok(s.some(predicate), `${what} captured`);
  has('ARP request and reply', (x) => x.protocol === 'ARP' && /is at/.test(x.info));
  has('ICMP echo request', (x) => x.protocol === 'ICMP' && /request/i.test(x.info));
  has('ICMP echo reply', (x) => x.protocol === 'ICMP' && /reply/i.test(x.info));
  for (const flags of ['SYN', 'SYN,ACK', 'FIN,ACK', 'PSH,ACK']) has(`TCP ${flags}`, (x) => x.protocol === 'TCP' && x.flags === flags);
  has('DNS query', (x) => x.protocol === 'DNS' && x.dport === 53 && x.info.includes(DNS_NAME));
  has('DNS answer', (x) => x.protocol === 'DNS' && x.sport === 53 && x.info.includes('203.0.113.7'));
  has('first fragment', (x) => x.type === 'IPv4' && x.flags === 'MF' && x.dport === PORT);
  has('last fragment', (x) => x.type === 'IPv4' && x.flags === '' && x.protocol === 'UDP' && x.sport === undefined && /offset/.test(x.info));
  assert.ok(FRAGMENTED_BYTES > 1500);
  if (v6) {
    has('ICMPv6 neighbour solicitation', (x) => x.protocol === 'ICMPv6' && /solicitation/i.test(x.info));
    has('ICMPv6 echo', (x) => x.protocol === 'ICMPv6' && /echo/i.test(x.info));
    has('UDP over IPv6', (x) => x.type === 'IPv6' && x.protocol === 'UDP' && x.dport === PORT);
  }
});

test('loopback inside a namespace: tcpdump, dumpcap and wirelab on lo capture the same traffic, decoded as tshark does', { skip, timeout: 240_000 }, async (t) => {
  const lab = await Lab.create({ hosts: ['solo'] });
  t.after(() => lab.destroy());
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-lab-lo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // an Ethernet-sized MTU on this namespace's lo, so that the big datagram is fragmented here too
  await run('ip', ['-n', lab.host('solo').netns, 'link', 'set', 'lo', 'mtu', '1500']);
  const v6 = (await lab.exec('solo', 'ip', ['-6', '-o', 'addr', 'show', 'dev', 'lo'])).includes('::1') ? '::1' : '-';
  await startServer(t, lab, 'solo');
  const files = { tcpdump: join(dir, 'lo.tcpdump.pcap'), wirelab: join(dir, 'lo.wirelab.pcapng'), dumpcap: join(dir, 'lo.dumpcap.pcapng') };
  const captures = await startCaptures(lab, 'solo', [
    tcpdumpSpec('tcpdump lo', 'lo', files.tcpdump, FILTER),
    wirelabSpec('wirelab lo', 'lo', files.wirelab, FILTER),
    dumpcapSpec('dumpcap lo', 'lo', files.dumpcap, FILTER),
  ]);
  t.after(() => captures.forEach((c) => c.child.kill('SIGKILL')));
  await lab.exec('solo', 'ping', ['-n', '-c', '2', '-i', '0.2', '-W', '5', '127.0.0.1']);
  await lab.exec('solo', process.execPath, ['--import', 'tsx', agent, 'client', '127.0.0.1', v6, String(PORT)]);
  await stopAfterMarker(captures, MARKER.length);

  const read: Record<string, RawPacket[]> = {};
  for (const [name, file] of Object.entries(files)) read[name] = await compareFile(t, file);
  assertSamePackets(read.wirelab!, read.tcpdump!, 'wirelab --write and tcpdump -w hold the same packets');
  assert.equal(read.dumpcap!.length, read.tcpdump!.length);
  assert.equal(read.tcpdump![0]?.linkType, 1, 'lo is Ethernet (DLT_EN10MB)');
  const s = read.tcpdump!.map((p) => decodeLayers(p).summary);
  assert.ok(s.some((x) => x.protocol === 'DNS' && x.sport === 53), 'DNS answer');
  assert.ok(s.some((x) => x.flags === 'SYN,ACK'), 'TCP handshake');
  assert.ok(s.some((x) => x.flags === 'MF'), 'fragment');
  assert.ok(s.some((x) => x.protocol === 'ICMP'), 'ping');
  if (v6 !== '-') assert.ok(s.some((x) => x.type === 'IPv6' && x.protocol === 'UDP'), 'UDP over ::1');
});
