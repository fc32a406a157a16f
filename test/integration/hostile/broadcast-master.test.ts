/**
 * Issue 13, broadcast 6: the master under forged acknowledgements. Acknowledgements of messages it
 * never sent must not grow its roster; those of a real message are counted up to 4,096 nodes and the
 * excess reported; a burst that arrives while the master is not reading (here: stopped with SIGSTOP)
 * waits in a 4 MiB receive buffer instead of being lost. Real CLI processes in network namespaces.
 * The master waits 15 s for acknowledgements: the whole attack must be in its buffer before that,
 * even on a loaded machine (on SIGCONT an expired timer would report before the buffer is read).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WirelabProcess } from '../../helpers/process.js';
import { attack, buildLab, rssBytes, skipReason, startNode } from './broadcast-helpers.js';

const FORGED = 5000;
const GHOSTS = 2000;
const LIMIT = 4096;
const MEMORY_BOUND = 200 * 1024 * 1024;

test('forged acknowledgements: bounded report and roster, excess counted, none lost in a burst', { skip: skipReason }, async (t) => {
  const lab = await buildLab(t, ['master', 'n1', 'attacker']);
  const n1 = await startNode(t, lab, 'n1');
  const master = WirelabProcess.start(['broadcast', 'master', '--name', 'master', '--ack-wait', '15s', '--json'], { lab, host: 'master' });
  t.after(() => master.stop());
  const got = await n1.waitFor((e) => e.event === 'message', 15_000, 'n1 got message 1');
  await master.waitFor((e) => e.event === 'ack' && e.node === 'n1', 5_000, "n1's acknowledgement");
  const session = String(got.session);
  const [ip, port] = String(got.from).split(':') as [string, string];
  const pid = master.child.pid!;

  // The master stops reading; the whole burst must wait in its receive buffer.
  const stoppedAt = performance.now();
  process.kill(pid, 'SIGSTOP');
  try {
    const target = { dst: ip, dport: Number(port), sport: 1000, sportStep: 1 };
    await attack(lab, 'attacker', { ...target, count: FORGED, templates: [`WLB1 A ${session} 1 1 forged{i} 0 -\\n`] });
    await attack(lab, 'attacker', { ...target, count: GHOSTS, templates: [`WLB1 A ${session} 999 1 ghost{i} 0 -\\n`, 'WLB1 A 0123456789abcdef 1 1 ghost{i} 0 -\\n'] });
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const attackSeconds = (performance.now() - stoppedAt) / 1000;
  assert.ok(attackSeconds < 12, `the attack took ${attackSeconds.toFixed(1)} s, too close to the master's 15 s wait for this test to tell anything`);
  const report = await master.waitFor((e) => e.event === 'report', 20_000, 'the report');
  const rss = rssBytes(pid);
  t.diagnostic(`master RSS after ${FORGED + GHOSTS} forged acknowledgements: ${(rss / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(rss < MEMORY_BOUND, `master RSS ${rss} bytes`);
  const { code } = await master.exited;
  assert.equal(code, 0, master.stderr);
  assert.equal(report.delivered, LIMIT, 'counted up to the limit');
  assert.equal(report.excessAcks, FORGED + 1 - LIMIT, 'every acknowledgement arrived: the rest counted as excess');
  assert.ok((report.nodes as string[]).includes('n1'));
  const roster = master.events.find((e) => e.event === 'roster') as unknown as { nodes: { name: string }[] };
  assert.equal(roster.nodes.length, LIMIT, 'the roster is bounded');
  assert.equal(roster.nodes.filter((n) => n.name.startsWith('ghost')).length, 0, 'acknowledgements of unknown messages never enter the roster');
});
