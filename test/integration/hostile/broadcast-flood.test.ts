/**
 * Issue 13, broadcast 5: one synchronous warning per bad datagram made a junk flood slow a node down,
 * and a node whose stderr nobody reads stopped delivering once the pipe filled. Warnings are now
 * rate-limited and summarised. A node whose stderr is never read takes a flood of 20,000 junk
 * datagrams and still delivers the next message. Real CLI processes in network namespaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { attack, buildLab, probe, rssBytes, skipReason } from './broadcast-helpers.js';
import { wirelabBin } from '../../helpers/process.js';

const FLOOD = 20_000;
const MEMORY_BOUND = 200 * 1024 * 1024;

test('a junk flood does not stop a node whose stderr is not read', { skip: skipReason }, async (t) => {
  const lab = await buildLab(t, ['node', 'attacker', 'sender']);
  // stderr is a pipe that this test never reads: once full, a blocking write there would stall the node.
  const child = lab.spawn('node', process.execPath, [wirelabBin, 'broadcast', 'node', '--name', 'node', '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  t.after(() => child.kill('SIGKILL'));
  const events: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    events.push(JSON.parse(line) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = async (pred: (e: Record<string, unknown>) => boolean, ms: number, what: string): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const found = events.find(pred);
      if (found) return found;
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    throw new Error(`timed out waiting for ${what}; ${events.length} events so far`);
  };
  await waitFor((e) => e.event === 'listening', 20_000, 'listening');

  const sent = await attack(lab, 'attacker', { dst: lab.host('attacker').broadcast, junk: 48, count: FLOOD, seed: 13 });
  assert.equal(sent, FLOOD);
  await probe(lab, 'sender', lab.host('sender').broadcast, [Buffer.from('after the flood')], 0.1);
  await waitFor((e) => e.event === 'message' && e.text === 'after the flood', 20_000, 'the message after the flood');
  const invalid = events.filter((e) => e.event === 'invalid').length;
  assert.ok(invalid > FLOOD / 2, `${invalid} invalid datagrams counted`);
  assert.ok(child.exitCode === null && child.signalCode === null);
  const rss = rssBytes(child.pid!);
  t.diagnostic(`node RSS after ${sent} junk datagrams: ${(rss / 2 ** 20).toFixed(1)} MiB; ${invalid} counted invalid`);
  assert.ok(rss < MEMORY_BOUND, `RSS ${rss} bytes`);
});
