/**
 * Parts of broken transfers kept for a resume expire: at start-up, and periodically (a timer that
 * reschedules itself and is cleared on close), driven here by an injected clock and, in the real
 * process, by a short `--partial-ttl`. Files in use by a transfer are never removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatServer } from '../../../src/chat/index.js';
import type { Clock } from '../../../src/common/lifecycle.js';
import { ServerProcess, workDir } from './helpers.js';

const DAY_MS = 24 * 3_600_000;

/** A clock whose time and timers the test moves. */
class TestClock implements Clock {
  time = Date.now();
  timers = new Map<NodeJS.Timeout, { fn: () => void; ms: number }>();
  private next = 1;
  now(): number {
    return this.time;
  }
  nowUs(): number {
    return this.time * 1000;
  }
  hrtime(): bigint {
    return BigInt(this.time) * 1_000_000n;
  }
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout {
    const handle = this.next++ as unknown as NodeJS.Timeout;
    this.timers.set(handle, { fn, ms });
    return handle;
  }
  clearTimeout(handle: NodeJS.Timeout): void {
    this.timers.delete(handle);
  }
  /** Run the one pending timer, as its time had come. */
  fire(): void {
    assert.equal(this.timers.size, 1);
    const [handle, timer] = [...this.timers][0]!;
    this.timers.delete(handle);
    timer.fn();
  }
}

function writeAged(path: string, bytes: number, ageMs: number): void {
  writeFileSync(path, Buffer.alloc(bytes, 1));
  const when = new Date(Date.now() - ageMs);
  utimesSync(path, when, when);
}

test('kept parts expire at start-up and on a timer the injected clock drives; the timer is cleared on close', { timeout: 30_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const partial = join(work.data, 'partial');
  mkdirSync(partial, { recursive: true });
  writeAged(join(partial, 'old.part'), 1000, 2 * DAY_MS);
  writeAged(join(partial, 'young.part'), 1000, 0);
  const clock = new TestClock();
  const server = new ChatServer({ port: 0, dataDir: work.data, partialTtlMs: DAY_MS }, { clock });
  t.after(() => server.close());
  const removed: Array<{ files: number; bytes: number }> = [];
  server.on('partials-removed', (e) => removed.push(e));
  await server.start();
  assert.deepEqual(removed, [{ files: 1, bytes: 1000 }], 'the expired part went at start-up');
  assert.deepEqual(readdirSync(partial), ['young.part']);
  // one sweep timer, a quarter of the TTL ahead (capped at an hour)
  assert.deepEqual([...clock.timers.values()].map((x) => x.ms), [3_600_000]);

  // a day and a bit later the young part has expired too; the timer fires, and schedules the next sweep
  clock.time += DAY_MS + 60_000;
  const fired = new Promise<void>((resolve) => server.once('partials-removed', () => resolve()));
  clock.fire();
  await fired;
  assert.deepEqual(readdirSync(partial), []);
  assert.deepEqual(removed[1], { files: 1, bytes: 1000 });
  await server.close();
  assert.equal(clock.timers.size, 0, 'close() cleared the sweep timer');
});

test('the real server caps kept parts with --partial-max, oldest first, a relayed copy with its record', { timeout: 60_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const partial = join(work.data, 'partial');
  const outgoing = join(work.data, 'outgoing');
  mkdirSync(partial, { recursive: true });
  mkdirSync(outgoing, { recursive: true });
  writeAged(join(outgoing, 'aaa.bin'), 3000, 60_000);
  writeAged(join(outgoing, 'aaa.json'), 100, 60_000);
  writeAged(join(partial, 'middle.part'), 3000, 30_000);
  writeAged(join(partial, 'newest.part'), 3000, 0);
  const { server } = await ServerProcess.start(work.dir, work.data, ['--partial-max', '5000']);
  t.after(() => server.stop('SIGKILL'));
  const atStart = await server.waitFor((e) => e.event === 'partials-removed');
  assert.deepEqual([atStart.files, atStart.bytes], [2, 6000]);
  assert.deepEqual(readdirSync(partial), ['newest.part']);
  assert.deepEqual(readdirSync(outgoing), []);
});

test('the real server with --partial-ttl 2s removes a kept part on its own', { timeout: 60_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const { server } = await ServerProcess.start(work.dir, work.data, ['--partial-ttl', '2s']);
  t.after(() => server.stop('SIGKILL'));
  const part = join(work.data, 'partial', 'left-behind.part');
  writeFileSync(part, Buffer.alloc(4096, 2));
  // a sweep runs every second; the part is removed once 2 s old
  const removed = await server.waitFor((e) => e.event === 'partials-removed', 15_000);
  assert.deepEqual([removed.files, removed.bytes], [1, 4096]);
  assert.ok(!existsSync(part));
  assert.deepEqual(await server.stop('SIGTERM'), { code: 143, signal: null });
});
