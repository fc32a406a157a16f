/**
 * The human form and the JSON form over every capture the tests read: no packet may end a read with
 * an error (pcapng-example.pcapng holds timestamps in the year 586524, past what a Date can hold;
 * Simple Packet Blocks hold none), and each packet gives one line that starts with its frame number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodePacket, packetJsonLine, PacketLineFormatter, readCaptureFile, summaryToJson } from '../../../src/capture/index.js';
import { repoRoot, runWirelab } from '../../helpers/process.js';

const captures = resolve(repoRoot, 'test/fixtures/captures');

function captureFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return captureFiles(path);
    return /\.(pcap|pcapng|cap)$/.test(name) ? [path] : [];
  });
}

test('every fixture capture: one human line (UTC and local) and one JSON line per packet', async () => {
  const files = captureFiles(captures);
  assert.ok(files.length > 60, `${files.length} files`);
  let spb = 0;
  for (const file of files) {
    const utc = new PacketLineFormatter({ utc: true });
    const local = new PacketLineFormatter();
    for await (const batch of readCaptureFile(file)) {
      for (const raw of batch) {
        const s = decodePacket(raw);
        for (const line of [utc.format(s), local.format(s)]) {
          assert.match(line, new RegExp(`^ *${raw.index} (\\d\\d:\\d\\d:\\d\\d\\.\\d{6}| {15}) `), `${file} #${raw.index}: ${line}`);
          assert.doesNotMatch(line, /\n/, file);
        }
        const json = JSON.parse(packetJsonLine(s)) as Record<string, unknown>;
        const expected: Record<string, unknown> = { event: 'packet', ...summaryToJson(s) };
        assert.deepEqual(json, expected);
        assert.equal(json.frame, raw.index);
        if (Number.isNaN(raw.tsSec)) {
          spb++;
          assert.equal(json.time, null);
          assert.match(utc.format(s), /^ *\d+ {16}/);
        } else assert.equal(typeof json.time, 'number', file);
      }
    }
  }
  assert.ok(spb > 0, 'the generator files hold Simple Packet Blocks');
});

test('the CLI prints all 159 packets of pcapng-example.pcapng (times past year 275760) and exits 0', { timeout: 60_000 }, async () => {
  const { code, stdout, stderr } = await runWirelab(['analyze', '-r', join(captures, 'pcapplusplus/pcapng-example.pcapng'), '--utc']);
  assert.equal(code, 0, stderr);
  const lines = stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 160);
  // frame 60: 18446744073204.126329 s since the epoch (tshark's frame.time_epoch)
  assert.match(lines[59]!, /^ +60 07:53:24\.126329 130\.217\.250\.129:6000 +-> 130\.217\.250\.13:60478 +TCP +68 \[ACK\]/);
  assert.match(lines[159]!, /^\d\d:\d\d:\d\d\.\d{3} Summary: 159 packets, 57,465 bytes$/);
});

test('packets without a timestamp (pcapng SPB) print no time and stay out of durations and rates', { timeout: 60_000 }, async () => {
  const file = join(captures, 'pcapng-test-generator/output_le/advanced/test100.pcapng');
  const { code, events } = await runWirelab(['analyze', '-r', file, '--stats', '--packets', '--json']);
  assert.equal(code, 0);
  const packets = events.filter((e) => e.event === 'packet');
  assert.deepEqual(packets.map((p) => p.time === null), [true, false, true, false, false]);
  const stats = events.find((e) => e.event === 'stats')!;
  assert.equal(stats.packets, 5);
  // the three timed packets span 3 ms; a time of 0 for the others would make it 42 years
  assert.ok((stats.lastTs as number) - (stats.firstTs as number) < 1, JSON.stringify([stats.firstTs, stats.lastTs]));
});
