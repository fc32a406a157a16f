import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LivenessTracker } from '../../../src/gossip/liveness.js';
import { MessageCache, messageHash } from '../../../src/gossip/message-cache.js';
import { PullState } from '../../../src/gossip/pull.js';
import { Neighbourhood, precedes, type Neighbour } from '../../../src/gossip/neighbourhood.js';
import type { Connection } from '../../../src/gossip/connection.js';
import { degreePolicy, powerLawCapacity, seedQuorum, shuffled } from '../../../src/gossip/topology.js';
import { mulberry32 } from '../../integration/gossip/helpers.js';

test('message cache: first sight is new, a repeat is not, entries expire and are bounded', () => {
  const cache = new MessageCache({ maxEntries: 3, ttlMs: 1000 });
  const h = messageHash('1:127.0.0.1:1:1');
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(cache.add(h, 0), true);
  assert.equal(cache.add(h, 10), false);
  assert.equal(cache.has(h, 999), true);
  assert.equal(cache.has(h, 1000), false, 'expired after the TTL');
  assert.equal(cache.add(h, 1000), true);
  for (const x of ['a', 'b', 'c']) cache.add(x, 1001);
  assert.equal(cache.size, 3);
  assert.equal(cache.has(h, 1001), false, 'oldest evicted past the bound');
});

test('liveness: dead only after `misses` whole intervals unanswered; any reply resets', () => {
  const t = new LivenessTracker(3);
  assert.equal(t.check('p'), 'probe');
  assert.equal(t.check('p'), 'probe');
  assert.equal(t.missesOf('p'), 1);
  t.answered('p'); // a late reply: slow, not dead
  assert.equal(t.missesOf('p'), 0);
  assert.equal(t.check('p'), 'probe');
  assert.equal(t.check('p'), 'probe');
  assert.equal(t.check('p'), 'probe');
  assert.equal(t.check('p'), 'dead');
  assert.equal(t.missesOf('p'), 0, 'forgotten once declared dead');
  assert.equal(t.check('p'), 'probe', 'a new watch starts from zero');
});

test('power-law capacity: the seed formula with a floor', () => {
  assert.equal(powerLawCapacity(0), 40);
  assert.equal(powerLawCapacity(10), 26);
  assert.equal(powerLawCapacity(100), 2, 'floor');
  assert.equal(powerLawCapacity(100, 3), 3);
  const p = degreePolicy('power-law', 0);
  assert.deepEqual(p, { name: 'power-law', capacity: 40, target: 20 });
  assert.equal(degreePolicy('power-law', 200).target, 1, 'a floor peer dials one and leaves room for one');
  assert.equal(degreePolicy('preferential', 50).target, 2);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(seedQuorum), [1, 2, 2, 3, 3, 4]);
  const random = mulberry32(1);
  assert.deepEqual(shuffled([1, 2, 3, 4, 5], random).sort(), [1, 2, 3, 4, 5]);
});

test('pull: ask the first announcer, wait on the others, move on when it does not deliver', () => {
  const pull = new PullState();
  assert.equal(pull.announced('h', 'A', 0), 'ask');
  assert.equal(pull.announced('h', 'B', 1), 'wait');
  assert.equal(pull.announced('h', 'C', 2), 'wait');
  assert.deepEqual(pull.overdue(100, 500), []);
  assert.deepEqual(pull.overdue(500, 500), [{ hash: 'h', ask: 'B' }]);
  assert.deepEqual(pull.overdue(1000, 500), [{ hash: 'h', ask: 'C' }]);
  assert.deepEqual(pull.overdue(1500, 500), []);
  assert.equal(pull.pending, 0, 'given up when no announcer is left');
  // Tree mode: a hash announced while a parent should deliver is not asked at once, only when late.
  assert.equal(pull.announced('t', 'A', 0, false), 'wait');
  assert.deepEqual(pull.overdue(100, 250), []);
  assert.deepEqual(pull.overdue(250, 250), [{ hash: 't', ask: 'A' }]);
  assert.deepEqual(pull.overdue(500, 250), []);
  assert.equal(pull.pending, 0);
  const body = { type: 'gossip' as const, text: 't', timestamp: 1, origin: { host: '127.0.0.1', port: 1 }, seq: 1 };
  pull.announced('x', 'A', 0);
  pull.remember('x', body);
  assert.equal(pull.pending, 0, 'a body that arrived is no longer wanted');
  assert.equal(pull.body('x'), body);
});

test('anchor tree: each peer anchors to its smallest preceding neighbour and keeps it while linked', () => {
  const hood = new Neighbourhood(mulberry32(3));
  const conn = {} as Connection; // never used by the bookkeeping under test
  const make = (id: number, port: number): Neighbour => ({
    key: `127.0.0.1:${port}`,
    endpoint: { host: '127.0.0.1', port },
    id,
    conn,
    children: new Set(),
    anchorsMe: false,
  });
  const self = { id: 5, key: '127.0.0.1:5000' };
  assert.equal(precedes({ id: 5, key: '127.0.0.1:4' }, self), true, 'same id: the smaller key comes first');
  const later = make(9, 9000);
  hood.add(later);
  assert.equal(hood.chooseAnchor(self), undefined, 'no neighbour precedes us: no anchor');
  assert.equal(hood.anchored, false);
  const [a, b] = [make(3, 3000), make(1, 1000)];
  hood.add(a);
  assert.equal(hood.chooseAnchor(self), a);
  assert.equal(hood.anchored, true);
  hood.add(b);
  assert.equal(hood.chooseAnchor(self), undefined, 'an anchor is kept while linked, even when a smaller one comes');
  assert.equal(hood.isTreeLink(a), true);
  assert.equal(hood.isTreeLink(b), false);
  assert.equal(hood.hasTreeLinkBesides(a.key), false);
  later.anchorsMe = true;
  assert.equal(hood.hasTreeLinkBesides(a.key), true, 'a neighbour anchored to us is a tree link too');
  hood.remove(a);
  assert.equal(hood.chooseAnchor(self), b, 'the anchor lost: the smallest preceding neighbour is next');
});
