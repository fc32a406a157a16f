/**
 * `wirelab analyze` as a user runs it: the real CLI process on real capture files, and live on the
 * loopback interface filtered to a port this test bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, runWirelab, WirelabProcess } from '../../helpers/process.js';

const run = promisify(execFile);
const ppp = resolve(repoRoot, 'test/fixtures/captures/pcapplusplus');
const example = join(ppp, 'example.pcap');

test('--read --json: one packet event per packet, then a summary', { timeout: 120_000 }, async () => {
  const { code, events, stderr } = await runWirelab(['analyze', '--read', example, '--json'], { timeoutMs: 90_000 });
  assert.equal(code, 0, stderr);
  const packets = events.filter((e) => e.event === 'packet');
  assert.equal(packets.length, 4631);
  assert.deepEqual(
    { ...packets[0], info: undefined },
    { event: 'packet', frame: 1, type: 'IPv4', time: 1367526033.491822, src: '10.0.0.6', dst: '10.0.0.138', sport: 21536, dport: 53, protocol: 'DNS', length: 76, flags: 'DF', info: undefined },
  );
  assert.deepEqual({ ...events.at(-1), time: 0 }, { event: 'summary', time: 0, packets: 4631, bytes: 3738523 });
  assert.ok(Math.abs((events.at(-1)!.time as number) - Date.now() / 1000) < 60, 'the summary is stamped with the time of the event');
});

test('-r -c: tcpdump-style lines (frame, local time with TZ, aligned columns), then the stamped summary', { timeout: 60_000 }, async () => {
  const { code, stdout } = await runWirelab(['analyze', '-r', example, '-c', '5', '-nn'], { env: { ...process.env, TZ: 'Asia/Kolkata' } });
  assert.equal(code, 0);
  const lines = stdout.split('\n');
  assert.equal(lines.length, 6);
  // 20:20:33 UTC is 01:50:33 in Kolkata (UTC+5:30)
  assert.equal(lines[0], '     1 01:50:33.491822 10.0.0.6:21536        -> 10.0.0.138:53         DNS       76 [DF] Standard query 0x3927 A daisy.ubuntu.com');
  assert.ok(lines.slice(0, 5).every((l) => l.indexOf(' -> ') === lines[0]!.indexOf(' -> ')), 'the arrow column is aligned');
  assert.match(lines[5]!, /^\d\d:\d\d:\d\d\.\d{3} Summary: 5 packets, 492 bytes$/);
  const utc = await runWirelab(['analyze', '-r', example, '-c', '1', '--utc'], { env: { ...process.env, TZ: 'Asia/Kolkata' } });
  assert.match(utc.stdout, /^ {5}1 20:20:33\.491822 /);
  const one = await runWirelab(['analyze', '-r', join(ppp, 'ArpRequestPacket.pcap')]);
  assert.match(one.stdout, /^ +1 \d\d:\d\d:\d\d\.\d{6} 6c:f0:49:b2:de:6e +-> ff:ff:ff:ff:ff:ff +ARP +42 Who has 10\.0\.0\.138\? Tell 10\.0\.0\.1\n/);
  assert.match(one.stdout, /Summary: 1 packet, 42 bytes$/);
});

test('errors: one line and a non-zero exit; a truncated file prints its good packets first', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-analyze-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const missing = await runWirelab(['analyze', '--read', join(dir, 'nope.pcap')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.match(missing.stderr, /no such file/);
  assert.equal(missing.stdout, '');

  const text = join(dir, 'notes.pcap');
  await writeFile(text, 'these are not packets\n');
  const notCapture = await runWirelab(['analyze', '--read', text]);
  assert.equal(notCapture.code, 1);
  assert.match(notCapture.stderr, /^wirelab: .*not a pcap or pcapng capture/);

  const cut = join(dir, 'cut.pcap');
  await writeFile(cut, (await readFile(example)).subarray(0, 100_000));
  const truncated = await runWirelab(['analyze', '--read', cut, '--json']);
  assert.equal(truncated.code, 1);
  assert.equal(truncated.events.filter((e) => e.event === 'packet').length, 124);
  assert.deepEqual({ ...truncated.events.at(-1), time: 0 }, { event: 'summary', time: 0, packets: 124, bytes: 96801 });
  assert.match(truncated.stderr, /^wirelab: .*truncated.* at byte 98809/);
});

test('--write: the packets read are written to a file tshark opens; like tcpdump -w, no lines', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-analyze-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'first100.pcapng');
  const { code, events } = await runWirelab(['analyze', '--read', example, '--count', '100', '--write', out, '--json']);
  assert.equal(code, 0);
  assert.deepEqual(events.map((e) => e.event), ['summary']);
  const { stdout } = await run('capinfos', ['-c', '-M', out]);
  assert.match(stdout, /Number of packets:\s+100\b/);
});

test('live on lo: datagrams to our port are printed; SIGTERM prints the summary with kernel drops', { timeout: 60_000 }, async (t) => {
  const receiver = createSocket('udp4');
  t.after(() => receiver.close());
  await new Promise<void>((done) => receiver.bind(0, '127.0.0.1', done));
  const port = receiver.address().port;
  const proc = WirelabProcess.start(['analyze', '--interface', 'lo', '--filter', `udp and dst port ${port}`, '--json']);
  t.after(() => proc.stop('SIGKILL'));
  await proc.waitFor((e) => e.event === 'started', 20_000, 'capture started');
  const sender = createSocket('udp4');
  t.after(() => sender.close());
  for (let i = 0; i < 5; i++) sender.send(Buffer.from(`hello ${i}`), port, '127.0.0.1');
  await proc.waitForCount((e) => e.event === 'packet', 5, 20_000);
  const exit = await proc.stop('SIGTERM');
  assert.equal(exit.code, 143, proc.stderr); // 128 + SIGTERM after a clean stop (docs/cli.md)
  const packets = proc.events.filter((e) => e.event === 'packet');
  assert.ok(packets.every((p) => p.protocol === 'UDP' && p.dport === port && p.length === 14 + 20 + 8 + 7));
  const summary = proc.events.at(-1)!;
  assert.equal(summary.event, 'summary');
  assert.equal(summary.packets, 5);
  assert.equal(summary.droppedByKernel, 0);
});

test('live on lo with --count: stops by itself after N packets', { timeout: 60_000 }, async (t) => {
  const receiver = createSocket('udp4');
  t.after(() => receiver.close());
  await new Promise<void>((done) => receiver.bind(0, '127.0.0.1', done));
  const port = receiver.address().port;
  const proc = WirelabProcess.start(['analyze', '--interface', 'lo', '--filter', `udp and dst port ${port}`, '--count', '3', '--json']);
  t.after(() => proc.stop('SIGKILL'));
  await proc.waitFor((e) => e.event === 'started', 20_000, 'capture started');
  const sender = createSocket('udp4');
  t.after(() => sender.close());
  for (let i = 0; i < 5; i++) sender.send(Buffer.from('x'), port, '127.0.0.1');
  const summary = await proc.waitFor((e) => e.event === 'summary', 20_000, 'summary');
  const { code } = await proc.exited;
  assert.equal(code, 0, proc.stderr);
  assert.equal(proc.events.filter((e) => e.event === 'packet').length, 3);
  assert.deepEqual(summary, { event: 'summary', time: summary.time, packets: 3, bytes: 3 * 43, droppedByKernel: 0, receivedByFilter: summary.receivedByFilter });
  assert.ok(typeof summary.receivedByFilter === 'number' && summary.receivedByFilter >= 3);
});
