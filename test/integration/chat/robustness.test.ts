/**
 * The server under hard conditions, as real processes: a client killed mid-transfer (nothing
 * half-written, the resume works), kill -9 of the server (no account lost), TLS, the login deadline,
 * throttled failed logins, and a client that stops reading.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestUser } from './clients.js';
import { runScriptClient, SeedClient, ServerProcess, workDir } from './helpers.js';

const uploader = fileURLToPath(new URL('./upload-client.ts', import.meta.url));

test('a client killed mid-transfer leaves nothing half-written, and the upload resumes', { timeout: 90_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const { server, port } = await ServerProcess.start(work.dir, work.data);
  t.after(() => server.stop('SIGKILL'));
  const file = join(work.dir, 'big.bin');
  const content = randomBytes(48 * 1024 * 1024);
  writeFileSync(file, content);
  const first = runScriptClient(uploader, [String(port), 'alice', 'pw', 'register', file]);
  t.after(first.kill);
  await first.line(/^progress (\d+)/, 30_000);
  first.kill();
  await first.exited;
  await server.waitFor((e) => e.event === 'left' && e.name === 'alice');
  assert.deepEqual(readdirSync(join(work.data, 'files')), [], 'no file where finished files go');
  const partial = readdirSync(join(work.data, 'partial'));
  assert.equal(partial.length, 1);
  const kept = readFileSync(join(work.data, 'partial', partial[0]!));
  assert.ok(kept.length > 0 && kept.length < content.length);
  assert.ok(content.subarray(0, kept.length).equals(kept), 'the kept part is a prefix of the file');

  const second = runScriptClient(uploader, [String(port), 'alice', 'pw', 'login', file]);
  t.after(second.kill);
  const done = await second.line(/^done (\d+)/, 60_000);
  assert.ok(Number(done.split(' ')[1]) >= kept.length, `resumed from ${done}`);
  assert.equal(await second.exited, 0);
  assert.ok(readFileSync(join(work.data, 'files', 'alice', 'big.bin')).equals(content));
  assert.deepEqual(readdirSync(join(work.data, 'partial')), []);
});

test('kill -9 of the server loses no account it acknowledged', { timeout: 60_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const first = await ServerProcess.start(work.dir, work.data);
  t.after(() => first.server.stop('SIGKILL'));
  const names = ['ann', 'ben', 'cat', 'dan'];
  const users = await Promise.all(names.map((n) => TestUser.join(first.port, n, { downloads: join(work.dir, 'dl') })));
  users.forEach((u) => u.close());
  await first.server.stop('SIGKILL');
  const second = await ServerProcess.start(work.dir, work.data);
  t.after(() => second.server.stop('SIGKILL'));
  for (const n of names) {
    const again = await TestUser.join(second.port, n, { register: false, downloads: join(work.dir, 'dl') });
    again.close();
  }
  await assert.rejects(TestUser.join(second.port, 'ann', { register: false, password: 'wrong', downloads: join(work.dir, 'dl') }), /Invalid username or password/);
});

test('TLS: our client with --ca logs in and chats; without the CA the certificate is refused', { timeout: 60_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const cert = join(work.dir, 'cert.pem');
  const key = join(work.dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const { server, port } = await ServerProcess.start(work.dir, work.data, ['--tls-cert', cert, '--tls-key', key]);
  t.after(() => server.stop('SIGKILL'));
  assert.equal((await server.waitFor((e) => e.event === 'listening')).tls, true);
  const tls = { ca: readFileSync(cert) };
  const alice = await TestUser.join(port, 'alice', { downloads: work.dir, tls });
  t.after(() => alice.close());
  const bob = await TestUser.join(port, 'bob', { downloads: work.dir, tls });
  t.after(() => bob.close());
  alice.client.write('msg', 'over TLS');
  await bob.waitText((e) => e.text === 'Client alice: over TLS\n');
  // without the CA the certificate is refused
  await assert.rejects(TestUser.join(port, 'eve', { downloads: work.dir, tls: {} }), /self-signed|certificate/i);
});

test('login deadline; a bad header length closes with a reason', { timeout: 60_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const { server, port } = await ServerProcess.start(work.dir, work.data, ['--login-timeout', '1500ms']);
  t.after(() => server.stop('SIGKILL'));
  const idle = await SeedClient.connect(port);
  t.after(() => idle.close());
  await idle.record(); // prompt
  const notice = await idle.record(5_000);
  assert.deepEqual([notice.header, notice.payload.toString()], ['error', 'Server: Login took too long.\n']);
  await idle.closed();

  const hostile = await SeedClient.connect(port);
  t.after(() => hostile.close());
  await hostile.record();
  await hostile.sendRaw(Buffer.from([0xff, 0xff, 1, 2, 3]));
  const error = await hostile.record();
  assert.equal(error.header, 'error');
  await hostile.closed();
  await server.waitFor((e) => e.event === 'protocol-error' && String(e.reason).includes('header length'));
});

test('failed logins are throttled per account', { timeout: 90_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  // the default 30 s login deadline: argon2 under a loaded machine must not be mistaken for a slow client
  const { server, port } = await ServerProcess.start(work.dir, work.data);
  t.after(() => server.stop('SIGKILL'));
  const owner = await TestUser.join(port, 'owner', { downloads: work.dir });
  t.after(() => owner.close());
  const reasons: string[] = [];
  for (let i = 0; i < 6; i++) {
    await TestUser.join(port, 'owner', { register: false, password: `guess${i}`, downloads: work.dir }).catch((err: Error) => reasons.push(err.message));
  }
  assert.equal(reasons.length, 6);
  assert.ok(reasons.slice(0, 5).every((r) => r.includes('Invalid username or password')));
  assert.match(reasons[5]!, /Too many failed logins/);
  await server.waitForCount((e) => e.event === 'login-failed', 6);
  const failed = server.events.filter((e) => e.event === 'login-failed').map((e) => e.reason);
  assert.deepEqual(failed, ['invalid', 'invalid', 'invalid', 'invalid', 'invalid', 'throttled']);
});

test('a client that stops reading is disconnected and slows nobody else', { timeout: 60_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const { server, port } = await ServerProcess.start(work.dir, work.data, ['--max-queued', '65536']);
  t.after(() => server.stop('SIGKILL'));
  const alice = await TestUser.join(port, 'alice', { downloads: join(work.dir, 'dl') });
  t.after(() => alice.close());
  const sleeper = await TestUser.join(port, 'sleeper', { downloads: join(work.dir, 'dl') });
  t.after(() => sleeper.close());
  // the sleeper stops reading; a 32 MiB file to it fills the kernel's buffers and then the server's queue
  (sleeper.client as unknown as { socket: { pause(): void } }).socket.pause();
  const file = join(work.dir, 'fill.bin');
  writeFileSync(file, Buffer.alloc(32 * 1024 * 1024, 7));
  server.type('send_file:sleeper:.:fill.bin');
  const started = Date.now();
  for (let i = 0; i < 200; i++) server.type(`line ${i} ${'x'.repeat(900)}`);
  await alice.waitText((e) => e.text.startsWith('Server: line 199 '), 20_000);
  await server.waitFor((e) => e.event === 'slow-client' && e.name === 'sleeper', 20_000);
  assert.ok(Date.now() - started < 20_000);
});
