/**
 * Issue 13, broadcast 2: without --trust, one forged envelope with the master's session and seq 2^53-1
 * made every later genuine message a "duplicate", and the node still acknowledged it, so the master
 * reported deliveries that never happened. Now the window is keyed by the sender's address, a jump is
 * bounded, and a duplicate is never acknowledged. Real CLI processes in network namespaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeEnvelope } from '../../../src/broadcast/index.js';
import { WirelabProcess } from '../../helpers/process.js';
import { alive, attack, buildLab, probe, skipReason, startNode } from './broadcast-helpers.js';

const MESSAGES = 8;
const forged = (session: string, seq: number, text: string): Buffer =>
  encodeEnvelope({ kind: 'M', session, seq, timeUs: Date.now() * 1000, name: 'master', body: Buffer.from(text) });

test("a forged seq 2^53-1 with the master's session, even from the master's own address and port, loses no genuine message", { skip: skipReason }, async (t) => {
  const lab = await buildLab(t, ['master', 'n1', 'n2', 'attacker']);
  const nodes = [await startNode(t, lab, 'n1'), await startNode(t, lab, 'n2')];
  const master = WirelabProcess.start(
    ['broadcast', 'master', '--name', 'master', '--count', String(MESSAGES), '--interval', '400ms', '--expect', '2', '--ack-wait', '3s', '--json'],
    { lab, host: 'master' },
  );
  t.after(() => master.stop());
  const first = await nodes[0]!.waitFor((e) => e.event === 'message' && e.seq === 1, 15_000, 'message 1');
  const session = String(first.session);
  const [masterIp, masterPort] = String(first.from).split(':') as [string, string];
  const dst = lab.host('attacker').broadcast;
  // From the attacker's own address, then spoofing the master's address and port exactly.
  await attack(lab, 'attacker', { dst, payloads: [forged(session, Number.MAX_SAFE_INTEGER, 'poison')] });
  await attack(lab, 'attacker', { dst, src: masterIp, sport: Number(masterPort), payloads: [forged(session, Number.MAX_SAFE_INTEGER, 'poison')] });

  const { code } = await master.exited;
  assert.equal(code, 0, master.stderr);
  const reports = master.events.filter((e) => e.event === 'report');
  assert.deepEqual(reports.map((r) => r.delivered), Array(MESSAGES).fill(2), 'each message delivered to both nodes');
  for (const node of nodes) {
    await node.waitForCount((e) => e.event === 'message' && e.sender === 'master' && e.text === 'Hello, Nodes!', MESSAGES);
    const genuine = node.events.filter((e) => e.event === 'message' && e.text === 'Hello, Nodes!').map((e) => e.seq);
    assert.deepEqual(genuine, Array.from({ length: MESSAGES }, (_, i) => i + 1), 'every genuine message, once');
    assert.equal(node.events.filter((e) => e.event === 'duplicate').length, 0);
    assert.ok(alive(node));
  }
});

test('a duplicate is never acknowledged: the same envelope three times gets one acknowledgement per node', { skip: skipReason }, async (t) => {
  const lab = await buildLab(t, ['n1', 'n2', 'prober']);
  const nodes = [await startNode(t, lab, 'n1'), await startNode(t, lab, 'n2')];
  const m = forged(randomBytes(8).toString('hex'), 1, 'once');
  const replies = await probe(lab, 'prober', lab.host('prober').broadcast, [m, m, m], 1.5);
  assert.equal(replies.datagrams, 2, 'one acknowledgement from each node');
  for (const node of nodes) {
    await node.waitForCount((e) => e.event === 'duplicate', 2);
    assert.equal(node.events.filter((e) => e.event === 'message' && e.text === 'once').length, 1);
  }
});
