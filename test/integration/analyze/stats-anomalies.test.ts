/** `wirelab analyze --stats` and `--anomalies` over a real capture file, through the real CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { repoRoot, runWirelab } from '../../helpers/process.js';

const example = resolve(repoRoot, 'test/fixtures/captures/pcapplusplus/example.pcap');

test('--stats prints the traffic figures of the whole file (totals as tshark counts them) and no packet lines', async () => {
  const result = await runWirelab(['analyze', '--read', example, '--stats', '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.events.filter((e) => e.event === 'packet').length, 0);
  const stats = result.events.find((e) => e.event === 'stats') as Record<string, unknown> & { protocols: Record<string, { packets: number }> } | undefined;
  assert.ok(stats, 'a stats event');
  assert.equal(stats.final, true);
  assert.equal(stats.packets, 4631);
  assert.equal(stats.bytes, 3738523);
  assert.ok(Math.abs((stats.avgPacketSize as number) - 3738523 / 4631) < 1e-6);
  const human = await runWirelab(['analyze', '--read', example, '--stats']);
  assert.match(human.stdout, /^\d\d:\d\d:\d\d\.\d{3} Statistics:\nPackets: 4,631 {2}Bytes: 3\.7 MB {2}Average size: 807\.3 B/m);
  assert.match(human.stdout, /^Protocols:/m);
  assert.match(human.stdout, /^Top sources by bytes:\n {2}212\.199\.202\.9 /m);
});

test('--anomalies learns a baseline, then reports scored anomalies with their reasons, reproducibly', async () => {
  const args = ['analyze', '--read', example, '--anomalies', '--warmup', '0s', '--baseline-packets', '1000', '--baseline-flows', '30', '--json'];
  const [first, second] = [await runWirelab(args), await runWirelab(args)];
  assert.equal(first.code, 0, first.stderr);
  const summary = first.events.find((e) => e.event === 'anomaly-summary');
  assert.equal(summary?.packetBaseline, 1000);
  assert.equal(summary?.packetsScored, 4631 - 1000);
  const anomalies = first.events.filter((e) => e.event === 'anomaly');
  assert.equal(anomalies.length, summary?.found);
  for (const a of anomalies) {
    assert.ok((a.score as number) > (a.threshold as number), 'every reported item scores over its threshold');
    assert.ok(Array.isArray(a.features) && a.features.length > 0, 'and says which features made it stand out');
  }
  assert.deepEqual(second.events.filter((e) => e.event === 'anomaly').map((a) => a.score), anomalies.map((a) => a.score), 'same input, same seed, same result');
});

test('--stats alone (the fast path: callback reader, lean fields) gives the same figures as the full pipeline', { timeout: 120_000 }, async () => {
  const captures = resolve(repoRoot, 'test/fixtures/captures/pcapplusplus');
  for (const file of ['example.pcap', 'many-protocols.pcap', 'sll.pcap', 'four_ipv6_http_streams.pcap', 'pcapng-example.pcapng']) {
    const path = resolve(captures, file);
    // --packets adds the printer, which sends every packet through decodePacket and the pipeline
    const [fast, full] = await Promise.all([runWirelab(['analyze', '--read', path, '--stats', '--json']), runWirelab(['analyze', '--read', path, '--stats', '--packets', '--json'])]);
    assert.equal(fast.code, 0, fast.stderr);
    const untimed = (e: Record<string, unknown> | undefined): unknown => ({ ...e, time: undefined });
    const stats = (r: typeof fast): unknown => untimed(r.events.find((e) => e.event === 'stats'));
    assert.ok(fast.events.find((e) => e.event === 'stats'), file);
    assert.deepEqual(stats(fast), stats(full), file);
    assert.deepEqual(untimed(fast.events.at(-1)), untimed(full.events.at(-1)), `${file}: summary`);
  }
  const counted = await runWirelab(['analyze', '--read', example, '--stats', '--count', '100', '--json']);
  assert.equal(counted.events.find((e) => e.event === 'stats')?.packets, 100);
  assert.deepEqual(counted.events.at(-1), { event: 'summary', time: counted.events.at(-1)?.time, packets: 100, bytes: counted.events.at(-1)?.bytes });
});
