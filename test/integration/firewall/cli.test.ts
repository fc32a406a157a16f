import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWirelab } from '../../helpers/process.js';

test('firewall plan prints the UFW commands of the roles, seeds from the same config the seeds start with', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-fw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'seeds.txt'), '198.18.0.1:7000\n198.18.0.2:7001\n127.0.0.1:7002\n');
  const { code, stdout, stderr } = await runWirelab(['firewall', 'plan', '--backend', 'ufw', '--config', join(dir, 'seeds.txt'), '--roles', 'node,seed,chat']);
  assert.equal(code, 0, stderr);
  assert.equal(
    stdout,
    [
      "ufw allow 22/tcp comment 'wirelab allow'",
      "ufw allow 12345/udp comment 'wirelab broadcast node'",
      "ufw allow 7000/tcp comment 'wirelab gossip seed'",
      "ufw allow 7001/tcp comment 'wirelab gossip seed'",
      "ufw allow 10000/tcp comment 'wirelab chat'",
    ].join('\n'),
  );
});

test('firewall: bad input is one line and exit 2; help has examples', async () => {
  for (const args of [
    ['firewall', 'plan', '--roles', 'node,bogus'],
    ['firewall', 'plan', '--allow', '22'],
    ['firewall', 'plan', '--peer-ports', '9-1'],
    ['firewall', 'apply', '--backend', 'iptables'],
  ]) {
    const { code, stderr } = await runWirelab(args);
    assert.equal(code, 2, args.join(' '));
    assert.equal(stderr.trim().split('\n')[0]!.startsWith('wirelab: ') || stderr.startsWith('error:'), true, stderr);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  }
  const help = await runWirelab(['firewall', 'apply', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Examples:\n {2}wirelab firewall apply/);
});
