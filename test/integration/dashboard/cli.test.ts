/** `wirelab dashboard` as a user runs it: the real command, its NDJSON events, its page's API, a clean stop. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWirelab, WirelabProcess } from '../../helpers/process.js';
import { writeTraffic } from './traffic.js';

test('wirelab dashboard --read FILE --port 0 --json: listening, source done, the API answers; SIGTERM stops it cleanly', { timeout: 90_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-dash-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'traffic.pcapng');
  const count = await writeTraffic(file);
  const proc = WirelabProcess.start(['dashboard', '--read', file, '--port', '0', '--json', '--no-anomalies']);
  t.after(() => proc.stop('SIGKILL'));
  const listening = await proc.waitFor((e) => e.event === 'listening', 30_000, 'listening');
  assert.match(String(listening.url), /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal(typeof listening.time, 'number');
  assert.equal(listening.token, null);
  const source = await proc.waitFor((e) => e.event === 'source', 30_000, 'the file read');
  assert.deepEqual({ state: source.state, packets: source.packets }, { state: 'done', packets: count });
  const snap = (await (await fetch(new URL('/api/snapshot?limit=0', String(listening.url)))).json()) as { stats: { packets: number } };
  assert.equal(snap.stats.packets, count);
  const page = await fetch(String(listening.url));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const exit = await proc.stop('SIGTERM', 15_000);
  assert.equal(exit.signal, null, 'it exits by itself after a clean shutdown');
  const stopped = proc.events.find((e) => e.event === 'stopped');
  assert.equal(stopped?.packets, count);
});

test('wirelab dashboard: a missing --read file is one line and exit 2; conflicting flags are refused; --help has Examples', { timeout: 60_000 }, async () => {
  const missing = await runWirelab(['dashboard', '--read', '/nonexistent/x.pcap', '--port', '0']);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim(), 'wirelab: --read: no such file: /nonexistent/x.pcap');
  const both = await runWirelab(['dashboard', '--read', '/x.pcap', '--interface', 'lo']);
  assert.notEqual(both.code, 0); // commander's own conflict error: its exit code is the CLI's shared business
  assert.match(both.stderr, /cannot be used with/);
  const help = await runWirelab(['dashboard', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Examples:\n {2}wirelab dashboard --read/);
  assert.match(help.stdout, /--port <port>[^]*?\(default:\s+8050\)/);
});
