import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferBudget, RateLimiter, SourceLimiter, refusedAddress, sourceAddress } from '../../../src/gossip/guard.js';
import { IdAllocator, Registry } from '../../../src/gossip/registry.js';
import { mulberry32 } from '../../helpers/random.js';

test('source limiter: caps per source and in all, and releases', () => {
  const limiter = new SourceLimiter(2, 3);
  assert.ok(limiter.admit('a') && limiter.admit('a'));
  assert.equal(limiter.admit('a'), false, 'third from one source');
  assert.ok(limiter.admit('b'));
  assert.equal(limiter.admit('c'), false, 'over the total');
  limiter.release('a');
  assert.ok(limiter.admit('c'));
  assert.equal(limiter.refused, 2);
  assert.equal(limiter.size, 3);
  assert.equal(sourceAddress('::ffff:10.0.0.1'), '10.0.0.1');
  // Loopback (every local process) is held only to the total.
  const local = new SourceLimiter(1, 3);
  assert.ok(local.admit('127.0.0.1') && local.admit('127.0.0.1') && local.admit('127.0.0.1'));
  assert.equal(local.admit('127.0.0.1'), false, 'the total still applies');
});

test('buffer budget: a charge past the budget is refused whole', () => {
  const budget = new BufferBudget(100);
  assert.ok(budget.charge(60));
  assert.equal(budget.charge(41), false);
  assert.ok(budget.charge(40));
  budget.release(50);
  assert.equal(budget.used, 50);
});

test('rate limiter: burst, then the sustained rate; keys bounded', () => {
  const limiter = new RateLimiter(10, 5, 3);
  let ok = 0;
  for (let i = 0; i < 20; i++) if (limiter.take('n', 0)) ok++;
  assert.equal(ok, 5, 'the burst');
  assert.equal(limiter.take('n', 50), false, 'half a token after 50 ms');
  assert.ok(limiter.take('n', 100), 'one token after 100 ms at 10/s');
  for (const k of ['a', 'b', 'c', 'd']) limiter.take(k, 100);
  assert.equal(limiter.size, 3);
});

test('addresses nobody may claim', () => {
  for (const host of ['0.0.0.0', '0.1.2.3', '255.255.255.255', '224.0.0.1', '239.255.255.250', '240.0.0.1']) assert.ok(refusedAddress(host), host);
  assert.equal(refusedAddress('10.1.2.3', ['10.1.2.3']), 'own address');
  assert.equal(refusedAddress('198.18.0.5'), undefined);
  assert.equal(refusedAddress('127.0.0.1'), undefined);
});

test('registry: per-source bound, ids from a shared allocator, a sample in id order', () => {
  const ids = new IdAllocator();
  const a = new Registry(ids, 100, 3);
  const b = new Registry(ids, 100, 3);
  const ep = (port: number): { host: string; port: number } => ({ host: '10.0.0.1', port });
  for (let port = 1; port <= 3; port++) a.add(ep(port), '10.0.0.1', 0);
  assert.match(a.refusal('10.0.0.1') ?? '', /3 registrations/);
  assert.equal(a.refusal('10.0.0.2'), undefined);
  assert.equal(b.add(ep(2), '10.0.0.1', 0).id, a.get('10.0.0.1:2')!.id, 'one address, one id across registries');
  assert.equal(b.add(ep(9), '10.0.0.1', 0).id, 3, 'a new address gets the next id');
  a.remove('10.0.0.1:2');
  assert.equal(b.add(ep(2), '10.0.0.1', 5).id, 1, 'still held by b: the id stays');
  assert.equal(a.refusal('10.0.0.1'), undefined, 'removal frees the source slot');
  const big = new Registry(new IdAllocator(), 1000, 1000);
  for (let port = 1; port <= 200; port++) big.add(ep(port), 's', 0);
  const random = mulberry32(7);
  const sample = big.sample(20, random);
  assert.equal(sample.length, 20);
  assert.equal(new Set(sample.map((r) => r.key)).size, 20, 'no repeats');
  assert.deepEqual(sample.map((r) => r.id), [...sample.map((r) => r.id)].sort((x, y) => x - y), 'in id order');
  assert.ok(sample.some((r) => r.id >= 100), 'not only the first entries');
  assert.equal(big.stale(1, 5).length, 5);
});
