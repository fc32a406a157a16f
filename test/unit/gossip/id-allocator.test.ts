/**
 * IdAllocator (issue 14): seeds that run as separate processes each own an id space (their line in
 * the shared config); fresh ids never collide across spaces, follow the highest id known in use,
 * adopt the id other seeds hold for an address, and stay with an address while it is held.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdAllocator } from '../../../src/gossip/registry.js';
import { joinOrder } from '../../../src/gossip/topology.js';
import { mulberry32 } from '../../integration/gossip/helpers.js';

test('one space: ids 0, 1, 2 ... in join order, stable while held, never handed out twice', () => {
  const ids = new IdAllocator();
  assert.equal(ids.highest, -1);
  assert.deepEqual(['a', 'b', 'c'].map((k) => ids.acquire(k)), [0, 1, 2]);
  assert.equal(ids.acquire('b'), 1, 'a second holder gets the same id');
  ids.release('b');
  assert.equal(ids.idOf('b'), 1, 'still held by one holder');
  ids.release('b');
  assert.equal(ids.idOf('b'), undefined, 'released by every holder: forgotten');
  assert.equal(ids.acquire('b'), 3, 'a fresh id, not the released one');
});

test('spaces interleave: seed 1 of 3 hands out 1, 4, 7 ...; each fresh id is above the highest known', () => {
  const ids = new IdAllocator(1, 3);
  assert.deepEqual(['a', 'b', 'c'].map((k) => ids.acquire(k)), [1, 4, 7]);
  ids.observe(20); // another seed reports ids up to 20 in use
  assert.equal(ids.acquire('d'), 22, 'the first id of space 1 above 20');
  ids.observe(5);
  assert.equal(ids.highest, 22, 'observing a lower id changes nothing');
  assert.equal(ids.acquire('e'), 25);
  assert.equal(new IdAllocator(2, 3).acquire('x'), 2);
  assert.equal(new IdAllocator(0, 3).acquire('x'), 0);
});

test('an id held elsewhere is adopted for the same address, unless another address holds it here', () => {
  const ids = new IdAllocator(0, 3);
  assert.equal(ids.acquire('a', 7), 7, 'adopted: the id the other seeds hold');
  assert.equal(ids.highest, 7, 'adoption raises the highest');
  assert.equal(ids.acquire('b', 7), 9, 'taken here by a: a fresh id instead, never a shared one');
  assert.equal(ids.acquire('a', 2), 7, 'an address held keeps its id whatever is offered');
});

test('fresh ids of separate seeds never collide, whatever the order and what they learn of each other', () => {
  const random = mulberry32(14);
  for (const count of [1, 2, 3, 5, 7]) {
    const seeds = Array.from({ length: count }, (_, i) => new IdAllocator(i, count));
    const given = new Set<number>();
    for (let n = 0; n < 500; n++) {
      const seed = seeds[Math.floor(random() * count)]!;
      const id = seed.acquire(`peer-${n}`);
      assert.ok(!given.has(id), `${count} seeds: id ${id} handed out twice`);
      given.add(id);
      // Sometimes the others hear of it (an id query answered), sometimes not (a seed cut off).
      for (const other of seeds) if (random() < 0.7) other.observe(seed.highest);
      if (random() < 0.1) seed.release(`peer-${n}`);
    }
  }
});

/**
 * Peers join 3 (or 1, or 5) seeds, `burst` at a time: each picks its first seed at random, which
 * hands out a fresh id; after each burst every seed answers the others' id queries (highest id in
 * use, fresh ids handed out). Returns the last id and the density the seeds report then.
 */
function joinAll(count: number, peers: number, burst: number, seed: number): { last: number; density: number } {
  const random = mulberry32(seed);
  const seeds = Array.from({ length: count }, (_, i) => new IdAllocator(i, count));
  let last = 0;
  for (let n = 0; n < peers; n += burst) {
    for (let k = n; k < Math.min(peers, n + burst); k++) last = seeds[Math.floor(random() * count)]!.acquire(`p${k}`);
    seeds.forEach((s, i) => seeds.forEach((o, j) => i !== j && s.observe(o.highest, `seed ${j}`, o.fresh)));
  }
  return { last, density: seeds[0]!.densityPerMille / 1000 };
}

test('the reported density undoes the stretch of interleaved spaces, for joins one by one and in bursts', () => {
  for (const count of [1, 3, 5]) {
    for (const burst of [1, 20]) {
      const { last, density } = joinAll(count, 3000, burst, count * 100 + burst);
      const order = joinOrder(last, density);
      assert.ok(Math.abs(order - 2999) < 0.02 * 3000, `${count} seeds, bursts of ${burst}: order ${order.toFixed(0)} for the 3000th peer (id ${last})`);
      if (count > 1 && burst === 1) assert.ok(last > 1.5 * 2999, `the stretch is real: id ${last}`);
    }
  }
  assert.equal(joinOrder(12), 12, 'one space: the id is the order');
  assert.equal(new IdAllocator().densityPerMille, 1000, 'no id yet: dense');
});

test('an id space must lie inside the count', () => {
  assert.throws(() => new IdAllocator(3, 3), RangeError);
  assert.throws(() => new IdAllocator(0, 0), RangeError);
  assert.throws(() => new IdAllocator(-1, 2), RangeError);
});
