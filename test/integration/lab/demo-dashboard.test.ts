/**
 * The whole lab, as a user sees it: `wirelab demo` in namespaces, then the dashboard on the host's
 * 127.0.0.1 (relayed from the bridge's namespace) shows every system: first in the browser (Debian's
 * Chromium), then through its HTTP API; Ctrl-C leaves no process, namespace, temporary file or port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Lab } from '../../../src/lab/hosts.js';
import { WirelabProcess } from '../../helpers/process.js';
import { launch, skipReason } from '../../browser/browser.js';
import { accepting, stopDemo } from './leftovers.js';

const PROTOCOLS = ['wirelab-broadcast', 'wirelab-gossip', 'wirelab-chat'];

const namespaces = (): string[] => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

interface Snapshot {
  stats: { packets: number; protocols: { protocol: string; packets: number }[] };
}

async function snapshot(url: string, query = ''): Promise<Snapshot> {
  const response = await fetch(`${url}api/snapshot?limit=0${query}`);
  assert.equal(response.status, 200);
  return (await response.json()) as Snapshot;
}

const skip = Lab.unavailableReason() ?? skipReason();

test('the demo shows every system on the dashboard, in the browser and through its API, and leaves nothing behind', { skip, timeout: 120_000 }, async (t) => {
  const demo = WirelabProcess.start(['demo', '--port', '0', '--interval', '500ms', '--json']);
  t.after(() => stopDemo(demo, () => demo.events.find((e) => e.event === 'ready')));
  const ready = await demo.waitFor((e) => e.event === 'ready', 60_000, 'the lab ready');
  const url = (ready.dashboard as { url: string | null; reason: string | null }).url;
  assert.ok(url, `the dashboard started: ${String((ready.dashboard as { reason: string }).reason)}`);
  const port = Number(new URL(url).port);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal((ready.namespaces as string[]).length, 14, 'a switch and thirteen hosts');
  assert.ok(existsSync(String(ready.tempDir)));

  // every system did its part (the demo's own events, from the children's)
  await demo.waitFor((e) => e.event === 'report' && e.delivered === 4, 30_000, 'a broadcast acknowledged by all four nodes');
  await demo.waitFor((e) => e.event === 'chat' && e.what === 'file-sent', 30_000, 'the file sent');
  await demo.waitFor((e) => e.event === 'chat' && e.what === 'quiz-ended', 30_000, 'the quiz over');
  await demo.waitFor((e) => e.event === 'gossip' && e.kind === 'spread', 30_000, 'a gossip round reaching every peer');

  // the page, on the host's loopback: packets counted, each of wirelab's protocols named
  const browser = await launch();
  t.after(() => browser.dispose());
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => Number(document.querySelector('#total-packets')?.textContent?.replace(/,/g, '')) > 0, undefined, { timeout: 15_000 });
  for (const protocol of PROTOCOLS) {
    await page.fill('input[name=protocol]', protocol);
    await page.click('#filters button[type=submit]');
    await page.waitForFunction((name) => [...document.querySelectorAll('#packets .row span:nth-child(5)')].some((cell) => cell.textContent === name), protocol, { timeout: 15_000 });
  }
  await browser.dispose();

  // the API agrees: every protocol named and counted
  const all = await snapshot(url);
  assert.ok(all.stats.packets > 0);
  for (const protocol of PROTOCOLS) {
    const row = all.stats.protocols.find((p) => p.protocol === protocol);
    assert.ok(row && row.packets > 0, `${protocol} counted: ${JSON.stringify(all.stats.protocols.map((p) => p.protocol))}`);
    assert.ok((await snapshot(url, `&protocol=${protocol}`)).stats.packets > 0, `the ${protocol} view has packets`);
  }

  // Ctrl-C: a clean stop, then nothing of the lab is left
  const exit = await demo.stop('SIGINT', 30_000);
  assert.deepEqual(exit, { code: 130, signal: null }, demo.stderr);
  assert.equal(demo.events.at(-1)?.event, 'stopped');
  assert.deepEqual((ready.pids as number[]).filter(alive), [], 'every child is gone');
  const left = namespaces();
  assert.deepEqual((ready.namespaces as string[]).filter((ns) => left.includes(ns)), [], 'every namespace is gone');
  assert.equal(existsSync(String(ready.tempDir)), false, 'the temporary directory is gone');
  assert.equal(await accepting(port), false, 'the dashboard port is closed');
});
