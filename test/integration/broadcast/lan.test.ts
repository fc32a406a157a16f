/**
 * The broadcast system across separate hosts: network namespaces on one bridge (src/lab/hosts.ts).
 * The master walks its interfaces and sends to their directed broadcast address, as the seed's does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from '../../../src/lab/hosts.js';
import { WirelabProcess, runWirelab, type WirelabEvent } from '../../helpers/process.js';

const skip = Lab.unavailableReason();
const NODES = ['n1', 'n2', 'n3', 'n4'];
const MESSAGES = 20;

async function startNodes(t: { after: (fn: () => Promise<unknown>) => void }, lab: Lab, hosts: string[], extra: string[] = []): Promise<Map<string, WirelabProcess>> {
  const nodes = new Map<string, WirelabProcess>();
  for (const host of hosts) {
    const node = WirelabProcess.start(['broadcast', 'node', '--name', host, '--json', ...extra], { lab, host });
    t.after(() => node.stop());
    nodes.set(host, node);
  }
  await Promise.all([...nodes.values()].map((n) => n.waitFor((e) => e.event === 'listening', 20_000, 'node listening')));
  return nodes;
}

const messages = (p: WirelabProcess): WirelabEvent[] => p.events.filter((e) => e.event === 'message');

test('one master, four nodes on four hosts: every node gets every message exactly once; another subnet gets none', { skip }, async (t) => {
  const lab = await Lab.create({ hosts: ['master', ...NODES, { name: 'far', subnet: 1 }] });
  t.after(() => lab.destroy());
  const nodes = await startNodes(t, lab, [...NODES, 'far']);

  const master = await runWirelab(
    ['broadcast', 'master', '--name', 'master', '--count', String(MESSAGES), '--interval', '20ms', '--expect', '4', '--ack-wait', '3s', '--json'],
    { lab, host: 'master', timeoutMs: 60_000 },
  );
  assert.equal(master.code, 0, master.stderr);
  const sent = master.events.filter((e) => e.event === 'sent');
  assert.equal(sent.length, MESSAGES);
  assert.ok(sent.every((e) => e.target === `${lab.host('master').broadcast}:12345`), 'sent to the directed broadcast of eth0 only');
  const reports = master.events.filter((e) => e.event === 'report');
  assert.deepEqual(reports.map((r) => r.delivered), Array(MESSAGES).fill(4), 'four acknowledgements for each message');
  assert.ok(reports.every((r) => JSON.stringify(r.nodes) === JSON.stringify(NODES)));

  for (const host of NODES) {
    const node = nodes.get(host)!;
    await node.waitForCount((e) => e.event === 'message', MESSAGES);
    const got = messages(node);
    assert.deepEqual(got.map((e) => e.seq), Array.from({ length: MESSAGES }, (_, i) => i + 1), `${host} got each message once, in order`);
    assert.ok(got.every((e) => String(e.from).startsWith(`${lab.host('master').address}:`) && e.sender === 'master'), `${host}: every message came from the master host`);
    assert.equal(node.events.filter((e) => e.event === 'duplicate').length, 0);
  }

  // The far node is alive and listening (a datagram from its own subnet reaches it), yet got none of the master's.
  const far = nodes.get('far')!;
  await lab.exec('far', 'python3', ['-c', `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1)\ns.sendto(b"local",("${lab.host('far').broadcast}",12345))`]);
  await far.waitFor((e) => e.event === 'message' && e.text === 'local');
  assert.deepEqual(messages(far).map((e) => e.text), ['local']);
});

test('multicast: nodes that join the group get the message, a node that did not join does not', { skip }, async (t) => {
  const lab = await Lab.create({ hosts: ['master', 'm1', 'm2', 'outsider'] });
  t.after(() => lab.destroy());
  const members = await startNodes(t, lab, ['m1', 'm2'], ['--group', '239.18.0.1']);
  const outsider = (await startNodes(t, lab, ['outsider'])).get('outsider')!;
  const master = await runWirelab(['broadcast', 'master', '--group', '239.18.0.1', '--count', '3', '--interval', '20ms', '--expect', '2', '--ack-wait', '3s', '--json'], { lab, host: 'master' });
  assert.equal(master.code, 0, master.stderr);
  assert.deepEqual(master.events.filter((e) => e.event === 'report').map((r) => r.nodes), [['m1', 'm2'], ['m1', 'm2'], ['m1', 'm2']]);
  for (const node of members.values()) assert.deepEqual(messages(node).map((e) => e.seq), [1, 2, 3]);
  assert.equal(messages(outsider).length, 0);
});
