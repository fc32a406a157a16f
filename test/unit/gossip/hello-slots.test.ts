/** HelloSlots: parallel dials say hello only while the links made and the hellos in flight are short of the target. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HelloSlots } from '../../../src/gossip/hello-slots.js';
import { fakeClock } from '../../helpers/clock.js';

const LEASE_MS = 500;

test('no more hellos in flight than links wanted; a refused hello lets a waiting dial go', async () => {
  const slots = new HelloSlots(fakeClock(), LEASE_MS);
  let links = 0;
  const target = 2;
  const wanted = (): number => target - links;
  assert.equal(await slots.acquire(wanted), true);
  assert.equal(await slots.acquire(wanted), true);
  // the third dial waits: two hellos in flight already cover the two links wanted
  let third: boolean | undefined;
  const waiting = slots.acquire(wanted).then((ok) => (third = ok));
  await Promise.resolve();
  assert.equal(third, undefined, 'the third dial waits');
  slots.release(); // the first hello was refused: a slot is free again
  await waiting;
  assert.equal(third, true, 'the waiting dial says hello after a refusal');
  // both remaining hellos are welcomed: the target is reached, a later dial is not needed
  links = 2;
  slots.release();
  slots.release();
  assert.equal(await slots.acquire(wanted), false);
});

test('a welcome that reaches the target turns the waiting dials away; close() does too', async () => {
  const slots = new HelloSlots(fakeClock(), LEASE_MS);
  let links = 0;
  const wanted = (): number => 1 - links;
  assert.equal(await slots.acquire(wanted), true);
  const waiters = [slots.acquire(wanted), slots.acquire(wanted)];
  links = 1;
  slots.release();
  assert.deepEqual(await Promise.all(waiters), [false, false]);
  const other = new HelloSlots(fakeClock(), LEASE_MS);
  assert.equal(await other.acquire(() => 3), true);
  const late = other.acquire(() => 1);
  other.close();
  assert.equal(await late, false);
  assert.equal(await other.acquire(() => 3), false, 'nothing after close');
});

test('a hello that never settles (a silent candidate) holds the others back no longer than the lease', async () => {
  const clock = fakeClock();
  const slots = new HelloSlots(clock, LEASE_MS);
  const wanted = (): number => 1;
  assert.equal(await slots.acquire(wanted), true, 'the first dial takes the only slot and is never answered');
  let second: boolean | undefined;
  const waiting = slots.acquire(wanted).then((ok) => (second = ok));
  clock.advance(LEASE_MS - 1);
  await Promise.resolve();
  assert.equal(second, undefined, 'still waiting before the lease ends');
  clock.advance(1);
  await waiting;
  assert.equal(second, true, 'says hello once the lease is over');
});
