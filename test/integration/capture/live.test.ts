/**
 * LiveCapture with the real tcpdump, on the loopback interface only and filtered to the port this
 * test bound, so nothing else on the machine is captured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { LiveCapture, type RawPacket } from '../../../src/capture/index.js';
import { WirelabError } from '../../../src/common/errors.js';
import { repoRoot } from '../../helpers/process.js';

const run = promisify(execFile);
const ppp = resolve(repoRoot, 'test/fixtures/captures/pcapplusplus');

/** Resolve once `count` packets have arrived; reject after `ms`. */
function collect(capture: LiveCapture, count: number, ms: number): Promise<RawPacket[]> {
  const packets: RawPacket[] = [];
  return new Promise((resolvePackets, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${packets.length} of ${count} packets within ${ms} ms`)), ms);
    capture.on('packet', (p) => {
      packets.push(p);
      if (packets.length === count) {
        clearTimeout(timer);
        resolvePackets(packets);
      }
    });
  });
}

test('captures every UDP datagram sent to our port on lo, with exact lengths, then reports tcpdump statistics', { timeout: 60_000 }, async (t) => {
  const receiver = createSocket('udp4');
  t.after(() => receiver.close());
  await new Promise<void>((done) => receiver.bind(0, '127.0.0.1', done));
  const port = receiver.address().port;
  const capture = new LiveCapture({ interface: 'lo', filter: `udp and dst port ${port}` });
  t.after(() => capture.close());
  await capture.start();
  const sender = createSocket('udp4');
  t.after(() => sender.close());

  const count = 20;
  const arrived = collect(capture, count, 20_000);
  const before = Date.now() / 1000;
  for (let i = 0; i < count; i++) {
    const payload = Buffer.alloc(10 + i * 37, i);
    await new Promise<void>((sent, failed) => sender.send(payload, port, '127.0.0.1', (err) => (err ? failed(err) : sent())));
  }
  const packets = await arrived;
  for (const [i, p] of packets.entries()) {
    const payload = 10 + i * 37;
    assert.equal(p.linkType, 1, 'lo is captured as Ethernet');
    assert.equal(p.originalLength, 14 + 20 + 8 + payload);
    assert.equal(p.data.length, p.originalLength);
    assert.equal(p.data.readUInt16BE(14 + 20 + 2), port);
    assert.ok(p.data.subarray(-payload).equals(Buffer.alloc(payload, i)));
    assert.ok(p.tsSec + p.tsNsec / 1e9 >= before - 1 && p.tsSec < before + 60, 'timestamp near now');
  }
  await capture.close();
  await capture.close();
  const stats = capture.stats();
  assert.equal(stats.packets, count);
  assert.equal(stats.captured, count);
  assert.equal(stats.droppedByKernel, 0);
  assert.ok((stats.receivedByFilter ?? 0) >= count);
});

test('reads a file through tcpdump with a BPF filter', { timeout: 60_000 }, async (t) => {
  const file = join(ppp, 'example.pcap');
  const { stdout } = await run('tcpdump', ['-nn', '-r', file, 'udp'], { maxBuffer: 64 * 1024 * 1024 });
  const expected = stdout.trim().split('\n').length;
  const capture = new LiveCapture({ readFile: file, filter: 'udp' });
  t.after(() => capture.close());
  let packets = 0;
  capture.on('packet', (p) => {
    packets++;
    assert.equal(p.data.readUInt8(14 + 9), 17, 'IPv4 protocol UDP');
  });
  const ended = new Promise<void>((done) => capture.once('end', done));
  await capture.start();
  await ended;
  assert.ok(expected > 0);
  assert.equal(packets, expected);
});

test('missing tcpdump and a bad filter each give one clear WirelabError', { timeout: 60_000 }, async (t) => {
  const missing = new LiveCapture({ interface: 'lo', tool: '/nonexistent/tcpdump' });
  t.after(() => missing.close());
  await assert.rejects(missing.start(), (err: unknown) => err instanceof WirelabError && err.code === 'E_MISSING_TOOL' && /apt-get install tcpdump/.test(err.message));

  const badFilter = new LiveCapture({ interface: 'lo', filter: 'udp and (' });
  t.after(() => badFilter.close());
  await assert.rejects(badFilter.start(), (err: unknown) => err instanceof WirelabError && err.code === 'E_USAGE' && /filter/.test(err.message));

});

const notRoot = process.getuid?.() !== 0 ? 'needs root (to run tcpdump as nobody through setpriv)' : false;

test('tcpdump without capture permission gives E_PERMISSION saying what to do', { timeout: 60_000, skip: notRoot }, async (t) => {
  // tcpdump run as an unprivileged user: the real "no permission" path
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-live-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const wrapper = join(dir, 'tcpdump-as-nobody');
  await writeFile(wrapper, '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all tcpdump "$@"\n');
  await chmod(wrapper, 0o755);
  const unprivileged = new LiveCapture({ interface: 'lo', tool: wrapper, filter: 'udp and port 9' });
  t.after(() => unprivileged.close());
  await assert.rejects(unprivileged.start(), (err: unknown) => err instanceof WirelabError && err.code === 'E_PERMISSION' && /run as root/.test(err.message));
});
