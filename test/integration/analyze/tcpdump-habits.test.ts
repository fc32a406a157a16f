/**
 * What a tcpdump user types: a positional filter expression run by wirelab's own BPF interpreter on
 * every file (the counts equal tcpdump's own on pcap files; a pcapng with two link types, which
 * tcpdump cannot read, is filtered too), `-r -` from stdin, `-w -` to stdout, `-D`; and the views a
 * tshark user expects: --flows, --stats --top, an honest --anomalies summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CaptureReader } from '../../../src/capture/index.js';
import { repoRoot, runWirelab, wirelabBin } from '../../helpers/process.js';

const run = promisify(execFile);
const ppp = resolve(repoRoot, 'test/fixtures/captures/pcapplusplus');
const example = join(ppp, 'example.pcap');

async function tcpdumpCount(file: string, expression: string): Promise<number> {
  const { stdout } = await run('tcpdump', ['-nn', '-r', file, expression], { maxBuffer: 64 << 20 });
  // one line per packet starts with its time; some decoders (CDP) add indented lines
  return stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d\./.test(l)).length;
}

const packetsOf = (events: Array<Record<string, unknown>>): Array<Record<string, unknown>> => events.filter((e) => e.event === 'packet');

test('a positional filter matches tcpdump packet for packet on pcap files of several link types', { timeout: 120_000 }, async () => {
  const cases: Array<[string, string]> = [
    ['example.pcap', 'udp port 53'],
    ['example.pcap', 'tcp[tcpflags] & tcp-syn != 0'],
    ['many-protocols.pcap', 'not tcp and not udp'],
    ['sll.pcap', 'tcp'],
    ['raw_ip.pcap', 'icmp or host 10.0.0.1'],
    ['null_loopback.pcap', 'ip6 or udp'],
  ];
  for (const [file, expression] of cases) {
    const { code, events, stderr } = await runWirelab(['analyze', '-r', join(ppp, file), '--json', expression]);
    assert.equal(code, 0, stderr);
    assert.equal(packetsOf(events).length, await tcpdumpCount(join(ppp, file), expression), `${file} '${expression}'`);
  }
  // --stats alone takes the callback reader's fast path: the filter applies there too
  const stats = await runWirelab(['analyze', '-r', example, '--stats', '--json', 'udp port 53']);
  assert.equal(stats.events.find((e) => e.event === 'stats')?.packets, await tcpdumpCount(example, 'udp port 53'));
});

test('the filter applies to a pcapng with two link types (Ethernet and Linux cooked) that tcpdump cannot filter', { timeout: 60_000 }, async () => {
  const file = join(ppp, 'pcapng-example.pcapng');
  const all = packetsOf((await runWirelab(['analyze', '-r', file, '--json'])).events);
  const { code, events } = await runWirelab(['analyze', '-r', file, '--json', '-f', 'tcp and port 6000']);
  assert.equal(code, 0);
  const expected = all.filter((p) => p.type === 'IPv4' && p.protocol === 'TCP' && (p.sport === 6000 || p.dport === 6000)).map((p) => p.frame);
  assert.ok(expected.length > 10);
  // the original frame numbers are kept, as tshark -Y keeps them
  assert.deepEqual(packetsOf(events).map((p) => p.frame), expected);
  const bad = await runWirelab(['analyze', '-r', file, 'port port']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^wirelab: bad filter 'port port'/);
  const twice = await runWirelab(['analyze', '-r', file, '-f', 'tcp', 'udp']);
  assert.equal(twice.code, 2);
});

test('-r - reads stdin, -w - writes a capture to stdout, -nn is accepted', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [wirelabBin, 'analyze', '-r', '-', '-nn', '-w', '-', '-c', '50', 'udp'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => (err += String(b)));
  child.stdin.on('error', () => undefined);
  child.stdin.end(await readFile(example));
  const code = await new Promise<number | null>((done) => child.once('close', (c) => done(c)));
  assert.equal(code, 0, err);
  const reader = new CaptureReader();
  const packets = reader.push(Buffer.concat(out));
  reader.end();
  assert.equal(packets.length, 50);
  assert.equal(reader.format, 'pcapng');
  // the summary went to stderr, so stdout holds nothing but the capture
  assert.match(err, /Summary: 50 packets/);
});

test('-D lists the interfaces, lo and any among them', { timeout: 30_000 }, async () => {
  const { code, stdout } = await runWirelab(['analyze', '-D']);
  assert.equal(code, 0);
  assert.match(stdout, /^\d+\.lo \[Up(, Running)?, Loopback\] 127\.0\.0\.1/m);
  assert.match(stdout, /^\d+\.any \[Up, Running\]/m);
});

test('--flows: conn.log records with Zeek field names; --stats --top N lists N talkers', { timeout: 60_000 }, async () => {
  const { code, events } = await runWirelab(['analyze', '-r', example, '--flows', '--json']);
  assert.equal(code, 0);
  const flows = events.filter((e) => e.event === 'flow');
  assert.ok(flows.length > 80);
  // tshark -z conv,tcp agrees: 10.0.0.6:40057 <-> 108.161.187.168:80, 5 frames each way, 644 and 1094 bytes
  const web = flows.find((f) => f['id.orig_p'] === 40057)!;
  assert.deepEqual(
    [web['id.orig_h'], web['id.resp_h'], web['id.resp_p'], web.proto, web.service, web.conn_state, web.orig_pkts, web.resp_pkts, web.orig_wire_bytes, web.resp_wire_bytes],
    ['10.0.0.6', '108.161.187.168', 80, 'tcp', 'HTTP', 'SF', 5, 5, 644, 1094],
  );
  // Zeek's history letters for an ordinary HTTP exchange: handshake, data both ways, responder closes first
  assert.equal(web.history, 'ShADadfF');
  assert.equal(web.ts, web.time);
  const text = await runWirelab(['analyze', '-r', example, '--stats', '--top', '2']);
  const block = text.stdout.split('Top sources by bytes:\n')[1]!.split('\n');
  assert.ok(/^ {2}\S/.test(block[0]!) && /^ {2}\S/.test(block[1]!) && !/^ {2}\d/.test(block[2]!));
});

test('--anomalies on a short file says the baseline is incomplete; --baseline N fits it with a caveat', { timeout: 90_000 }, async () => {
  const short = join(ppp, 'DnsPackets.pcap');
  const plain = await runWirelab(['analyze', '-r', short, '--anomalies']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /Anomalies: nothing scored: baseline incomplete \(\d+ packets? of 5,000 learnt/);
  const fitted = await runWirelab(['analyze', '-r', short, '--anomalies', '--baseline', '100', '--json']);
  assert.equal(fitted.code, 0, fitted.stderr);
  assert.match(fitted.stderr, /warning: a baseline of 100 packets \(default 5,000\) is a rough fit/);
  const summary = fitted.events.find((e) => e.event === 'anomaly-summary')!;
  assert.equal(summary.shortBaseline, true);
  assert.ok((summary.packetsScored as number) > 0, JSON.stringify(summary));
});
