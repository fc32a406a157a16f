/**
 * Every real capture in test/fixtures/captures read completely, with the packet counts its README gives,
 * and timestamps and lengths compared with tshark's for several of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { defaultLimits, readCaptureFile, readCaptureFileInto, type RawPacket } from '../../../src/capture/index.js';
import { DecodeError } from '../../../src/common/errors.js';
import { timeText } from '../../../src/capture/decode/index.js';
import { repoRoot } from '../../helpers/process.js';

const run = promisify(execFile);
const captures = resolve(repoRoot, 'test/fixtures/captures');
const ppp = join(captures, 'pcapplusplus');

/** README.md of the captures folder: packets a correct reader finds. */
const pcapplusplusCounts: Record<string, number> = {
  'example.pcap': 4631,
  'many-protocols.pcap': 4709,
  'DnsPackets.pcap': 464,
  'sll.pcap': 518,
  'sll2.pcap': 3,
  'raw_ip.pcap': 100,
  'linktype_ipv4.pcap': 2,
  'linktype_ipv6.pcap': 1,
  'four_ipv6_http_streams.pcap': 81,
  'null_loopback.pcap': 3,
  'nanosecs.pcap': 2,
  'nanosecs_big_endian.pcap': 10,
  'microsecs_big_endian.pcap': 13,
  'many_interfaces-1.pcapng': 64,
  'pcapng-example.pcapng': 159,
  'too_many_interfaces.pcapng': 1,
  'ipv6.pcapng': 35,
  'ArpRequestPacket.pcap': 1,
  'ArpResponsePacket.pcap': 1,
  'ICMPv6_echos.cap': 10,
};

const generatorCounts: Record<string, number> = {
  'basic/test001': 4, 'basic/test002': 0, 'basic/test003': 0, 'basic/test004': 4, 'basic/test005': 4,
  'basic/test006': 5, 'basic/test007': 1, 'basic/test008': 4, 'basic/test009': 2, 'basic/test010': 4,
  'basic/test011': 4, 'basic/test012': 4, 'basic/test013': 0, 'basic/test014': 0, 'basic/test015': 0,
  'basic/test016': 4, 'basic/test017': 0, 'basic/test018': 4, 'advanced/test100': 5, 'advanced/test101': 4,
  'advanced/test102': 5, 'difficult/test200': 0, 'difficult/test201': 4, 'difficult/test202': 8,
};

async function readAll(path: string): Promise<RawPacket[]> {
  const packets: RawPacket[] = [];
  for await (const batch of readCaptureFile(path)) packets.push(...batch);
  return packets;
}

test('pcapplusplus captures: every packet of every file, as the README counts', async () => {
  for (const [file, count] of Object.entries(pcapplusplusCounts)) {
    const packets = await readAll(join(ppp, file));
    assert.equal(packets.length, count, file);
    assert.deepEqual(packets.map((p) => p.index), Array.from({ length: count }, (_, i) => i + 1), file);
  }
});

test('pcapng-test-generator: every file in both byte orders, as the README counts', async () => {
  for (const order of ['output_le', 'output_be']) {
    for (const [name, count] of Object.entries(generatorCounts)) {
      const path = join(captures, 'pcapng-test-generator', order, `${name}.pcapng`);
      assert.equal((await readAll(path)).length, count, `${order}/${name}`);
    }
  }
});

test('pcapng-test-generator: the big-endian files hold the same packets as the little-endian ones', async () => {
  for (const name of Object.keys(generatorCounts)) {
    const le = await readAll(join(captures, 'pcapng-test-generator/output_le', `${name}.pcapng`));
    const be = await readAll(join(captures, 'pcapng-test-generator/output_be', `${name}.pcapng`));
    assert.deepEqual(
      be.map((p) => [p.tsSec, p.tsNsec, p.originalLength, p.data.toString('hex'), p.linkType]),
      le.map((p) => [p.tsSec, p.tsNsec, p.originalLength, p.data.toString('hex'), p.linkType]),
      name,
    );
  }
});

/** Packets as text through the callback reader, whose one buffer is read into again and again. */
async function readInto(path: string, chunkBytes: number): Promise<string[]> {
  const seen: string[] = [];
  await readCaptureFileInto(
    path,
    { packet: (buf, at, cap, orig, sec, nsec, link, iface) => seen.push(`${sec}.${nsec} ${orig} ${link} ${iface} ${buf.toString('hex', at, at + cap)}`) },
    { chunkBytes },
  );
  return seen;
}

test('the callback reader (one reused buffer, records cut at every read) gives what the batch reader gives', async () => {
  const files = [
    ...Object.keys(pcapplusplusCounts).map((file) => join(ppp, file)),
    ...Object.keys(generatorCounts).map((name) => join(captures, 'pcapng-test-generator/output_be', `${name}.pcapng`)),
  ];
  for (const file of files) {
    const expected = (await readAll(file)).map((p) => `${p.tsSec}.${p.tsNsec} ${p.originalLength} ${p.linkType} ${p.interfaceId} ${p.data.toString('hex')}`);
    // 4 KiB: far smaller than most files, so records and blocks straddle reads; 1 MiB: the default's order
    for (const chunkBytes of [4096, 1 << 20]) assert.deepEqual(await readInto(file, chunkBytes), expected, `${file} (${chunkBytes}-byte reads)`);
  }
});

/** tshark's epoch time, frame length and captured length per packet (custom blocks, which it counts as frames, left out). */
async function tsharkFrames(path: string): Promise<string[]> {
  const { stdout } = await run('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.interface_id'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const pcapng = path.endsWith('.pcapng');
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'))
    .filter((f) => !pcapng || f[3] !== '')
    .map((f) => `${f[0]} ${f[1]} ${f[2]}`);
}

test('timestamps and lengths agree with tshark', { timeout: 120_000 }, async () => {
  const files = [
    join(ppp, 'example.pcap'),
    join(ppp, 'nanosecs_big_endian.pcap'),
    join(ppp, 'microsecs_big_endian.pcap'),
    join(ppp, 'many_interfaces-1.pcapng'),
    join(ppp, 'pcapng-example.pcapng'),
    join(captures, 'pcapng-test-generator/output_be/difficult/test202.pcapng'),
    join(captures, 'pcapng-test-generator/output_le/basic/test012.pcapng'),
    join(captures, 'pcapng-test-generator/output_le/advanced/test102.pcapng'),
  ];
  const expected = await Promise.all(files.map(tsharkFrames));
  for (const [i, file] of files.entries()) {
    const ours = (await readAll(file)).map((p) => `${timeText(p.tsSec, p.tsNsec)} ${p.originalLength} ${p.data.length}`);
    assert.ok(ours.length > 0, file);
    assert.deepEqual(ours, expected[i], file);
  }
});

test('too_many_interfaces.pcapng: over a lower interface limit it is E_TOO_LARGE, not an allocation', async () => {
  const path = join(ppp, 'too_many_interfaces.pcapng');
  await assert.rejects(
    async () => {
      for await (const batch of readCaptureFile(path, { limits: { ...defaultLimits, maxInterfaces: 64 } })) assert.fail(`no packet expected, got ${batch.length}`);
    },
    (err: unknown) => err instanceof DecodeError && err.code === 'E_TOO_LARGE' && /more than 64 interfaces/.test(err.message),
  );
});
