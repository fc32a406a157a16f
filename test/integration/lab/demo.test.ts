import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Lab } from '../../../src/lab/hosts.js';
import { WirelabProcess, runWirelab } from '../../helpers/process.js';
import { removeLeftovers, stopDemo } from './leftovers.js';

const namespaces = (): string[] => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!).filter((l) => l.startsWith('wl-'));

/** Runs the demo, checks what it showed, and returns the namespaces it said it made. */
async function checkDemo(args: string[], mode: 'namespaces' | 'loopback'): Promise<string[]> {
  const result = await runWirelab(['demo', '--duration', '5s', '--interval', '300ms', '--no-dashboard', '--json', ...args], { timeoutMs: 90_000 });
  assert.equal(result.code, 0, result.stderr);
  const ready = result.events.find((e) => e.event === 'ready');
  if (result.code !== 0) removeLeftovers(ready); // killed at its deadline: it could not clean up
  assert.equal(ready?.mode, mode);
  assert.equal((ready?.hosts as unknown[]).length, mode === 'namespaces' ? 13 : 1);
  assert.equal((ready?.dashboard as { reason: string }).reason, 'not asked for (--no-dashboard)');
  const steps = result.events.filter((e) => e.event === 'progress').map((e) => e.step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6], 'progress while it builds, before it is ready');
  assert.ok(result.events.findIndex((e) => e.event === 'progress') < result.events.indexOf(ready));
  if (mode === 'loopback') assert.match(String(ready?.target), /^127\.255\.255\.255:\d+$/);
  else assert.match(String(ready?.target), /^198\.18\.\d+\.255:12345$/);
  const reports = result.events.filter((e) => e.event === 'report');
  assert.ok(reports.length >= 2, `at least two broadcasts reported, got ${reports.length}`);
  for (const r of reports.slice(0, -1)) assert.equal(r.delivered, 4, `message ${String(r.seq)} reached all four nodes`);
  const receivers = new Set(result.events.filter((e) => e.event === 'received').map((e) => e.node));
  assert.deepEqual([...receivers].sort(), ['node1', 'node2', 'node3', 'node4']);
  assert.equal(result.events.at(-1)?.event, 'stopped');
  return ready?.namespaces as string[];
}

test('the demo on loopback: a master and four nodes, every broadcast acknowledged by all four', async () => {
  assert.deepEqual(await checkDemo(['--loopback', '--chat-port', '0'], 'loopback'), []);
});

test('the demo in namespaces: the same across separate hosts, and the namespaces are gone afterwards', { skip: Lab.unavailableReason() }, async () => {
  // other tests may make and remove their own labs meanwhile: look only at the demo's namespaces
  const made = await checkDemo([], 'namespaces');
  assert.equal(made.length, 14, 'a switch and thirteen hosts');
  const left = namespaces();
  assert.deepEqual(made.filter((ns) => left.includes(ns)), []);
});

/** Whether a process is still there (a zombie counts as gone: it has exited). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The pids still alive after up to `ms`: a SIGKILLed process takes a moment to die, and there is no
 * event to await for a process that is not our child, so this polls, bounded in time.
 */
async function survivors(pids: number[], ms = 5_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

test('SIGHUP tears the demo down like Ctrl-C: exit 129, no child process and no namespace left', { timeout: 60_000 }, async (t) => {
  const demo = WirelabProcess.start(['demo', '--interval', '200ms', '--no-dashboard', '--json']);
  t.after(() => stopDemo(demo, () => demo.events.find((e) => e.event === 'ready')));
  const ready = await demo.waitFor((e) => e.event === 'ready', 60_000);
  await demo.waitFor((e) => e.event === 'report', 20_000);
  const pids = ready.pids as number[];
  // 5 broadcast, 3 seeds and the peers' swarm, the chat server and 3 clients
  assert.equal(pids.length, 13, 'every child of the lab');
  assert.ok(pids.every(alive));
  const started = Date.now();
  const exit = await demo.stop('SIGHUP', 20_000);
  assert.deepEqual(exit, { code: 129, signal: null }, demo.stderr);
  assert.ok(Date.now() - started < 15_000, `stopped in ${Date.now() - started} ms`);
  assert.deepEqual(pids.filter(alive), [], 'every child is gone');
  const left = namespaces();
  assert.deepEqual((ready.namespaces as string[]).filter((ns) => left.includes(ns)), [], 'every namespace is gone');
  assert.equal(existsSync(String(ready.tempDir)), false, 'the temporary directory is gone');
  assert.equal(demo.events.at(-1)?.event, 'stopped');
});

test('the demo prints in causal order, each line with its time', { timeout: 60_000 }, async () => {
  const result = await runWirelab(['demo', '--loopback', '--chat-port', '0', '--no-dashboard', '--duration', '3s', '--interval', '100ms'], { timeoutMs: 90_000 });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l));
  assert.ok(lines.length > 10, result.stdout);
  const sentAt = new Map<string, number>();
  const gotAt = new Map<string, number>();
  for (const [i, line] of lines.entries()) {
    const sent = / master {2}-> message (\d+) /.exec(line);
    if (sent) sentAt.set(sent[1]!, i);
    const got = / (node\d) +got message (\d+): /.exec(line);
    if (got) {
      assert.ok(sentAt.has(got[2]!), `'${line}' printed before the master sent message ${got[2]}`);
      gotAt.set(`${got[1]} ${got[2]}`, i);
    }
    const report = / master {2}<- (\d+) acks? for message (\d+)/.exec(line);
    if (report && report[1] === '4') {
      for (const node of ['node1', 'node2', 'node3', 'node4']) assert.ok(gotAt.has(`${node} ${report[2]}`), `'${line}' before ${node} got it`);
    }
  }
  assert.ok(sentAt.size >= 3 && gotAt.size >= 12, `${sentAt.size} sent, ${gotAt.size} receipts`);
  assert.doesNotMatch(result.stdout, /p99/);
});

test('a second Ctrl-C during the shutdown exits at once with 130, and still leaves no child behind', { timeout: 60_000 }, async (t) => {
  const demo = WirelabProcess.start(['demo', '--loopback', '--chat-port', '0', '--no-dashboard', '--interval', '200ms', '--json']);
  t.after(() => stopDemo(demo, () => demo.events.find((e) => e.event === 'ready')));
  const ready = await demo.waitFor((e) => e.event === 'ready', 60_000);
  await demo.waitFor((e) => e.event === 'report', 20_000);
  demo.child.kill('SIGINT');
  demo.child.kill('SIGINT');
  const exit = await demo.stop('SIGINT', 20_000);
  assert.deepEqual(exit, { code: 130, signal: null }, demo.stderr);
  assert.deepEqual(await survivors(ready.pids as number[]), [], 'every child is gone (killed at exit)');
});
