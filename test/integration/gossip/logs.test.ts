import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineLog } from '../../../src/gossip/index.js';

test('a line log appends lines; one that cannot write reports once and counts what it drops', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-gossip-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const good = new LineLog(join(dir, 'freqtrack.log'));
  good.write('127.0.0.1:1=>1');
  good.write('127.0.0.1:1=>2');
  await good.close();
  assert.equal(await readFile(join(dir, 'freqtrack.log'), 'utf8'), '127.0.0.1:1=>1\n127.0.0.1:1=>2\n');

  const errors: Error[] = [];
  const bad = new LineLog(join(dir, 'no-such-dir', 'outputfile.log'), (err) => errors.push(err));
  const deadline = Date.now() + 5000;
  while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  bad.write('lost 1');
  bad.write('lost 2');
  await bad.close();
  assert.equal(errors.length, 1, 'the failure was reported once');
  assert.match(errors[0]!.message, /ENOENT/);
  assert.equal(bad.dropped, 2);
});
