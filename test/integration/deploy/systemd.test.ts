/**
 * deploy/systemd/*.service: each unit passes `systemd-analyze verify` without a single warning, and
 * `systemd-analyze security --offline` rates its sandbox (exposure at most 2.5 of 10). The units' wirelab
 * path is pointed at this checkout's bin/wirelab.js, since verify checks that ExecStart is executable;
 * templates are checked through an instance (seed@7000, peer@7100). Skips without systemd-analyze.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, wirelabBin } from '../../helpers/process.js';

const execFileAsync = promisify(execFile);
const unitsDir = join(repoRoot, 'deploy/systemd');

function missing(): string | undefined {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'systemd-analyze is missing (Debian package systemd)';
  }
}

/** Units to check: plain ones as they are, templates through one instance each. */
function unitNames(): string[] {
  return readdirSync(unitsDir)
    .filter((name) => name.endsWith('.service'))
    .map((name) => (name === 'wirelab-seed@.service' ? 'wirelab-seed@7000.service' : name === 'wirelab-peer@.service' ? 'wirelab-peer@7100.service' : name));
}

const MAX_EXPOSURE = 2.5;

test('systemd units: verified without a warning, sandboxed (exposure <= 2.5), capabilities only where needed', { skip: missing(), timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wirelab-units-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const names = unitNames();
  assert.deepEqual(names.sort(), ['wirelab-chat.service', 'wirelab-dashboard.service', 'wirelab-node.service', 'wirelab-peer@7100.service', 'wirelab-seed@7000.service']);
  for (const name of names) {
    const source = name.replace(/@\d+\.service$/, '@.service');
    const text = readFileSync(join(unitsDir, source), 'utf8');
    assert.match(text, /^ExecStart=\/usr\/local\/bin\/wirelab /m);
    writeFileSync(join(dir, name), text.replaceAll('/usr/local/bin/wirelab', wirelabBin));
    // capabilities: none but the dashboard's CAP_NET_RAW for its capture
    const caps = /^CapabilityBoundingSet=(.*)$/m.exec(text)?.[1];
    assert.equal(caps, name.startsWith('wirelab-dashboard') ? 'CAP_NET_RAW' : '', `${name} CapabilityBoundingSet`);
    for (const setting of ['DynamicUser=yes', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'RestrictAddressFamilies=']) {
      assert.ok(text.includes(setting), `${name} has ${setting}`);
    }
  }
  const verify = await execFileAsync('systemd-analyze', ['verify', ...names], { cwd: dir });
  assert.equal(verify.stderr, '', 'systemd-analyze verify: no warning');
  for (const name of names) {
    const { stdout } = await execFileAsync('systemd-analyze', ['security', '--offline=yes', '--no-pager', name], { cwd: dir });
    const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(stdout)?.[1]);
    assert.ok(exposure <= MAX_EXPOSURE, `${name}: exposure ${exposure}`);
  }
});
