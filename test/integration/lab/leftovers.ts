/**
 * Teardown of a demo run by a test, whatever happened: the demo is asked to stop (SIGTERM: its own
 * clean teardown), and only if it cannot (it was killed, or hangs) are its children, namespaces and
 * temporary directory removed here, from what its `ready` event named. A SIGKILLed demo cannot tear
 * down its detached children itself, so a failed test must not leave them running.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { WirelabEvent, WirelabProcess } from '../../helpers/process.js';

export async function stopDemo(demo: WirelabProcess, ready: () => WirelabEvent | undefined): Promise<void> {
  await demo.stop('SIGTERM', 20_000);
  removeLeftovers(ready());
}

/** Kill the children, remove the namespaces and the directory a demo's `ready` event named (if any are left). */
export function removeLeftovers(r: WirelabEvent | undefined): void {
  if (!r) return;
  for (const pid of (r.pids as number[] | undefined) ?? []) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (const ns of (r.namespaces as string[] | undefined) ?? []) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // gone already
    }
  }
  if (typeof r.tempDir === 'string' && r.tempDir.includes('wirelab-demo-')) rmSync(r.tempDir, { recursive: true, force: true });
}
