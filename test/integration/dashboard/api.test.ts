/**
 * The dashboard's HTTP API and WebSocket against a real server over a generated capture file: every
 * figure is checked against `wirelab analyze --stats --json` (and, for filters, analyze with the
 * equivalent BPF filter through tcpdump) on the same file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Dashboard, type DashboardUpdate } from '../../../src/dashboard/index.js';

/** What the API answers: an update, an error, or an upload's result (fields as each has them). */
type Reply = DashboardUpdate & { error: string; ok: boolean; name: string; paused: boolean; count: number };
type Message = DashboardUpdate | { type: 'error'; message: string };
import { runWirelab } from '../../helpers/process.js';
import { withDeadline } from '../../helpers/deadline.js';
import { mulberry32, randomBytes } from '../../helpers/random.js';
import { writeTraffic } from './traffic.js';

type Stats = DashboardUpdate['stats'];

async function analyzeStats(file: string, bpf?: string): Promise<Stats> {
  const args = ['analyze', '--read', file, '--stats', '--json', ...(bpf ? ['--filter', bpf] : [])];
  const { code, events, stderr } = await runWirelab(args, { timeoutMs: 60_000 });
  assert.equal(code, 0, stderr);
  const stats = events.find((e) => e.event === 'stats' && e.final === true);
  assert.ok(stats, 'analyze printed its final stats');
  return stats as unknown as Stats;
}

/** Every figure of two stats snapshots, the series compared over analyze's (shorter) window. */
function assertSameStats(ours: Stats, theirs: Stats, what: string): void {
  for (const key of ['packets', 'bytes', 'avgPacketSize', 'firstTs', 'lastTs', 'sizeBuckets', 'protocols', 'topSources', 'topDestinations', 'badLength'] as const) {
    assert.deepEqual(ours[key], theirs[key], `${what}: ${key}`);
  }
  assert.equal(ours.series.endSec, theirs.series.endSec, `${what}: series end`);
  const n = theirs.series.packets.length;
  assert.deepEqual(ours.series.packets.slice(-n), theirs.series.packets, `${what}: packets per second`);
  assert.deepEqual(ours.series.bytes.slice(-n), theirs.series.bytes, `${what}: bytes per second`);
  assert.ok(ours.series.packets.slice(0, -n).every((v) => v === 0), `${what}: nothing before analyze's window`);
}

async function startDashboard(t: { after(fn: () => Promise<void>): void }, options: ConstructorParameters<typeof Dashboard>[0]): Promise<Dashboard> {
  const dashboard = new Dashboard({ port: 0, ...options });
  t.after(() => dashboard.close());
  const done = options?.read !== undefined ? once(dashboard, 'source') : undefined;
  await dashboard.start();
  if (done) await withDeadline(done, 30_000, 'the file was read');
  return dashboard;
}

async function getJson(dashboard: Dashboard, path: string, init?: RequestInit): Promise<{ status: number; body: Reply }> {
  const res = await fetch(new URL(path, dashboard.url), init);
  return { status: res.status, body: (await res.json()) as Reply };
}

/** An upload's answer: its packet count is a number (an update's `packets` are rows). */
async function upload(dashboard: Dashboard, body: BodyInit, name?: string): Promise<{ status: number; error: string; packets: number; name: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (name !== undefined) headers['x-filename'] = encodeURIComponent(name);
  const res = await fetch(new URL('/api/upload', dashboard.url), { method: 'POST', headers, body });
  return { status: res.status, ...((await res.json()) as { error: string; packets: number; name: string }) };
}

