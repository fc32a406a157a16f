import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  nftablesApplyScript,
  nftablesTable,
  parsePortSpec,
  planRules,
  ufwCommands,
  wirelabUfwRules,
  describeRule,
} from '../../../src/firewall/index.js';
import { isWirelabError } from '../../../src/common/errors.js';
import { mulberry32, randomBytes, randomInt } from '../../helpers/random.js';

test('the default plan: broadcast node and acks, chat; the dashboard stays on loopback', () => {
  const rules = planRules();
  assert.deepEqual(
    rules.map((r) => [r.role, r.protocol, r.match, r.ports.from, r.ports.to]),
    [
      ['node', 'udp', 'dport', 12345, 12345],
      ['master', 'udp', 'sport', 12345, 12345],
      ['chat', 'tcp', 'dport', 10000, 10000],
    ],
  );
  for (const rule of rules) assert.ok(rule.comment.startsWith('wirelab '));
});

test('the plan follows the roles options: seeds off loopback, peer ranges, an exposed dashboard, extra ports', () => {
  const rules = planRules({
    roles: ['node', 'seed', 'peer', 'dashboard'],
    broadcastPort: 5000,
    seeds: [
      { host: '127.0.0.1', port: 7000 },
      { host: '198.18.0.1', port: 7001 },
      { host: '198.18.0.2', port: 7001 },
    ],
    peerPorts: [{ from: 7100, to: 7111 }],
    chatPort: 10001,
    dashboard: { host: '0.0.0.0', port: 8051 },
    allow: [{ protocol: 'tcp', ports: { from: 22, to: 22 } }],
  });
  assert.deepEqual(
    rules.map((r) => `${r.role} ${describeRule(r)}`),
    [
      'allow to 22/tcp (allow)',
      'node to 5000/udp (broadcast node)',
      'seed to 7001/tcp (gossip seed)',
      'peer to 7100-7111/tcp (gossip peer)',
      'dashboard to 8051/tcp (dashboard)',
    ],
    'one rule per port (the two seeds on 7001 share one); no chat, no master; loopback seed left out',
  );
});

test('nftables: a table of its own, default drop, replies, loopback and ICMP let in, one rule per hole', () => {
  const rules = planRules({ roles: ['node', 'peer'], peerPorts: [{ from: 7100, to: 7102 }] });
  assert.equal(
    nftablesTable(rules),
    [
      'table inet wirelab {',
      '\tchain input {',
      '\t\ttype filter hook input priority filter; policy drop;',
      '\t\tct state established,related accept',
      '\t\tct state invalid drop',
      '\t\tiif "lo" accept',
      '\t\tmeta l4proto { icmp, ipv6-icmp } accept',
      '\t\tudp dport 12345 accept comment "wirelab broadcast node"',
      '\t\ttcp dport 7100-7102 accept comment "wirelab gossip peer"',
      '\t}',
      '}',
      '',
    ].join('\n'),
  );
  assert.ok(nftablesApplyScript(rules).startsWith('table inet wirelab\ndelete table inet wirelab\ntable inet wirelab {\n'), 'create, delete, define: one transaction');
});

test("UFW: the seed's `ufw allow 12345/udp` and friends, with comments", () => {
  const rules = planRules({ peerPorts: [{ from: 7100, to: 7111 }], allow: [{ protocol: 'tcp', ports: { from: 22, to: 22 } }] });
  assert.deepEqual(ufwCommands(rules), [
    "ufw allow 22/tcp comment 'wirelab allow'",
    "ufw allow 12345/udp comment 'wirelab broadcast node'",
    "ufw allow proto udp from any port 12345 comment 'wirelab broadcast acks'",
    "ufw allow proto tcp to any port 7100:7111 comment 'wirelab gossip peer'",
    "ufw allow 10000/tcp comment 'wirelab chat'",
  ]);
});

test("UFW undo takes only wirelab's rules from `ufw show added`", () => {
  const shown = [
    "Added user rules (see 'ufw status' for running firewall):",
    "ufw allow 22/tcp comment 'my ssh'",
    'ufw allow 80/tcp',
    "ufw allow 12345/udp comment 'wirelab broadcast node'",
    "ufw allow from any port 12345 proto udp comment 'wirelab broadcast acks'",
    "ufw route allow 1/tcp comment 'wirelab odd'",
  ].join('\n');
  assert.deepEqual(wirelabUfwRules(shown), [
    ['allow', '12345/udp', 'comment', 'wirelab broadcast node'],
    ['allow', 'from', 'any', 'port', '12345', 'proto', 'udp', 'comment', 'wirelab broadcast acks'],
  ]);
  assert.deepEqual(wirelabUfwRules('(None)'), []);
});

test('port specs: a port, a range, a protocol; bad ones are one clear usage error', () => {
  assert.deepEqual(parsePortSpec('12345/udp', '--allow'), { ports: { from: 12345, to: 12345 }, protocol: 'udp' });
  assert.deepEqual(parsePortSpec('7100-7111', '--peer-ports'), { ports: { from: 7100, to: 7111 } });
  for (const bad of ['', '0', '65536', '10-5', '22/icmp', '22/tcp; drop', 'a']) {
    assert.throws(
      () => parsePortSpec(bad, '--allow'),
      (err: unknown) => isWirelabError(err) && err.code === 'E_USAGE' && err.message.startsWith('--allow: '),
      bad,
    );
  }
});

test('seeded random text: port specs fail only with usage errors; the ufw parser never throws and keeps only wirelab rules', () => {
  const rand = mulberry32(0x5eed);
  const alphabet = "0123456789-/:tcpudp 'ufwallowcommentwirelab\n\t";
  for (let i = 0; i < 5000; i++) {
    const text = Array.from({ length: randomInt(rand, 0, 40) }, () => alphabet[randomInt(rand, 0, alphabet.length - 1)]).join('');
    try {
      const spec = parsePortSpec(text, '--allow');
      assert.ok(spec.ports.from >= 1 && spec.ports.to <= 65535 && spec.ports.from <= spec.ports.to, text);
    } catch (err) {
      assert.ok(isWirelabError(err) && err.code === 'E_USAGE', `${text}: ${String(err)}`);
    }
    for (const args of wirelabUfwRules(text + '\n' + randomBytes(rand, randomInt(rand, 0, 64)).toString('latin1'))) {
      assert.equal(args[0], 'allow');
      assert.ok(args.at(-1)!.startsWith('wirelab'));
    }
  }
});
