/**
 * `wirelab firewall apply|undo --backend ufw` with Debian's ufw, for real, inside a lab host's network
 * namespace and a private mount namespace whose /etc/ufw is a copy (ufw keeps its rules there), so
 * that neither the machine's firewall nor its /etc/ufw is touched. ufw's sysctl file is emptied in the
 * copy: some of the settings it writes are not per namespace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../../src/lab/hosts.js';
import { wirelabBin } from '../../helpers/process.js';
import { listen, probe } from './traffic.js';

function ufwMissing(): string | undefined {
  for (const tool of ['ufw', 'unshare']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      return `${tool} is missing (Debian's ${tool === 'ufw' ? 'ufw' : 'util-linux'})`;
    }
  }
  return undefined;
}

const skip = Lab.unavailableReason() ?? ufwMissing();

/** A digest of every file of the machine's /etc/ufw and of /etc/default/ufw, to show that they were left alone. */
function hostUfwDigest(): string {
  const hash = createHash('sha256').update(readFileSync('/etc/default/ufw'));
  for (const name of readdirSync('/etc/ufw', { recursive: true, encoding: 'utf8' }).sort()) {
    const path = join('/etc/ufw', name);
    try {
      hash.update(name).update(readFileSync(path));
    } catch {
      hash.update(`${name}/`); // a directory
    }
  }
  return hash.digest('hex');
}

test('ufw: rules added with wirelab comments, idempotent, enforced once enabled, undone exactly', { skip, timeout: 120_000 }, async (t) => {
  const hostBefore = hostUfwDigest();
  const lab = await Lab.create({ hosts: ['fw', 'client'] });
  t.after(() => lab.destroy());
  const etc = mkdtempSync(join(tmpdir(), 'wirelab-ufw-'));
  t.after(() => rmSync(etc, { recursive: true, force: true }));
  cpSync('/etc/ufw', etc, { recursive: true });
  writeFileSync(join(etc, 'sysctl.conf'), '# emptied by the test: not every net sysctl is per namespace\n');
  const fw = lab.host('fw');
  const inNs = (args: string[]): Promise<string> =>
    lab.exec('fw', 'unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/ufw && exec "$@"', etc, ...args]);
  const wirelab = async (args: string[]): Promise<Record<string, unknown>> => JSON.parse((await inNs([process.execPath, wirelabBin, 'firewall', ...args, '--backend', 'ufw', '--json'])).trim().split('\n')[0]!) as Record<string, unknown>;

  // the user's own rule, which undo must keep
  await inNs(['ufw', 'allow', '22/tcp', 'comment', 'my ssh']);
  const added = (): Promise<string> => inNs(['ufw', 'show', 'added']);
  const before = await added();

  assert.equal((await wirelab(['apply', '--allow', 'none'])).changed, true);
  const withRules = await added();
  for (const line of [
    "ufw allow 12345/udp comment 'wirelab broadcast node'",
    "ufw allow from any port 12345 proto udp comment 'wirelab broadcast acks'",
    "ufw allow 10000/tcp comment 'wirelab chat'",
  ]) {
    assert.ok(withRules.includes(line), `${line} in:\n${withRules}`);
  }
  assert.equal((await wirelab(['apply', '--allow', 'none'])).changed, false, 'a second apply changes nothing');
  assert.equal(await added(), withRules);

  // enforced: ufw's default policy drops the rest
  await inNs(['ufw', '--force', 'enable']);
  t.after(() => inNs(['ufw', '--force', 'disable']).catch(() => undefined));
  const listener = await listen(lab, 'fw', [12345, 9999], [10000, 9998]);
  t.after(() => listener.stop());
  const tcp = await probe(lab, 'client', fw.address, [`${fw.address}:9999`, `${fw.address}:12345`, `${fw.broadcast}:12345`], [10000, 9998], 3000);
  assert.deepEqual(tcp, { 10000: true, 9998: false });
  await listener.waitFor(() => listener.arrivals.filter((a) => a.port === 12345).length === 2, 5000);
  assert.deepEqual(listener.arrivals.filter((a) => a.proto === 'udp').map((a) => a.port), [12345, 12345], '9999/udp dropped');

  const undone = await wirelab(['undo']);
  assert.equal(undone.changed, true);
  assert.equal(await added(), before, "undo removed wirelab's rules and kept the user's");
  assert.equal((await wirelab(['undo'])).changed, false);
  assert.deepEqual(await probe(lab, 'client', fw.address, [], [10000], 3000), { 10000: false }, 'chat is closed again: ufw is still on, its rule gone');
  assert.equal(hostUfwDigest(), hostBefore, "the machine's /etc/ufw is untouched");
});
