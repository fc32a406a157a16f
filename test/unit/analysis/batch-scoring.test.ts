/**
 * The batch paths give the same numbers as the one-vector paths: IsolationForest.scoreBatch() and
 * score() to the bit, ScoreMemo (repeated vectors, colliding slots) and scoreBatch() to the bit;
 * and packet batches survive their column form (packet-columns.ts), whose reader accepts nothing
 * malformed without a typed error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsolationForest, mulberry32, type Rng } from '../../../src/analysis/index.js';
import { ScoreMemo } from '../../../src/analysis/score-memo.js';
import { PacketColumnsWriter, readColumns, type PacketColumns } from '../../../src/analysis/packet-columns.js';
import { isWirelabError, WirelabError } from '../../../src/common/errors.js';
import { packet } from './packets.js';

function matrix(rng: Rng, rows: number, dims: number, levels: number): Float64Array {
  // few levels per feature: many repeated vectors and many exact ties with split ranges
  return Float64Array.from({ length: rows * dims }, () => Math.floor(rng() * levels) - levels / 2);
}

for (const outOfRange of ['paper', 'isolate'] as const) {
  test(`scoreBatch() equals score() row by row (${outOfRange}), odd row counts and strides included`, () => {
    const rng = mulberry32(11);
    const dims = 3;
    const forest = IsolationForest.fit({ data: matrix(rng, 2000, dims, 40), rows: 2000, dims }, { rng, outOfRange });
    const stride = 5; // rows padded with two numbers the forest must not read
    const rows = 1037;
    const data = Float64Array.from({ length: rows * stride }, () => (rng() - 0.5) * 60);
    data[7] = Number.NaN;
    data[11] = Number.POSITIVE_INFINITY;
    const out = forest.scoreBatch(data, rows, stride, new Float64Array(rows));
    for (let r = 0; r < rows; r++) assert.equal(out[r], forest.score(data.subarray(r * stride, r * stride + dims)), `row ${r}`);
    assert.throws(() => forest.scoreBatch(data, rows + 1, stride, new Float64Array(rows + 1)), WirelabError);
  });
}

test('ScoreMemo gives exactly the forest scores, hits or misses, and hits repeated vectors', () => {
  const rng = mulberry32(5);
  const dims = 4;
  const forest = IsolationForest.fit({ data: matrix(rng, 3000, dims, 10), rows: 3000, dims }, { rng, outOfRange: 'isolate' });
  const memo = new ScoreMemo(forest, dims);
  for (let round = 0; round < 5; round++) {
    // 6^4 = 1296 distinct vectors in 4096 direct-mapped slots: repeats, and some slots shared
    const rows = 3000;
    const data = matrix(rng, rows, dims, 6);
    const got = new Float64Array(rows);
    memo.scoreRows(data, rows, got);
    assert.deepEqual(got, forest.scoreBatch(data, rows, dims, new Float64Array(rows)));
  }
  assert.ok(memo.hits > memo.lookups / 2, `${memo.hits} hits of ${memo.lookups}`);
});

test('ScoreMemo: a small table shares slots and still gives exact scores; a bad size is E_CONFIG', () => {
  const rng = mulberry32(6);
  const dims = 3;
  const forest = IsolationForest.fit({ data: matrix(rng, 2000, dims, 10), rows: 2000, dims }, { rng, outOfRange: 'isolate' });
  const small = new ScoreMemo(forest, dims, 16);
  const rows = 2000;
  const data = matrix(rng, rows, dims, 5); // 125 distinct vectors in 16 slots: most lookups evict
  const got = new Float64Array(rows);
  small.scoreRows(data, rows, got);
  assert.deepEqual(got, forest.scoreBatch(data, rows, dims, new Float64Array(rows)));
  assert.ok(small.hits < small.lookups / 2, `16 slots for 125 vectors: ${small.hits} hits of ${small.lookups}`);
  for (const slots of [0, 1, 3, 1000, 2 ** 21, 1.5]) assert.throws(() => new ScoreMemo(forest, dims, slots), WirelabError, `${slots}`);
});

test('packet batches round-trip through their column form, undefined fields included', () => {
  const writer = new PacketColumnsWriter(3);
  const a = packet({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1234, dport: 80, tcpFlags: 0x12, length: 1514, t: 1_700_000_000.125 });
  const b = { ...packet({ protocol: 'ARP', ipProto: -1 }), src: undefined, dst: undefined, sport: undefined, dport: undefined, type: 'ARP' };
  assert.ok(writer.add(a) && writer.add(b) && writer.add(a));
  assert.equal(writer.add(b), false, 'a full batch takes nothing more');
  const batch = writer.take();
  assert.equal(writer.count, 0);
  assert.equal(batch.strings.length, 5, 'each distinct string once: IPv4, 10.0.0.1, 10.0.0.2, TCP, ARP');
  const back = readColumns(structuredClone(batch));
  const slim = (p: typeof a): typeof a => ({ ...p, flags: '', info: '' });
  assert.deepEqual(back, [slim(a), slim(b), slim(a)]);
});

test('a malformed column batch is a typed error, never another exception (seeded random mutations)', () => {
  const writer = new PacketColumnsWriter(16);
  for (let i = 0; i < 16; i++) writer.add(packet({ src: `10.0.0.${i % 3}`, dport: i }));
  const good = writer.take();
  const rng = mulberry32(99);
  let rejected = 0;
  for (let trial = 0; trial < 2000; trial++) {
    const c: PacketColumns = structuredClone(good);
    const what = Math.floor(rng() * 4);
    if (what === 0) c.count = Math.floor((rng() - 0.3) * 40);
    else if (what === 1) c.refs[Math.floor(rng() * c.refs.length)] = Math.floor((rng() - 0.5) * 20);
    else if (what === 2) c.strings.length = Math.floor(rng() * c.strings.length);
    else c.numbers[Math.floor(rng() * c.numbers.length)] = (rng() - 0.5) * 1e12;
    try {
      const packets = readColumns(c);
      assert.equal(packets.length, c.count);
    } catch (err) {
      assert.ok(isWirelabError(err), `only typed errors: ${String(err)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 100, `${rejected} malformed batches rejected`);
});
