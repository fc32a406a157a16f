/**
 * Issue 13, broadcast 7: a trusting node that restarts must not accept a replay of a signed message it
 * took before the restart, although the message is still within the 30 s skew window. Without
 * --state, it refuses signed messages sent before it started (unless it knows their session); with
 * --state DIR, its replay windows survive the restart. Real CLI processes in network namespaces; the
 * attacker replays the captured datagram.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { encodeEnvelope, generateKeyFiles, loadPrivateKey } from '../../../src/broadcast/index.js';
import type { Lab } from '../../../src/lab/hosts.js';
import { runWirelab, type WirelabProcess } from '../../helpers/process.js';
import { attack, buildLab, skipReason, startNode, type After } from './broadcast-helpers.js';

async function setup(t: After): Promise<{ lab: Lab; key: KeyObject; pub: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-restart-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const keys = await generateKeyFiles(join(dir, 'keys'));
  const lab = await buildLab(t, ['node', 'master', 'attacker']);
  return { lab, key: await loadPrivateKey(keys.privateKey), pub: keys.publicKey, dir };
}

/** A signed message as the master sends it, sent at `timeMs`; delivered from the master's host. */
function signed(key: KeyObject, session: string, seq: number, timeMs: number): Buffer {
  return encodeEnvelope({ kind: 'M', session, seq, timeUs: timeMs * 1000, name: 'master', body: Buffer.from(`signed ${seq}`) }, key);
}

async function restart(t: After, lab: Lab, node: WirelabProcess, extra: string[]): Promise<WirelabProcess> {
  const { code } = await node.stop('SIGTERM');
  assert.equal(code, 143, node.stderr); // 128 + SIGTERM after a clean stop (docs/cli.md)
  return startNode(t, lab, 'node', extra);
}

const rejections = (node: WirelabProcess): unknown[] => node.events.filter((e) => e.event === 'rejected').map((e) => e.reason);

test('without --state: a replay after a restart is refused as sent before the node started', { skip: skipReason }, async (t) => {
  const { lab, key, pub } = await setup(t);
  const args = ['--trust', pub];
  let node = await startNode(t, lab, 'node', args);
  const message = signed(key, randomBytes(8).toString('hex'), 1, Date.now());
  const dst = lab.host('master').broadcast;
  await attack(lab, 'master', { dst, payloads: [message] });
  await node.waitFor((e) => e.event === 'message' && e.text === 'signed 1' && e.verified === true);
  node = await restart(t, lab, node, args);
  await attack(lab, 'attacker', { dst, payloads: [message] });
  await node.waitFor((e) => e.event === 'rejected');
  assert.deepEqual(rejections(node), ['sent before this node started (a replay across a restart?)']);
  assert.equal(node.events.filter((e) => e.event === 'message').length, 0);
});

test('with --state: the replay windows survive the restart; the session goes on, its replays are refused', { skip: skipReason }, async (t) => {
  const { lab, key, pub, dir } = await setup(t);
  const args = ['--trust', pub, '--state', dir];
  let node = await startNode(t, lab, 'node', args);
  const session = randomBytes(8).toString('hex');
  const first = signed(key, session, 1, Date.now());
  const second = signed(key, session, 2, Date.now()); // made before the restart, first sent after it
  const dst = lab.host('master').broadcast;
  await attack(lab, 'master', { dst, payloads: [first] });
  await node.waitFor((e) => e.event === 'message' && e.text === 'signed 1');
  node = await restart(t, lab, node, args);
  await attack(lab, 'attacker', { dst, payloads: [first] });
  await attack(lab, 'master', { dst, payloads: [second] });
  await node.waitFor((e) => e.event === 'message' && e.text === 'signed 2', 10_000, 'the session goes on');
  assert.deepEqual(rejections(node), ['replayed message']);
  assert.deepEqual(node.events.filter((e) => e.event === 'message').map((e) => e.text), ['signed 2']);
});

test('--state must be an existing directory: one line, exit 2', { skip: skipReason }, async (t) => {
  const { lab, pub, dir } = await setup(t);
  const result = await runWirelab(['broadcast', 'node', '--trust', pub, '--state', join(dir, 'missing')], { lab, host: 'node' });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^wirelab: --state .*missing: no such directory\n$/);
});
