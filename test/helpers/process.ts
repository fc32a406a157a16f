/**
 * The real `wirelab` command as a child process, for tests: the process class is the lab's own
 * (src/lab/processes.ts, which the demo uses too); here are the paths and a run-to-completion helper.
 */
import { fileURLToPath } from 'node:url';
import { WirelabProcess, type StartOptions, type WirelabEvent } from '../../src/lab/processes.js';

export { WirelabProcess, wirelabBin, type StartOptions, type WirelabEvent } from '../../src/lab/processes.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Run `wirelab ARGS` to completion and return its exit code and output. */
export async function runWirelab(
  args: string[],
  options: StartOptions & { timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; events: WirelabEvent[] }> {
  const proc = WirelabProcess.start(args, options);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const { code } = await proc.exited;
  clearTimeout(timer);
  await new Promise((r) => setImmediate(r));
  return { code, stdout: proc.stdoutLines.join('\n'), stderr: proc.stderr, events: proc.events };
}
