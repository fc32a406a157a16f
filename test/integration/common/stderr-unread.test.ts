/**
 * Logging never blocks the process (issue 13.5): a command whose stderr nobody reads keeps working
 * once the pipe is full (64 KiB on Linux), its extra log lines dropped and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/process.js';

const logModule = pathToFileURL(join(repoRoot, 'src/common/log.ts')).href;

test('200,000 warnings into a stderr pipe that is never read: the event loop goes on and the process exits', async (t) => {
  // 200,000 lines of about 100 bytes: 20 MB, 300 times what the pipe holds
  const script = `
    const { createLogger, exitIfStderrStuck } = await import(${JSON.stringify(logModule)});
    const logger = createLogger({ name: 'flood' });
    for (let i = 0; i < 200000; i++) logger.warn('warning number ' + i + ' ' + 'x'.repeat(60));
    // the event loop still turns: a timer fires while the pipe is full
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.stdout.write('done\\n');
    exitIfStderrStuck(); // as the wirelab command does at its end
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.pause(); // never read: the pipe fills
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  assert.equal(signal, null, `the process was stuck writing to stderr (killed after 30 s); stdout: ${stdout}`);
  assert.equal(code, 0);
  assert.equal(stdout, 'done\n');
});
