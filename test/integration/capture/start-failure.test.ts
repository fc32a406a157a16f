/**
 * A capture tool that cannot capture says why at once: the real dumpcap, run as the unprivileged user
 * nobody (setpriv), announces "Capturing on" and then fails for want of permission; LiveCapture must
 * report dumpcap's own line in well under its start timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveCapture } from '../../../src/capture/index.js';
import { LIVE_START_TIMEOUT_MS } from '../../../src/capture/constants.js';
import { isWirelabError } from '../../../src/common/errors.js';

const usable = (tool: string, args: string[]): boolean => spawnSync(tool, args, { stdio: 'ignore' }).status === 0;
const skip = process.getuid?.() !== 0 ? 'needs root (to drop to nobody)' : !usable('dumpcap', ['--version']) ? 'dumpcap is not installed' : !usable('setpriv', ['--version']) ? 'setpriv is not installed' : false;

test('dumpcap without permission: its own message at once, not a start timeout', { skip, timeout: 30_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-dumpcap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tool = join(dir, 'dumpcap-as-nobody');
  await writeFile(tool, '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups dumpcap "$@"\n');
  await chmod(tool, 0o755);
  const capture = new LiveCapture({ interface: 'lo', engine: 'dumpcap', tool });
  t.after(() => capture.close());
  const began = Date.now();
  await assert.rejects(capture.start(), (err: unknown) => {
    assert.ok(isWirelabError(err));
    assert.equal(err.code, 'E_PERMISSION');
    assert.match(err.message, /You do not have permission to capture on device "lo"/);
    return true;
  });
  assert.ok(Date.now() - began < LIVE_START_TIMEOUT_MS / 2, `took ${Date.now() - began} ms`);
});
