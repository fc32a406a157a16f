/**
 * Teardown of a demo run by a test (and whether a port it used is still served), whatever happened: the demo is asked to stop (SIGTERM: its own
 * clean teardown), and only if it cannot (it was killed, or hangs) are its children, namespaces and
 * temporary directory removed here, from what its `ready` event named. A SIGKILLed demo cannot tear
 * down its detached children itself, so a failed test must not leave them running.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
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

/** Whether something accepts connections on 127.0.0.1:port. */
export function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
