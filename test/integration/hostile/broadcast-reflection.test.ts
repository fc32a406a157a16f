/**
 * Issue 13, broadcast 3: acknowledgements must not make nodes reflectors. 100 spoofed 1-byte datagrams
 * used to send 128x their bytes to the victim. Now: no acknowledgement larger than what came in, none
 * for plain text to a source that never spoke the protocol, at most 250 a second per source address
 * (burst 500). Real CLI processes in network namespaces; the victim counts what reaches it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { broadcastDefaults, encodeEnvelope } from '../../../src/broadcast/index.js';
import { runWirelab } from '../../helpers/process.js';
import { alive, attack, buildLab, listen, rssBytes, skipReason, startNode } from './broadcast-helpers.js';

const VICTIM_PORT = 40000;
const MEMORY_BOUND = 200 * 1024 * 1024;

test('spoofed plain text and envelope floods reflect no more bytes than they carry, rate-limited; the master still gets its acks', { skip: skipReason }, async (t) => {
  const lab = await buildLab(t, ['master', 'n1', 'n2', 'attacker', 'victim']);
  const nodes = [await startNode(t, lab, 'n1'), await startNode(t, lab, 'n2')];
  const dst = lab.host('attacker').broadcast;
  const victim = lab.host('victim').address;

  // 1. Plain text, spoofed from the victim: 100 one-byte datagrams and 100 of 200 bytes. Nothing comes back.
  let counted = await listen(lab, 'victim', VICTIM_PORT, 2);
  await attack(lab, 'attacker', { dst, src: victim, sport: VICTIM_PORT, payloads: [Buffer.from('x')], count: 100 });
  await attack(lab, 'attacker', { dst, src: victim, sport: VICTIM_PORT, payloads: [Buffer.alloc(200, 0x61)], count: 100 });
  for (const node of nodes) await node.waitForCount((e) => e.event === 'message' && e.format === 'plain', 200);
  assert.deepEqual(await counted(), { datagrams: 0, bytes: 0 }, 'plain text from a stranger is not acknowledged');

  // 2. 3,000 distinct small envelopes spoofed from the victim: acknowledged at most 500 + 250/s per node, each no larger than its datagram.
  const session = randomBytes(8).toString('hex');
  const envelopes = Array.from({ length: 3000 }, (_, i) => encodeEnvelope({ kind: 'M', session, seq: i + 1, timeUs: Date.now() * 1000, name: 'm', body: Buffer.from('hi') }));
  const attackBytes = envelopes.reduce((sum, e) => sum + e.length, 0);
  counted = await listen(lab, 'victim', VICTIM_PORT, 3);
  const began = performance.now();
  await attack(lab, 'attacker', { dst, src: victim, sport: VICTIM_PORT, payloads: envelopes, count: envelopes.length });
  const seconds = (performance.now() - began) / 1000;
  const reflected = await counted();
  t.diagnostic(`3,000 spoofed envelopes (${attackBytes} bytes) in ${seconds.toFixed(2)} s: ${reflected.datagrams} acknowledgements, ${reflected.bytes} bytes reached the victim from ${nodes.length} nodes`);
  assert.ok(reflected.bytes <= nodes.length * attackBytes, `reflected ${reflected.bytes} bytes for ${attackBytes} sent, ${nodes.length} nodes`);
  const { ACK_BURST_PER_SOURCE: burst, ACK_RATE_PER_SOURCE: rate } = broadcastDefaults;
  assert.ok(reflected.datagrams <= nodes.length * (burst + rate * (seconds + 1)), `${reflected.datagrams} acknowledgements in ${seconds.toFixed(2)} s`);

  // 3. The honest master is still answered by both nodes, which are alive and small.
  const master = await runWirelab(['broadcast', 'master', '--name', 'master', '--expect', '2', '--ack-wait', '5s', '--json'], { lab, host: 'master' });
  assert.equal(master.code, 0, master.stderr);
  assert.deepEqual(master.events.find((e) => e.event === 'report')?.nodes, ['n1', 'n2']);
  for (const node of nodes) {
    assert.ok(alive(node));
    const rss = rssBytes(node.child.pid!);
    t.diagnostic(`node RSS ${(rss / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(rss < MEMORY_BOUND, `node RSS ${rss} bytes`);
  }
});
