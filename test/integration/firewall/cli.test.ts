import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    ['firewall', 'plan', '--config', '/nonexistent/seeds.txt'],
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

test('the firewall examples in deploy/firewall are what `firewall plan` prints for compose.yaml', async () => {
  const root = new URL('../../../', import.meta.url);
  const seeds = new URL('deploy/seeds.txt', root).pathname;
  const [nft, ufw] = await Promise.all([
    runWirelab(['firewall', 'plan', '--config', seeds, '--peer-ports', '7100']),
    runWirelab(['firewall', 'plan', '--backend', 'ufw', '--config', seeds, '--peer-ports', '7100']),
  ]);
  const body = (file: string, skip: number): string => readFileSync(new URL(`deploy/firewall/${file}`, root), 'utf8').split('\n').slice(skip).join('\n').trimEnd();
  assert.equal(body('wirelab.nft', 5), nft.stdout, 'regenerate deploy/firewall/wirelab.nft with the command in its header');
  assert.equal(body('ufw.sh', 4), ufw.stdout, 'regenerate deploy/firewall/ufw.sh with the command in its header');
});
