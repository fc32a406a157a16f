/** Reused chunk memory: handed out again only once given back, never twice, never someone else's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkPool } from '../../../src/chat/chunk-pool.js';
import { FrameDecoder, encodeRecord } from '../../../src/chat/framing.js';

test('a buffer given back is reused; one given twice or from elsewhere is not', () => {
  const pool = new ChunkPool(1024, 2);
  const a = pool.take(1024);
  const b = pool.take(100);
  assert.equal(b.length, 100);
  assert.notEqual(a.buffer, b.buffer);
  pool.give(a);
  pool.give(a); // twice: kept once
  pool.give(Buffer.allocUnsafeSlow(1024)); // not the pool's
  const c = pool.take(1024);
  const d = pool.take(1024);
  assert.equal(c.buffer, a.buffer);
  assert.notEqual(d.buffer, a.buffer, 'the second take is fresh memory');
  // a view of a pooled buffer gives back the whole of it; at most maxKept wait
  pool.give(c.subarray(4));
  pool.give(d);
  pool.give(b);
  assert.equal(new Set([pool.take(10).buffer, pool.take(10).buffer, pool.take(10).buffer]).size, 3);
  assert.equal(pool.take(2048).length, 2048, 'larger than the pool: its own memory');
});

test('the decoder copies a payload into the memory it is given, whatever the chunking', () => {
  const pool = new ChunkPool(64, 4);
  const given: Buffer[] = [];
  const decoder = new FrameDecoder({
    payloadBuffer: (header, length) => {
      if (header !== 'file_chunk') return null;
      const b = pool.take(length);
      given.push(b);
      return b;
    },
  });
  const payload = Buffer.from(Array.from({ length: 40 }, (_, i) => i));
  const stream = Buffer.concat([encodeRecord('msg', 'hi'), encodeRecord('file_chunk', payload), encodeRecord('msg', 'after')]);
  const frames = [];
  for (let at = 0; at < stream.length; at += 7) frames.push(...decoder.push(stream.subarray(at, at + 7)));
  assert.deepEqual(frames.map((f) => (f.kind === 'record' ? [f.header, f.payload.toString('hex')] : f.kind)), [
    ['msg', Buffer.from('hi').toString('hex')],
    ['file_chunk', payload.toString('hex')],
    ['msg', Buffer.from('after').toString('hex')],
  ]);
  assert.equal(given.length, 1);
  assert.equal((frames[1] as { payload: Buffer }).payload.buffer, given[0]!.buffer, 'the payload is the pooled memory');
});
