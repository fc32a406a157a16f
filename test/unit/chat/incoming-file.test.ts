/** Incoming file bytes on a real file: the writer is held back past 4 MiB queued and let go at 2 MiB; the hash covers it all. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IncomingFile } from '../../../src/chat/files.js';

test('writes are held back only past the high mark; every buffer is released once written; the SHA-256 is of the whole', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-chat-incoming-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const chunks = Array.from({ length: 40 }, () => randomBytes(256 * 1024));
  const file = await IncomingFile.open(join(dir, 'in.part'), 64 * 1024 * 1024, false);
  let released = 0;
  let heldAt = -1;
  for (let i = 0; i < chunks.length; i++) {
    const pending = file.write(chunks[i]!, () => released++);
    if (pending) {
      // nothing is awaited before the first wait, so it comes with the write that passes 4 MiB queued
      if (heldAt < 0) heldAt = i;
      await pending;
    }
  }
  assert.equal(heldAt, 16);
  const { size, sha256 } = await file.end();
  const whole = Buffer.concat(chunks);
  assert.equal(size, whole.length);
  assert.equal(sha256, createHash('sha256').update(whole).digest('hex'));
  assert.ok(readFileSync(join(dir, 'in.part')).equals(whole));
  assert.equal(released, chunks.length);
});

test('bytes past the limit are not written, and their buffers are released at once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-chat-incoming-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = await IncomingFile.open(join(dir, 'small.part'), 10, false);
  let released = 0;
  await file.write(Buffer.from('0123456789'), () => released++);
  await file.write(Buffer.from('x'), () => released++);
  assert.equal(file.overLimit, true);
  await file.end();
  assert.equal(readFileSync(join(dir, 'small.part'), 'utf8'), '0123456789');
  assert.equal(released, 2);
});
