import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpaceSaving, mulberry32 } from '../../../src/analysis/index.js';

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
