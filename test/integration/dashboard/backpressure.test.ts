/**
 * A browser that stops reading cannot make the server grow: a raw WebSocket client that does the
 * handshake and then reads nothing fills the kernel's buffers, after which its updates are skipped
 * (the socket's queue stays under the cap plus one message) and, past the slow-client deadline, it
 * is disconnected, while a client that reads goes on getting updates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Dashboard } from '../../../src/dashboard/index.js';
import { withDeadline } from '../../helpers/deadline.js';
import { writeTraffic } from './traffic.js';

test('a client that reads nothing gets its updates skipped, then is disconnected; a reading client is served', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-dash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'traffic.pcap');
  await writeTraffic(file);
  const maxBuffer = 64 * 1024;
  const dashboard = new Dashboard({ read: file, port: 0, anomalies: false, updates: { intervalMs: 10, maxBuffer, slowMs: 1000 } });
  t.after(() => dashboard.close());
  const done = once(dashboard, 'source');
  await dashboard.start();
  await withDeadline(done, 30_000, 'the file was read');

  // the stalled client: a WebSocket handshake by hand, then no reading at all
  const stalled = connect(dashboard.port, '127.0.0.1');
  t.after(() => stalled.destroy());
  await once(stalled, 'connect');
  stalled.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${dashboard.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const [head] = (await once(stalled, 'data')) as [Buffer];
  assert.match(head.toString('latin1'), /^HTTP\/1\.1 101/);
  stalled.pause();
  const closed = once(stalled, 'close');
  stalled.on('error', () => undefined);

  const reader = new WebSocket(`ws://127.0.0.1:${dashboard.port}/ws`);
  t.after(() => reader.close());
  let received = 0;
  reader.on('message', () => received++);
  await once(reader, 'open');

  // every change (here: pause, resume) is a new picture for both clients
  let toggles = 0;
  for (; toggles < 3000 && dashboard.stats().hub.slowDisconnects === 0; toggles++) {
    if (toggles % 2 === 0) dashboard.ingest.pause();
    else dashboard.ingest.resume();
    await new Promise((r) => setTimeout(r, 5));
  }
  dashboard.ingest.resume();
  const hub = dashboard.stats().hub;
  t.diagnostic(`after ${toggles} changes: ${hub.updatesSent} sent, ${hub.updatesSkipped} skipped, ${received} read by the reading client`);
  assert.equal(hub.slowDisconnects, 1, 'the stalled client was disconnected');
  assert.ok(hub.updatesSkipped > 0);
  assert.ok(received > 20, 'the reading client kept getting updates');
  stalled.resume(); // read what was queued, then the server's FIN
  await withDeadline(closed, 10_000, 'the stalled socket is closed by the server');
  assert.equal(dashboard.stats().hub.clients, 1);
});
