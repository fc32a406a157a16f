/**
 * The demo's relay pair on loopback (no namespace needed): the host side's TCP port, through the Unix
 * socket, to the script's target port, bytes untouched both ways; stopping removes the socket file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TcpRelay } from '../../../src/lab/relay.js';
import { scriptEntry } from '../../../src/lab/scripts.js';
import { WirelabProcess } from '../../helpers/process.js';

test('a TCP stream through the relay pair arrives byte for byte, both ways; the socket file goes at the stop', { timeout: 30_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-relay-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const echo = createServer((s) => s.on('error', () => undefined).pipe(s));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.after(() => echo.close());
  const target = (echo.address() as AddressInfo).port;
  const socketPath = join(dir, 'relay.sock');
  const script = WirelabProcess.start([socketPath, String(target)], { entry: scriptEntry('relay') });
  t.after(() => script.stop('SIGKILL'));
  await script.waitFor((e) => e.event === 'listening', 20_000);
  const relay = new TcpRelay(socketPath);
  t.after(() => relay.close());
  const port = await relay.start(0);

  const payload = randomBytes(256 * 1024);
  const client = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let received = 0;
  const done = new Promise<void>((resolve) =>
    client.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= payload.length) resolve();
    }),
  );
  client.end(payload);
  await done;
  assert.ok(Buffer.concat(chunks).equals(payload));
  client.destroy();

  await relay.close();
  const exit = await script.stop('SIGTERM');
  assert.equal(exit.code, 0);
  assert.equal(existsSync(socketPath), false);
});
