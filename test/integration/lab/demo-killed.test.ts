/**
 * `kill -9` of a running demo: it cannot tear anything down itself, so its reaper (src/lab/reaper.ts)
 * must. After the kill, the demo's stderr closes once the demo and the reaper (which holds that
 * stderr) are both gone: that is the event awaited, with a deadline. Then nothing of the lab may be
 * left: no process of any child's process group (the dashboard's tcpdump included), no namespace, no
 * temporary directory, no listening dashboard port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { Lab } from '../../../src/lab/hosts.js';
import { WirelabProcess } from '../../helpers/process.js';
import { withDeadline } from '../../helpers/deadline.js';
import { accepting, stopDemo } from './leftovers.js';

/** ms from the kill until the reaper must have finished */
const REAP_DEADLINE_MS = 20_000;

const namespaces = (): string[] => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!);

/** Live processes (zombies have exited) that are one of `groups` or in one of them: pid, then command line. */
function inGroups(groups: number[]): string[] {
  const found: string[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || !(groups.includes(Number(name)) || groups.includes(Number(pgrp)))) continue;
      found.push(`${name} ${readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function alive(pid: number): boolean {
  return inGroups([pid]).some((line) => line.startsWith(`${pid} `));
}

async function killAndCheck(args: string[], expectNamespaces: number, t: { after: (fn: () => Promise<void>) => void }): Promise<void> {
  const demo = WirelabProcess.start(['demo', '--port', '0', '--interval', '300ms', '--json', ...args]);
  t.after(() => stopDemo(demo, () => demo.events.find((e) => e.event === 'ready')));
  const ready = await demo.waitFor((e) => e.event === 'ready', 60_000, 'the lab ready');
  await demo.waitFor((e) => e.event === 'report' && e.delivered === 4, 30_000, 'a broadcast acknowledged by all four nodes');
  const pids = ready.pids as number[];
  const reaper = ready.reaper as number;
  const url = (ready.dashboard as { url: string | null; reason: string | null }).url;
  assert.ok(url, `the dashboard started: ${String((ready.dashboard as { reason: string }).reason)}`);
  const port = Number(new URL(url).port);
  assert.equal((ready.namespaces as string[]).length, expectNamespaces);
  assert.ok(alive(reaper), 'the reaper runs beside the demo');
  const tree = inGroups(pids);
  assert.ok(tree.some((line) => /tcpdump/.test(line)), `the dashboard's tcpdump is in its group: ${tree.join('\n')}`);
  assert.equal(await accepting(port), true, 'the dashboard answers before the kill');

  const closed = once(demo.child, 'close');
  demo.child.kill('SIGKILL');
  await withDeadline(closed, REAP_DEADLINE_MS, "the demo's stderr closed (the demo and its reaper both gone)");
  assert.equal(demo.child.signalCode, 'SIGKILL');
  assert.match(demo.stderr, /the demo ended without its teardown; removed \d+ processes/, demo.stderr);
  assert.equal(alive(reaper), false, 'the reaper is gone');
  assert.deepEqual(inGroups(pids), [], 'no process of the lab is left');
  const left = namespaces();
  assert.deepEqual((ready.namespaces as string[]).filter((ns) => left.includes(ns)), [], 'every namespace is gone');
  assert.equal(existsSync(String(ready.tempDir)), false, 'the temporary directory is gone');
  assert.equal(await accepting(port), false, 'the dashboard port is closed');
}

const skip = Lab.unavailableReason();

test('kill -9 of the demo in namespaces: its reaper removes every process, namespace and file', { skip, timeout: 120_000 }, async (t) => {
  await killAndCheck([], 14, t);
});

test('kill -9 of the demo on loopback: its reaper stops every process (the dashboard on its port too) and removes its files', { skip, timeout: 120_000 }, async (t) => {
  await killAndCheck(['--loopback', '--chat-port', '0'], 0, t);
});
