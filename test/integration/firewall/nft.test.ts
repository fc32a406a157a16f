/**
 * `wirelab firewall apply|undo` with nftables, for real, inside a lab host's network namespace: with
 * the rules applied a port not allowed is dropped while broadcast and chat pass; apply is idempotent;
 * undo restores the namespace's ruleset byte for byte. Every nft call runs inside `ip netns exec`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Lab } from '../../../src/lab/hosts.js';
import { WirelabProcess, runWirelab } from '../../helpers/process.js';
import { listen, probe } from './traffic.js';

function nftMissing(): string | undefined {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return "nft (Debian's nftables) is missing";
  }
}

const skip = Lab.unavailableReason() ?? nftMissing();

const BLOCKED_UDP = 9999;
const BLOCKED_TCP = 9998;
const BROADCAST = 12345;
const CHAT = 10000;

test('nftables: only the planned ports pass; apply is idempotent; undo restores the ruleset byte for byte', { skip, timeout: 90_000 }, async (t) => {
  const lab = await Lab.create({ hosts: ['fw', 'client'] });
  t.after(() => lab.destroy());
  const fw = lab.host('fw');
  const ruleset = (): Promise<string> => lab.exec('fw', 'nft', ['list', 'ruleset']);
  // a table of the user's own, which wirelab must leave alone
  await lab.exec('fw', 'nft', ['add table ip mine; add chain ip mine out { type filter hook output priority 0; policy accept; }; add rule ip mine out tcp dport 7 accept']);
  const before = await ruleset();

  const listener = await listen(lab, 'fw', [BROADCAST, BLOCKED_UDP], [CHAT, BLOCKED_TCP]);
  t.after(() => listener.stop());

  // without a firewall every port answers: the listener itself works
  const open = await probe(lab, 'client', fw.address, [`${fw.address}:${BLOCKED_UDP}`], [BLOCKED_TCP]);
  assert.deepEqual(open, { [BLOCKED_TCP]: true });
  await listener.waitFor((a) => a.proto === 'udp' && a.port === BLOCKED_UDP, 5000);

  const applied = await runWirelab(['firewall', 'apply', '--json', '--allow', 'none'], { lab, host: 'fw' });
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(applied.events[0]?.event, 'applied');
  assert.equal(applied.events[0]?.changed, true);
  const withRules = await ruleset();
  assert.match(withRules, /table inet wirelab \{/);
  assert.ok(withRules.includes(before.trimEnd()), "the user's table is untouched");

  listener.arrivals.length = 0;
  const tcp = await probe(lab, 'client', fw.address, [`${fw.address}:${BLOCKED_UDP}`, `${fw.address}:${BROADCAST}`, `${fw.broadcast}:${BROADCAST}`], [CHAT, BLOCKED_TCP], 3000);
  assert.deepEqual(tcp, { [CHAT]: true, [BLOCKED_TCP]: false }, 'chat passes, a port not allowed is dropped');
  // the datagrams went out in order on one link: once both to 12345 are in, the one to 9999 would be too
  await listener.waitFor((a) => a.proto === 'udp' && a.port === BROADCAST && listener.arrivals.filter((b) => b.port === BROADCAST).length === 2, 5000);
  assert.deepEqual(
    listener.arrivals.filter((a) => a.proto === 'udp').map((a) => a.port),
    [BROADCAST, BROADCAST],
    'unicast and broadcast to 12345/udp passed, 9999/udp was dropped',
  );

  const again = await runWirelab(['firewall', 'apply', '--json', '--allow', 'none'], { lab, host: 'fw' });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.events[0]?.changed, false, 'a second apply changes nothing');
  assert.equal(await ruleset(), withRules);

  const undone = await runWirelab(['firewall', 'undo', '--json'], { lab, host: 'fw' });
  assert.equal(undone.code, 0, undone.stderr);
  assert.equal(undone.events[0]?.changed, true);
  assert.equal(await ruleset(), before, 'undo restores the ruleset byte for byte');
  const twice = await runWirelab(['firewall', 'undo', '--json'], { lab, host: 'fw' });
  assert.equal(twice.events[0]?.changed, false, 'nothing left to undo');

  listener.arrivals.length = 0;
  assert.deepEqual(await probe(lab, 'client', fw.address, [`${fw.address}:${BLOCKED_UDP}`], [BLOCKED_TCP]), { [BLOCKED_TCP]: true });
  await listener.waitFor((a) => a.port === BLOCKED_UDP, 5000);
});

test('nftables: a firewalled master gets its acknowledgements only with the master role; a dry run changes nothing', { skip, timeout: 60_000 }, async (t) => {
  const lab = await Lab.create({ hosts: ['master', 'node'] });
  t.after(() => lab.destroy());
  const dry = await runWirelab(['firewall', 'apply', '--dry-run', '--json'], { lab, host: 'master' });
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(dry.events[0]?.event, 'dry-run');
  assert.equal(await lab.exec('master', 'nft', ['list', 'ruleset']), '', 'a dry run applies nothing');

  const node = WirelabProcess.start(['broadcast', 'node', '--json', '--name', 'n1', '--duration', '40s'], { lab, host: 'node' });
  t.after(() => node.stop('SIGKILL'));
  await node.waitFor((e) => e.event === 'listening', 15_000);
  const broadcastOnce = async (): Promise<number> => {
    const master = await runWirelab(['broadcast', 'master', '--json', '--ack-wait', '1s', '--expect', '1'], { lab, host: 'master' });
    assert.equal(master.code, 0, master.stderr);
    const report = master.events.find((e) => e.event === 'report');
    assert.ok(report, master.stdout);
    return report.delivered as number;
  };

  // a host firewalled for a node only: the node gets the broadcast, its acknowledgement is dropped
  assert.equal((await runWirelab(['firewall', 'apply', '--roles', 'node', '--allow', 'none'], { lab, host: 'master' })).code, 0);
  assert.equal(await broadcastOnce(), 0, 'without the master role the acknowledgement is dropped');
  await node.waitFor((e) => e.event === 'message', 5000);
  // with the master role (replacing the table in one transaction) it comes back
  assert.equal((await runWirelab(['firewall', 'apply', '--roles', 'master', '--allow', 'none'], { lab, host: 'master' })).code, 0);
  assert.equal(await broadcastOnce(), 1, 'with the master role the acknowledgement passes');
  assert.equal((await runWirelab(['firewall', 'undo'], { lab, host: 'master' })).code, 0);
  assert.equal(await lab.exec('master', 'nft', ['list', 'ruleset']), '');
});
