/**
 * Issue 13, broadcast 1: a datagram from source port 0 (which no socket can answer) must not end a
 * node, open or trusting, whether it carries plain text, an unsigned envelope or a genuine signed
 * message the node has not seen yet. Real CLI processes in network namespaces; the attacker sends raw
 * IPv4/UDP from its own namespace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeEnvelope, generateKeyFiles, loadPrivateKey } from '../../../src/broadcast/index.js';
import { runWirelab } from '../../helpers/process.js';
import { alive, attack, buildLab, skipReason, startNode } from './broadcast-helpers.js';

test('datagrams from source port 0 end no node; both still deliver the master afterwards', { skip: skipReason }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-port0-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const keys = await generateKeyFiles(join(dir, 'keys'));
  const key = await loadPrivateKey(keys.privateKey);
  const lab = await buildLab(t, ['master', 'open', 'trusting', 'attacker']);
  const open = await startNode(t, lab, 'open');
  const trusting = await startNode(t, lab, 'trusting', ['--trust', keys.publicKey]);

  const session = randomBytes(8).toString('hex');
  const envelope = (seq: number, signed: boolean): Buffer =>
    encodeEnvelope({ kind: 'M', session, seq, timeUs: Date.now() * 1000, name: 'master', body: Buffer.from(`zero ${seq}`) }, signed ? key : undefined);
  const dst = lab.host('attacker').broadcast;
  await attack(lab, 'attacker', { dst, sport: 0, payloads: [Buffer.from('from port zero'), envelope(1, false), envelope(2, true)], count: 3 });

  await open.waitFor((e) => e.event === 'message' && e.text === 'zero 2', 10_000, 'open node got the signed message');
  await trusting.waitFor((e) => e.event === 'message' && e.text === 'zero 2' && e.verified === true, 10_000, 'trusting node got the signed message');
  const master = await runWirelab(
    ['broadcast', 'master', '--name', 'master', '--key', keys.privateKey, '--message', 'after the attack', '--expect', '2', '--ack-wait', '5s', '--json'],
    { lab, host: 'master' },
  );
  assert.equal(master.code, 0, master.stderr);
  assert.deepEqual(master.events.find((e) => e.event === 'report')?.nodes, ['open', 'trusting']);
  for (const node of [open, trusting]) {
    await node.waitFor((e) => e.event === 'message' && e.text === 'after the attack');
    assert.ok(alive(node), 'still running');
  }
  assert.deepEqual(open.events.filter((e) => e.event === 'message').map((e) => e.text), ['from port zero', 'zero 1', 'zero 2', 'after the attack']);
});
