/** The sweep of resume data, on real files: expiry by age, the cap oldest first, files in use spared. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../../src/chat/files.js';
import { findDelivery, forgetDelivery, keepDelivery, sweepKeptFiles } from '../../../src/chat/kept-files.js';

const HOUR = 3_600_000;

async function store(t: { after: (fn: () => void) => void }): Promise<FileStore> {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-chat-kept-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = new FileStore(dir);
  await s.prepare();
  return s;
}

function aged(path: string, bytes: number, ageMs: number, now: number): string {
  writeFileSync(path, Buffer.alloc(bytes));
  const when = new Date(now - ageMs);
  utimesSync(path, when, when);
  return path;
}

test('expired parts go, young ones and those in use stay; then the oldest go over the cap', async (t) => {
  const s = await store(t);
  const now = Date.now();
  aged(join(s.partialDir, 'old.part'), 10, 30 * HOUR, now);
  const busy = aged(join(s.partialDir, 'busy.part'), 10, 30 * HOUR, now);
  aged(join(s.partialDir, 'a.part'), 100, 3 * HOUR, now);
  aged(join(s.partialDir, 'b.part'), 100, 2 * HOUR, now);
  aged(join(s.partialDir, 'c.part'), 100, 1 * HOUR, now);
  const first = await sweepKeptFiles(s, { now, ttlMs: 24 * HOUR, maxBytes: 1e9, inUse: new Set([busy]) });
  assert.deepEqual(first, { files: 1, bytes: 10 });
  assert.deepEqual(readdirSync(s.partialDir).sort(), ['a.part', 'b.part', 'busy.part', 'c.part']);
  // 310 bytes held, cap 150: a and b go (oldest first), busy stays though it is the oldest
  const second = await sweepKeptFiles(s, { now, ttlMs: 24 * HOUR, maxBytes: 150, inUse: new Set([busy]) });
  assert.deepEqual(second, { files: 2, bytes: 200 });
  assert.deepEqual(readdirSync(s.partialDir).sort(), ['busy.part', 'c.part']);
});

test('a delivery is kept, found, forgotten; a relayed copy expires with its record', async (t) => {
  const s = await store(t);
  const sha = 'b'.repeat(64);
  const source = join(s.tmpDir, 'x.part');
  writeFileSync(source, 'hello');
  const path = await keepDelivery(s, { user: 'bob', from: 'alice', name: 'x.txt', size: 5, sha256: sha, path: source }, true);
  assert.equal(path, `${s.outgoingPath('bob', sha, 5)}.bin`);
  assert.deepEqual(await findDelivery(s, 'bob', sha, 5), { user: 'bob', from: 'alice', name: 'x.txt', size: 5, sha256: sha, path });
  assert.equal(await findDelivery(s, 'carol', sha, 5), null, 'only for its recipient');
  await forgetDelivery(s, 'bob', sha, 5);
  assert.deepEqual(readdirSync(s.outgoingDir), []);

  writeFileSync(source, 'hello');
  await keepDelivery(s, { user: 'bob', from: 'alice', name: 'x.txt', size: 5, sha256: sha, path: source }, true);
  const swept = await sweepKeptFiles(s, { now: Date.now() + 25 * HOUR, ttlMs: 24 * HOUR, maxBytes: 1e9, inUse: new Set() });
  assert.deepEqual(swept, { files: 1, bytes: 5 });
  assert.deepEqual(readdirSync(s.outgoingDir), []);
  assert.equal(await findDelivery(s, 'bob', sha, 5), null);
});
