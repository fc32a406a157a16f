/**
 * Exit codes (docs/cli.md), from real processes: 0 ok, 1 runtime failure, 2 usage error, 128+N after
 * a clean stop by signal N (SIGHUP, SIGINT and SIGTERM alike).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WirelabProcess, runWirelab } from '../../helpers/process.js';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('0 when a command ends by itself', async () => {
  assert.equal((await runWirelab(['broadcast', 'node', '--port', '0', '--host', '127.0.0.1', '--duration', '100ms'])).code, 0);
  assert.equal((await runWirelab(['--help'])).code, 0);
});

test('2 for usage errors: bad values, bare durations, missing options and subcommands', async () => {
  const cases: [string[], RegExp][] = [
    [['broadcast', 'node', '--duration', '10'], /^wirelab: --duration: '10' has no unit; write 10s or 10ms\n$/],
    [['broadcast', 'master', '--interval', '1000'], /^wirelab: --interval: '1000' has no unit; write 1000s or 1000ms\n$/],
    [['demo', '--duration', '10'], /^wirelab: --duration: '10' has no unit/],
    [['gossip', 'peer', '--config', 'x', '--liveness-interval', 'soon'], /^wirelab: --liveness-interval: not a duration: 'soon'/],
    [['broadcast', 'master', '--count', '-1'], /--count must be a whole number/],
    [['broadcast', 'keygen'], /required option '--out <dir>' not specified/],
    [['gossip', 'degrees', '--input', 'x.log', '--out', 'plot.gif'], /^wirelab: --out must end in \.svg or \.png\n$/],
    [['broadcast'], /Usage: wirelab broadcast/],
  ];
  for (const [args, stderr] of cases) {
    const result = await runWirelab(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, stderr, args.join(' '));
  }
});

test('1 for runtime failures', async () => {
  const missing = await runWirelab(['gossip', 'degrees', '--input', '/nonexistent/degrees.log', '--out', '/tmp/x.svg']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^wirelab: read \/nonexistent\/degrees\.log: no such file\n$/);
  // a port already in use is a runtime failure, not a usage error
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  try {
    const port = (holder.address() as AddressInfo).port;
    const data = await mkdtemp(join(tmpdir(), 'wirelab-exit-'));
    const busy = await runWirelab(['chat', 'server', '--host', '127.0.0.1', '--port', String(port), '--data', data]);
    await rm(data, { recursive: true, force: true });
    assert.equal(busy.code, 1, busy.stderr);
    assert.equal(busy.stderr.split('\n').length, 2, `one line: ${busy.stderr}`);
  } finally {
    holder.close();
  }
});

for (const [signal, code] of [['SIGHUP', 129], ['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} stops a long-running command cleanly, with exit code ${code}`, async (t) => {
    const node = WirelabProcess.start(['broadcast', 'node', '--port', '0', '--host', '127.0.0.1', '--json']);
    t.after(() => node.stop('SIGKILL'));
    await node.waitFor((e) => e.event === 'listening');
    const exit = await node.stop(signal);
    assert.deepEqual(exit, { code, signal: null }, node.stderr);
    assert.equal(node.events.at(-1)?.event, 'summary', 'the clean shutdown ran: the summary was printed');
  });
}
