/**
 * The command output writer against real streams: a slow reader (write() says wait), a reader that
 * never reads (bounded memory, counted drops), and a reader that goes away (EPIPE).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { Output } from '../../../src/cli/shared.js';

/** A writable that completes each write only when release() is called. */
class GatedSink extends Writable {
  readonly chunks: string[] = [];
  private callbacks: Array<() => void> = [];

  constructor() {
    super({ highWaterMark: 64, decodeStrings: false });
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(String(chunk));
    this.callbacks.push(callback);
  }

  release(): void {
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const callback of callbacks) callback();
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('lines wait for drain when the reader is slow, and arrive whole and in order', async () => {
  const sink = new GatedSink();
  const out = new Output({ json: true }, sink);
  for (let i = 0; i < 10; i++) out.event('n', { i });
  await nextTurn();
  assert.equal(sink.chunks.length, 1, 'one write per turn');
  assert.equal(sink.writableNeedDrain, true);
  for (let i = 10; i < 20; i++) out.event('n', { i });
  await nextTurn();
  assert.equal(sink.chunks.length, 1, 'nothing more is written while stdout asks to wait');
  sink.release();
  await nextTurn();
  assert.equal(sink.chunks.length, 2, 'the held lines follow on drain');
  sink.release();
  const seen = sink.chunks.join('').trimEnd().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i));
  assert.equal(out.dropped, 0);
});

test('a reader that never reads costs bounded memory: lines beyond the bound are counted as dropped', async () => {
  const sink = new GatedSink();
  const out = new Output({}, sink);
  out.line('first');
  await nextTurn();
  const line = 'x'.repeat(1023);
  for (let i = 0; i < 10 * 1024; i++) out.line(line); // 10 MiB offered while nothing is read
  assert.ok(out.dropped > 1000, `dropped ${out.dropped}`);
  assert.ok(out.dropped < 3 * 1024, `held at least 7 MiB before dropping (dropped ${out.dropped})`);
  sink.release();
  await nextTurn();
  const held = sink.chunks.slice(1).join('').length;
  assert.ok(held <= 8 * 1024 * 1024 + 1024, `held ${held} chars`);
  sink.release();
});

test('a reader that goes away (EPIPE) stops the output quietly', async () => {
  const head = spawn('head', ['-c', '10'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const out = new Output({}, head.stdin);
  const line = 'y'.repeat(4096);
  const exited = once(head, 'exit');
  out.line(line);
  out.flush();
  await exited;
  const deadline = Date.now() + 10_000;
  // write until the broken pipe is noticed (the first writes after exit can still be accepted)
  let offered = 0;
  while (out.dropped === 0 && Date.now() < deadline) {
    offered++;
    out.line(line);
    out.flush();
    await nextTurn();
  }
  assert.ok(out.dropped > 0, 'after EPIPE further lines are dropped, not thrown');
  assert.ok(offered < 1000, `dropped because the pipe broke, not because the bound was reached (${offered} lines offered)`);
});

/** A sink that keeps what is written; `isTTY` as asked. */
class Collect extends Writable {
  text = '';
  constructor(readonly isTTY = false) {
    super({ decodeStrings: false });
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += String(chunk);
    callback();
  }
}

test('every event gets a time: now, the one given (epoch seconds, or a decimal string), or null', async () => {
  const sink = new Collect();
  const out = new Output({ json: true }, sink);
  const before = Date.now() / 1000;
  out.event('a', { x: 1 });
  out.event('b', { time: 1_700_000_000.123456 });
  out.event('c', { time: '1367525833.491822' });
  out.event('d', { time: null });
  await nextTurn();
  const events = sink.text.trim().split('\n').map((l) => JSON.parse(l) as { event: string; time: number | null });
  assert.deepEqual(events.map((e) => e.event), ['a', 'b', 'c', 'd']);
  assert.ok(events[0]!.time! >= before && events[0]!.time! <= Date.now() / 1000 + 0.001);
  assert.deepEqual(events.slice(1).map((e) => e.time), [1_700_000_000.123456, 1367525833.491822, null]);
});

test('human lines start with the time (UTC with --utc, µs when asked); continuation lines align; null time prints none', async () => {
  const sink = new Collect();
  const out = new Output({ utc: true }, sink);
  const time = Date.UTC(2026, 0, 1, 12, 34, 56, 789) / 1000;
  out.event('a', { time }, 'one');
  out.event('b', { time }, 'two\nthree');
  out.event('p', { time: time + 0.000001 }, 'packet', { precision: 'us' });
  out.event('q', { time: null }, 'untimed');
  out.event('r', {}); // no human text: nothing printed
  await nextTurn();
  assert.equal(sink.text, '12:34:56.789 one\n12:34:56.789 two\n             three\n12:34:56.789001 packet\nuntimed\n');
});

test('colour on a terminal only, and never with NO_COLOR', async (t) => {
  const previous = process.env.NO_COLOR;
  t.after(() => {
    if (previous === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = previous;
  });
  delete process.env.NO_COLOR;
  const tty = new Collect(true);
  new Output({ utc: true }, tty).event('a', { time: 0 }, 'x');
  const pipe = new Collect(false);
  new Output({ utc: true }, pipe).event('a', { time: 0 }, 'x');
  process.env.NO_COLOR = '';
  const noColour = new Collect(true);
  new Output({ utc: true }, noColour).event('a', { time: 0 }, 'x');
  await nextTurn();
  assert.equal(tty.text, '\x1b[2m00:00:00.000\x1b[0m x\n');
  assert.equal(pipe.text, '00:00:00.000 x\n');
  assert.equal(noColour.text, '00:00:00.000 x\n');
});
