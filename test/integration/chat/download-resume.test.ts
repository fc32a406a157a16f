/**
 * A download to our client that breaks resumes: the receiving client is killed (-9) mid-download, its
 * part stays in its downloads folder and the server keeps the file; at the next login the client asks
 * for the rest from the part's length, and only the rest crosses the wire; the whole file is then
 * checked (SHA-256) and equal byte for byte. Also: an upload whose kept part belongs to another file
 * (same name, size and time) is caught by the whole-file hash and sent again from the start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestUser } from './clients.js';
import { runScriptClient, SeedClient, ServerProcess, workDir } from './helpers.js';
import { CAPABILITY } from '../../../src/chat/protocol.js';

const downloader = fileURLToPath(new URL('./download-client.ts', import.meta.url));
const uploader = fileURLToPath(new URL('./upload-client.ts', import.meta.url));

test('a download killed halfway resumes from its part, and only the rest is sent', { timeout: 120_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const { server, port } = await ServerProcess.start(work.dir, work.data);
  t.after(() => server.stop('SIGKILL'));
  const content = randomBytes(48 * 1024 * 1024);
  const file = join(work.dir, 'big.bin');
  writeFileSync(file, content);
  const downloads = join(work.dir, 'bob-downloads');
  const alice = await TestUser.join(port, 'alice', { downloads: join(work.dir, 'dl') });
  t.after(() => alice.close());

  const first = runScriptClient(downloader, [String(port), 'bob', 'pw', 'register', downloads, 'stall']);
  t.after(first.kill);
  await first.line(/^joined$/);
  await alice.client.sendFile(file, 'bob');
  const kept = Number((await first.line(/^stalled \d+$/)).split(' ')[1]);
  assert.ok(kept > 0, 'some of the download is on disk');
  first.kill();
  await first.exited;
  await server.waitFor((e) => e.event === 'left' && e.name === 'bob');
  // the client kept its part and what it is; the server kept the file
  const part = readdirSync(downloads).find((f) => f.endsWith('.part'))!;
  assert.ok(part && readdirSync(downloads).includes(part.replace(/\.part$/, '.json')));
  const onDisk = statSync(join(downloads, part)).size;
  assert.ok(onDisk > 0 && onDisk < content.length && content.subarray(0, onDisk).equals(readFileSync(join(downloads, part))), 'the part is a prefix of the file');
  assert.equal(readdirSync(join(work.data, 'outgoing')).length, 2, 'the server keeps the file and its record');

  // a client repeating file_resume gets one delivery, not one whole-file job per request
  const [, sha256, size] = /([0-9a-f]{64})-(\d+)\.part$/.exec(part)!;
  const raw = await SeedClient.connect(port);
  t.after(() => raw.close());
  await raw.record(); // Are you already registered?
  raw.send('info', 'yes');
  raw.send('info', 'bob');
  raw.send('info', 'pw');
  const answers: Array<{ header: string; text: string }> = [];
  for (let r = await raw.record(); ; r = await raw.record()) {
    if (r.payload.toString() === 'Server: You joined the server.\n') break;
  }
  raw.send('caps', CAPABILITY);
  const resume = JSON.stringify({ sha256, size: Number(size), offset: onDisk });
  raw.send('file_resume', resume);
  raw.send('file_resume', resume);
  raw.send('file_resume', resume);
  // the refusals are queued behind the one delivery: read through its chunks (about 190 of 256 KiB)
  for (let i = 0; i < 1000 && answers.filter((a) => a.header === 'file_offer' || a.header === 'file_error').length < 3; i++) {
    const r = await raw.record();
    answers.push({ header: r.header, text: r.header === 'file_chunk' ? '' : r.payload.toString() });
  }
  const offers = answers.filter((a) => a.header === 'file_offer');
  const refused = answers.filter((a) => a.header === 'file_error');
  assert.equal(offers.length, 1, `one delivery, not ${offers.length}`);
  assert.equal(refused.length, 2);
  for (const e of refused) assert.match(e.text, /already on its way/);
  raw.close();
  await server.waitForCount((e) => e.event === 'left' && e.name === 'bob', 2);

  const second = runScriptClient(downloader, [String(port), 'bob', 'pw', 'login', downloads]);
  t.after(second.kill);
  const offset = Number((await second.line(/^incoming \d+$/)).split(' ')[1]);
  assert.equal(offset, onDisk, 'the download resumes from the length of the part');
  const [, path, received] = (await second.line(/^saved /, 60_000)).split(' ') as [string, string, string];
  assert.ok(readFileSync(path).equals(content), 'the whole file, byte for byte');
  assert.ok(Number(received) < content.length - offset + 64 * 1024, `the second connection read ${received} bytes for the ${content.length - offset} missing`);
  const sent = await server.waitFor((e) => e.event === 'file' && e.to === 'bob');
  assert.equal(sent.offset, offset);
  assert.equal(await second.exited, 0);
  await server.waitForCount((e) => e.event === 'left' && e.name === 'bob', 3);
  // confirmed: the server forgot its copy (removed after the client's file_received, which may be
  // handled after its disconnect: no event says so, so the folder is polled, at most 5 s); the
  // client left no part behind
  const outgoing = join(work.data, 'outgoing');
  for (const deadline = Date.now() + 5_000; readdirSync(outgoing).length > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(readdirSync(outgoing), []);
  assert.deepEqual(readdirSync(downloads), ['big.bin']);
});

test('an upload resumed onto the part of another file is caught by the whole-file SHA-256 and sent again', { timeout: 120_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const { server, port } = await ServerProcess.start(work.dir, work.data);
  t.after(() => server.stop('SIGKILL'));
  const file = join(work.dir, 'same-name.bin');
  writeFileSync(file, randomBytes(48 * 1024 * 1024));
  const when = new Date('2026-01-01T00:00:00Z');
  utimesSync(file, when, when);
  const first = runScriptClient(uploader, [String(port), 'alice', 'pw', 'register', file]);
  t.after(first.kill);
  await first.line(/^progress \d+$/);
  first.kill();
  await first.exited;
  await server.waitFor((e) => e.event === 'left' && e.name === 'alice');
  assert.equal(readdirSync(join(work.data, 'partial')).length, 1);

  // other bytes under the same name, size and modification time
  const other = randomBytes(48 * 1024 * 1024);
  writeFileSync(file, other);
  utimesSync(file, when, when);
  const second = runScriptClient(uploader, [String(port), 'alice', 'pw', 'login', file]);
  t.after(second.kill);
  await second.line(/^done 0$/, 60_000);
  assert.equal(await second.exited, 0);
  await server.waitFor((e) => e.event === 'file-refused' && e.reason === 'verification failed');
  assert.ok(readFileSync(join(work.data, 'files', 'alice', 'same-name.bin')).equals(other));
  assert.deepEqual(readdirSync(join(work.data, 'partial')), []);
});
