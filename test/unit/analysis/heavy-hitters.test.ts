import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpaceSaving, mulberry32 } from '../../../src/analysis/index.js';
import { TalkerBatch } from '../../../src/analysis/heavy-hitters.js';

test('space-saving keeps every key above N/k, with counts bracketing the truth', () => {
  const rng = mulberry32(11);
  const k = 20;
  const sketch = new SpaceSaving(k);
  const truth = new Map<string, number>();
  // Zipf-like weights over 500 keys: a few heavy, a long tail.
  for (let i = 0; i < 50_000; i++) {
    const key = `k${Math.floor(500 * rng() ** 3)}`;
    const weight = 1 + Math.floor(rng() * 3);
    sketch.add(key, weight);
    truth.set(key, (truth.get(key) ?? 0) + weight);
  }
  const total = [...truth.values()].reduce((a, b) => a + b, 0);
  assert.equal(sketch.total, total);
  const top = sketch.top();
  assert.equal(top.length, k);
  const monitored = new Map(top.map((h) => [h.key, h]));
  for (const [key, count] of truth) {
    if (count > total / k) assert.ok(monitored.has(key), `${key} (${count}) must be monitored`);
    const h = monitored.get(key);
    if (h)
      assert.ok(h.count - h.error <= count && count <= h.count, `${key}: ${h.count}-${h.error} vs ${count}`);
  }
  for (let i = 1; i < top.length; i++) assert.ok(top[i - 1]!.count >= top[i]!.count);
});

test('a single counter still holds the latest key and the total', () => {
  const sketch = new SpaceSaving(1);
  sketch.add('a', 5);
  sketch.add('b', 1);
  assert.deepEqual(sketch.top(), [{ key: 'b', count: 6, error: 5 }]);
});

test('gathered in batches, the sketches keep the same guarantees, and read before a batch is full', () => {
  const rng = mulberry32(12);
  const k = 20;
  const [byBytes, byPackets] = [new SpaceSaving(k), new SpaceSaving(k)];
  const batch = new TalkerBatch(byBytes, byPackets);
  const bytes = new Map<string, number>();
  const packets = new Map<string, number>();
  for (let i = 0; i < 50_000; i++) {
    const key = `h${Math.floor(500 * rng() ** 3)}`;
    const length = 60 + Math.floor(rng() * 1400);
    batch.add(key, length);
    bytes.set(key, (bytes.get(key) ?? 0) + length);
    packets.set(key, (packets.get(key) ?? 0) + 1);
  }
  batch.flush();
  for (const [sketch, truth] of [[byBytes, bytes], [byPackets, packets]] as const) {
    const total = [...truth.values()].reduce((a, b) => a + b, 0);
    assert.equal(sketch.total, total, 'every packet and byte reached the sketch');
    const monitored = new Map(sketch.top().map((h) => [h.key, h]));
    for (const [key, count] of truth) {
      if (count > total / k) assert.ok(monitored.has(key), `${key} (${count}) must be monitored`);
      const h = monitored.get(key);
      if (h) assert.ok(h.count - h.error <= count && count <= h.count, `${key}: ${h.count}-${h.error} vs ${count}`);
    }
  }
  // a partial batch is visible once flushed
  batch.add('late', 100);
  assert.equal(byPackets.top().some((h) => h.key === 'late'), false);
  batch.flush();
  assert.equal(byBytes.total, [...bytes.values()].reduce((a, b) => a + b, 0) + 100);
});

const v4Text = (a: number): string => [24, 16, 8, 0].map((shift) => (a >>> shift) & 0xff).join('.');

test('IPv4 keys by number give the very sketches that the same keys by text give', () => {
  const rng = mulberry32(44);
  const k = 16;
  const byText = [new SpaceSaving(k), new SpaceSaving(k)] as const;
  const byNumber = [new SpaceSaving(k), new SpaceSaving(k)] as const;
  const textBatch = new TalkerBatch(...byText);
  const numberBatch = new TalkerBatch(...byNumber);
  // 3000 addresses (past the batch's 1024 keys, so it also flushes when full of keys), with both ends
  // of the range (0.0.0.0, and 255.255.255.255, which is -1 as an int32)
  const pool = [0, 0xffffffff, ...Array.from({ length: 2998 }, () => Math.floor(rng() * 2 ** 32))];
  for (let i = 0; i < 60_000; i++) {
    const address = pool[Math.floor(pool.length * rng() ** 4)]!;
    const length = 40 + Math.floor(rng() * 1460);
    textBatch.add(v4Text(address), length);
    numberBatch.addV4(address, v4Text(address), length);
  }
  textBatch.flush();
  numberBatch.flush();
  assert.deepEqual(byNumber[0].top(), byText[0].top());
  assert.deepEqual(byNumber[1].top(), byText[1].top());
  assert.ok(byText[1].top().some((h) => h.key === '0.0.0.0'), 'the most frequent address is in the sketch');
});

test('one address arriving both by text and by number adds up to one key with the guarantees kept', () => {
  const rng = mulberry32(45);
  const k = 8;
  const [byBytes, byPackets] = [new SpaceSaving(k), new SpaceSaving(k)];
  const batch = new TalkerBatch(byBytes, byPackets);
  const packets = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const address = (0x0a000000 + Math.floor(100 * rng() ** 3)) >>> 0;
    const text = v4Text(address);
    if (rng() < 0.5) batch.addV4(address, text, 100);
    else batch.add(text, 100);
    packets.set(text, (packets.get(text) ?? 0) + 1);
  }
  batch.flush();
  assert.equal(byPackets.total, 20_000);
  const top = byPackets.top();
  assert.equal(new Set(top.map((h) => h.key)).size, top.length, 'each address is one key');
  for (const [key, count] of packets) {
    const h = top.find((t) => t.key === key);
    if (count > 20_000 / k) assert.ok(h, `${key} (${count}) must be monitored`);
    if (h) assert.ok(h.count - h.error <= count && count <= h.count, `${key}: ${h.count}-${h.error} vs ${count}`);
  }
});
