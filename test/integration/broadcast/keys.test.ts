/**
 * Key files through the real CLI (issue 13, broadcast 7; issue 9): keygen writes 0600 keys in a 0700
 * directory whatever the umask, and fails at once with one line on a file, a missing parent or an
 * unwritable path; a private key others can read is warned about; --trust refuses a private key;
 * a FIFO given as a key is refused at once instead of hanging.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/common/net.js';
import { runWirelab, wirelabBin } from '../../helpers/process.js';

/**
 * A bad path must fail at once: within this, which covers starting the command on a loaded machine
 * (seen: 5 s at a load of 12 on 2 cores); the recursive mkdir on /proc/nope used to take minutes.
 */
const AT_ONCE_MS = 15_000;

async function tempDir(t: { after: (fn: () => unknown) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `wirelab ARGS` under a given umask; exit code, stderr and how long it took. */
function runUnderUmask(umask: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, wirelabBin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test('keygen writes the private key 0600 in a 0700 directory and the public key 0644, whatever the umask', async (t) => {
  const dir = await tempDir(t);
  for (const umask of ['000', '022', '077', '777']) {
    const out = join(dir, `u${umask}`);
    const result = await runUnderUmask(umask, ['broadcast', 'keygen', '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    const modes = await Promise.all([out, join(out, 'broadcast.key'), join(out, 'broadcast.pub')].map(async (p) => ((await stat(p)).mode & 0o777).toString(8)));
    assert.deepEqual(modes, ['700', '600', '644'], `umask ${umask}`);
  }
});

test('keygen --out on a file, a missing parent or an unwritable path fails at once with one line', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'a-file');
  await writeFile(file, 'x');
  const cases: [string, RegExp][] = [
    [file, /^wirelab: --out .*a-file: not a directory\n$/],
    [join(dir, 'missing', 'deeper'), /^wirelab: --out .*deeper: .*missing is not an existing directory\n$/],
    ['/proc/nope', /^wirelab: --out \/proc\/nope: cannot create it \(E[A-Z]+\)\n$/],
    [join(file, 'sub'), /^wirelab: --out .*sub: .*a-file is not an existing directory\n$/],
  ];
  for (const [out, expected] of cases) {
    const began = performance.now();
    const result = await runWirelab(['broadcast', 'keygen', '--out', out], { timeoutMs: 60_000 });
    const ms = performance.now() - began;
    assert.equal(result.code, 2, `${out}: ${result.stderr}`);
    assert.match(result.stderr, expected);
    assert.ok(ms < AT_ONCE_MS, `${out} took ${ms.toFixed(0)} ms`);
  }
});

test('--trust refuses a private key; a readable private key is warned about but used', async (t) => {
  const dir = await tempDir(t);
  assert.equal((await runWirelab(['broadcast', 'keygen', '--out', join(dir, 'k')])).code, 0);
  const trust = await runWirelab(['broadcast', 'node', '--port', '0', '--trust', join(dir, 'k', 'broadcast.key')]);
  assert.equal(trust.code, 2);
  assert.match(trust.stderr, /^wirelab: --trust takes the public key \(broadcast\.pub\); .*broadcast\.key is a private key, which would let every node sign as the master\n$/);

  await chmod(join(dir, 'k', 'broadcast.key'), 0o644);
  const port = await freePort('udp');
  const master = await runWirelab(['broadcast', 'master', '--key', join(dir, 'k', 'broadcast.key'), '--to', '127.0.0.1', '--port', String(port), '--ack-wait', '50ms']);
  assert.equal(master.code, 0, master.stderr);
  assert.match(master.stderr, /private key .*broadcast\.key can be read by others \(mode 0644\); anyone who reads it can sign as this master: chmod 600/);
});

test('a FIFO given as a key is refused at once', async (t) => {
  const dir = await tempDir(t);
  const fifo = join(dir, 'key.fifo');
  execFileSync('mkfifo', [fifo]);
  for (const args of [['broadcast', 'master', '--key', fifo, '--to', '127.0.0.1'], ['broadcast', 'node', '--port', '0', '--trust', fifo]]) {
    const began = performance.now();
    const result = await runWirelab(args, { timeoutMs: 60_000 });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^wirelab: (private|public) key .*key\.fifo is a FIFO, not a regular file\n$/);
    assert.ok(performance.now() - began < AT_ONCE_MS);
  }
});