test('HTTP API: totals, series, protocols, sizes and talkers equal analyze --stats; filters equal analyze with BPF', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-dash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'traffic.pcap');
  const count = await writeTraffic(file);
  const dashboard = await startDashboard(t, { read: file, anomalies: false });

  const [all, udp, net, dst] = await Promise.all([
    analyzeStats(file),
    analyzeStats(file, 'udp'),
    analyzeStats(file, 'src net 10.0.0.0/24'),
    analyzeStats(file, 'dst host 10.0.0.100 and tcp'),
  ]);
  assert.equal(all.packets, count);

  const snap = await getJson(dashboard, '/api/snapshot');
  assert.equal(snap.status, 200);
  assert.equal(snap.body.source.state, 'done');
  assert.equal(snap.body.ingested, count);
  assertSameStats(snap.body.stats, all, 'unfiltered');
  assert.equal(snap.body.packets.length, 500, 'the newest packets, at most 500 per update');
  assert.equal(snap.body.lastSeq, count - 1);

  assertSameStats((await getJson(dashboard, '/api/snapshot?protocol=udp')).body.stats, udp, 'protocol=udp');
  assertSameStats((await getJson(dashboard, '/api/snapshot?src=10.0.0.0/24')).body.stats, net, 'src=10.0.0.0/24');
  const both = await getJson(dashboard, '/api/snapshot?dst=10.0.0.100&protocol=TCP');
  assertSameStats(both.body.stats, dst, 'dst + protocol');
  assert.ok(both.body.packets.every((p) => p.dst === '10.0.0.100' && p.protocol === 'TCP'));
  // flows: 120 TCP connections, each closed with FIN both ways: Zeek's SF (a view of one direction sees SH)
  const tcp = (await getJson(dashboard, '/api/snapshot?protocol=tcp&limit=0')).body;
  assert.equal(tcp.flows.finishedTotal, 120);
  assert.equal(tcp.flows.finished.length, 100);
  assert.ok(tcp.flows.finished.every((f) => f.connState === 'SF' && f.dport === 80 && f.origPackets === 4 && f.ended));
  assert.ok(both.body.flows.finished.every((f) => f.connState === 'SH'));

  const bad = await getJson(dashboard, '/api/snapshot?src=10.0.0.300');
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /not an IP address or CIDR/);
  assert.equal((await getJson(dashboard, `/api/snapshot?protocol=${'x'.repeat(100)}`)).status, 400);

  const live = await getJson(dashboard, '/api/live', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"bpf":"udp"}' });
  assert.equal(live.status, 400);
  assert.match(live.body.error, /live capture only/);

  const metrics = await (await fetch(new URL('/metrics', dashboard.url))).text();
  assert.match(metrics, new RegExp(`^wirelab_dashboard_packets_total ${count}$`, 'm'));
  assert.match(metrics, new RegExp(`^wirelab_dashboard_bytes_total ${all.bytes}$`, 'm'));
});

test('download is pcapng that analyze reads back; upload replaces the data; bad and large uploads get a clear error', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-dash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'traffic.pcap');
  const count = await writeTraffic(file);
  const dashboard = await startDashboard(t, { read: file, anomalies: false, maxUploadBytes: 256 * 1024 });

  const res = await fetch(new URL('/api/capture.pcapng?protocol=udp', dashboard.url));
  assert.equal(res.headers.get('content-type'), 'application/vnd.tcpdump.pcapng');
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(bytes.readUInt32LE(0), 0x0a0d0d0a, 'a pcapng section header');
  const saved = join(dir, 'udp.pcapng');
  await writeFile(saved, bytes);
  const back = await analyzeStats(saved);
  const udp = (await getJson(dashboard, '/api/snapshot?protocol=udp')).body.stats;
  assert.equal(back.packets, udp.packets);
  assert.equal(Number(res.headers.get('x-wirelab-packets')), udp.packets);
  assert.deepEqual(back.protocols, udp.protocols);

  const notCapture = await upload(dashboard, 'hello, not packets');
  assert.equal(notCapture.status, 400);
  assert.match(notCapture.error, /not a pcap or pcapng file/);
  assert.equal((await getJson(dashboard, '/api/snapshot?limit=0')).body.ingested, count, 'a refused upload changes nothing');

  const tooLarge = await upload(dashboard, await readFile(file));
  assert.equal(tooLarge.status, 413);
  assert.equal(tooLarge.error, 'file too large: the limit is 0.25 MiB');

  const truncated = bytes.subarray(0, bytes.length - 10);
  const cut = await upload(dashboard, truncated, 'cut.pcapng');
  assert.equal(cut.status, 422);
  assert.match(cut.error, /truncated/);
  assert.equal(cut.packets, udp.packets - 1);

  // seeded random bytes behind a capture magic: a clear refusal or a (partial) read, never a crash
  const rand = mulberry32(5);
  for (let i = 0; i < 20; i++) {
    const junk = Buffer.concat([i % 2 ? bytes.subarray(0, 28 + i * 7) : Buffer.from([0xd4, 0xc3, 0xb2, 0xa1]), randomBytes(rand, Math.floor(rand() * 4000))]);
    const reply = await upload(dashboard, junk, `fuzz-${i}`);
    assert.ok([200, 400, 422].includes(reply.status), `fuzz ${i}: ${reply.status} ${reply.error}`);
  }

  const ok = await upload(dashboard, bytes, 'udp only.pcapng');
  assert.equal(ok.status, 200, ok.error);
  assert.equal(ok.packets, udp.packets);
  const after = (await getJson(dashboard, '/api/snapshot?limit=0')).body;
  assert.deepEqual({ kind: after.source.kind, name: after.source.name, state: after.source.state }, { kind: 'upload', name: 'udp only.pcapng', state: 'done' });
  assert.deepEqual(after.stats.protocols, back.protocols);
});

