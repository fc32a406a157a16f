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
