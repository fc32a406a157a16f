import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWirelab } from '../../helpers/process.js';

test('--version prints the package version', async () => {
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  const result = await runWirelab(['--version']);
  assert.equal(result.code, 0);
  assert.equal(result.stdout.trim(), pkg.version);
});

test('--help works at every level and lists the command groups of DESIGN.md', async () => {
  const top = await runWirelab(['--help']);
  assert.equal(top.code, 0);
  for (const group of ['broadcast', 'analyze', 'gossip', 'chat', 'dashboard', 'firewall', 'demo']) {
    assert.match(top.stdout, new RegExp(`^  ${group}\\b`, 'm'), `${group} listed`);
  }
  const broadcast = await runWirelab(['broadcast', '--help']);
  assert.match(broadcast.stdout, /master[\s\S]*node[\s\S]*keygen/);
  const master = await runWirelab(['broadcast', 'master', '--help']);
  assert.equal(master.code, 0);
  for (const flag of ['--message', '--port', '--to', '--group', '--count', '--interval', '--key', '--json', '--log', '--verbose', '--utc']) assert.ok(master.stdout.includes(flag), flag);
  const node = await runWirelab(['broadcast', 'node', '--help']);
  for (const flag of ['--port', '--group', '--trust', '--name', '--json', '--duration']) assert.ok(node.stdout.includes(flag), flag);
});

test('an unknown command or flag is one line on stderr and exit code 2', async () => {
  const unknown = await runWirelab(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^error: unknown command 'frobnicate'/);
  const flag = await runWirelab(['broadcast', 'node', '--bogus']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /^error: unknown option '--bogus'/);
});

test('--log FILE writes the logs as JSON lines, and stderr stays quiet', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'node.log');
  const result = await runWirelab(['broadcast', 'node', '--port', '0', '--host', '127.0.0.1', '--duration', '200ms', '--log', file]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '', 'info logs are not shown on stderr without -v');
  const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; time: number });
  assert.ok(lines.some((l) => l.level === 30 && /^node \S+ listening on UDP 127\.0\.0\.1:\d+$/.test(l.msg)), JSON.stringify(lines));
});

test('--log into a missing directory is a usage error before anything starts, and makes no directory', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'sub', 'node.log');
  const result = await runWirelab(['broadcast', 'node', '--port', '0', '--duration', '10s', '--log', file]);
  assert.equal(result.code, 2);
  assert.equal(result.stderr, `wirelab: --log ${file}: directory ${join(dir, 'sub')} does not exist\n`);
  assert.equal(result.stdout, '');
  await assert.rejects(stat(join(dir, 'sub')), { code: 'ENOENT' });
  const onDir = await runWirelab(['broadcast', 'node', '--port', '0', '--log', dir]);
  assert.equal(onDir.code, 2);
  assert.match(onDir.stderr, /is a directory/);
});

test('-v shows info logs on stderr as plain lines (not JSON) when stderr is not a terminal', async () => {
  const result = await runWirelab(['broadcast', 'node', '--port', '0', '--host', '127.0.0.1', '--duration', '200ms', '-v']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^wirelab: info: node \S+ listening on UDP 127\.0\.0\.1:\d+/m);
  assert.doesNotMatch(result.stderr, /^\{/m);
});