test('WebSocket: a first update at once, the filter message switches the view, garbage gets an error; pause and resume', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-dash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'traffic.pcapng');
  const count = await writeTraffic(file);
  const dashboard = await startDashboard(t, { read: file, anomalies: false, updates: { intervalMs: 100 } });
  const ws = new WebSocket(new URL('/ws?protocol=icmp', dashboard.url.replace('http', 'ws')));
  t.after(() => ws.close());
  const waiters: Array<(m: Message) => boolean> = [];
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString('utf8')) as Message;
    for (const w of [...waiters]) if (w(m)) waiters.splice(waiters.indexOf(w), 1);
  });
  /** The next message that is an update passing `pred` (or, with kind 'error', the next error). */
  function next(kind: 'update', pred: (m: DashboardUpdate) => boolean, what: string): Promise<DashboardUpdate>;
  function next(kind: 'error', pred: null, what: string): Promise<{ type: 'error'; message: string }>;
  function next(kind: 'update' | 'error', pred: ((m: DashboardUpdate) => boolean) | null, what: string): Promise<Message> {
    const wanted = (m: Message): boolean => m.type === kind && (m.type === 'error' || pred === null || pred(m));
    return withDeadline(new Promise((resolve) => waiters.push((m) => (wanted(m) ? (resolve(m), true) : false))), 10_000, what);
  }

  const first = await next('update', () => true, 'the first update');
  assert.deepEqual(first.filter, { protocol: 'icmp' });
  assert.equal(first.stats.packets, 60);
  assert.equal(first.packets.length, 60);
  assert.ok(first.packets.every((p) => p.protocol === 'ICMP'));

  ws.send(JSON.stringify({ type: 'filter', filter: {} }));
  const all = await next('update', (m) => m.filter.protocol === undefined, 'the unfiltered update');
  assert.equal(all.stats.packets, count);
  const http = (await getJson(dashboard, '/api/snapshot')).body;
  assert.deepEqual(all.stats, http.stats);

  ws.send('{"type":"filter","filter":{"src":"not-an-address"}}');
  assert.match((await next('error', null, 'an error for a bad filter')).message, /not an IP address/);
  ws.send('\u0000\u0001 garbage');
  assert.equal((await next('error', null, 'an error for garbage')).message, 'bad message');

  ws.send('{"type":"pause"}');
  assert.equal((await next('update', (m) => m.paused, 'a paused update')).paused, true);
  assert.equal((await getJson(dashboard, '/api/state')).body.paused, true);
  await getJson(dashboard, '/api/resume', { method: 'POST' });
  await next('update', (m) => !m.paused, 'a resumed update');
});

test('off loopback a token is required (Bearer, ?token= then the cookie); a foreign Host or Origin is refused', { timeout: 30_000 }, async (t) => {
  const dashboard = await startDashboard(t, { token: 's3cret', anomalies: false });
  const base = `http://127.0.0.1:${dashboard.port}`;
  assert.equal((await fetch(`${base}/api/state`)).status, 401);
  assert.equal((await fetch(`${base}/metrics`)).status, 401);
  assert.equal((await fetch(`${base}/api/state`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  assert.equal((await fetch(`${base}/api/state`, { headers: { authorization: 'Bearer s3cret' } })).status, 200);
  const withQuery = await fetch(`${base}/api/state?token=s3cret`);
  assert.equal(withQuery.status, 200);
  const cookie = withQuery.headers.get('set-cookie')!.split(';')[0]!;
  assert.equal((await fetch(`${base}/api/state`, { headers: { cookie } })).status, 200);
  assert.match(dashboard.url, /\?token=s3cret$/);

  const plain = await startDashboard(t, { anomalies: false });
  const url = `http://127.0.0.1:${plain.port}/api/state`;
  assert.equal((await fetch(url)).status, 200);
  const rebound = await new Promise<number>((resolve, reject) => {
    const req = request(url, { headers: { host: `attacker.example:${plain.port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(rebound, 403, 'a page that rebound its name to 127.0.0.1 is refused');
  const ws = new WebSocket(`ws://127.0.0.1:${plain.port}/ws`, { origin: 'http://attacker.example' });
  const [, response] = (await withDeadline(once(ws, 'unexpected-response'), 5000, 'the cross-origin upgrade is refused')) as [unknown, { statusCode: number }];
  assert.equal(response.statusCode, 403);
  ws.on('error', () => undefined); // terminate() on a refused upgrade reports it
  ws.terminate();
});
