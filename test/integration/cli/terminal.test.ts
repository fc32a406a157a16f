/**
 * What a user sees: on a pseudo-terminal (through script(1)) and on a pipe. One line per event, each
 * starting with its local time (TZ honoured, --utc for UTC); colour only on a terminal without
 * NO_COLOR; JSON `time` a number of epoch seconds; wire text escaped; no log blocks mixed in.
 */
/* eslint-disable no-control-regex -- these tests look for control characters on purpose */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { freePort } from '../../../src/common/net.js';
import { WirelabProcess, runWirelab, wirelabBin } from '../../helpers/process.js';

const STAMP = /^\d\d:\d\d:\d\d\.\d{3} /;

/** Run `wirelab ARGS` on a pseudo-terminal; resolves with everything the terminal showed. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; text: string }> {
  const command = [process.execPath, wirelabBin, ...args].map((a) => `'${a}'`).join(' ');
  const { NO_COLOR: _drop, ...base } = process.env;
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, text });
    }),
  );
}

/** Resolves once the process's stdout so far matches `pattern` (bounded by 10 s). */
function waitForOutput(proc: WirelabProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!pattern.test(proc.stdoutLines.join('\n'))) return;
      clearTimeout(timer);
      proc.child.stdout!.off('data', onData);
      resolve();
    };
    const onData = (): void => void setImmediate(check);
    const timer = setTimeout(() => reject(new Error(`no ${String(pattern)} in ${proc.label} output: ${proc.stdoutLines.join('\n')}`)), 10_000);
    proc.child.stdout!.on('data', onData);
    check();
  });
}

const nodeArgs = ['broadcast', 'node', '--port', '0', '--host', '127.0.0.1', '--duration', '300ms'];

test('on a terminal: one coloured, timestamped line per event, and no log block', async () => {
  const { code, text } = await onTerminal(nodeArgs, {});
  assert.equal(code, 0, text);
  const lines = text.split('\r\n').filter((l) => l !== '');
  assert.equal(lines.length, 2, `listening and summary only: ${JSON.stringify(lines)}`);
  assert.match(lines[0]!, /^\x1b\[2m\d\d:\d\d:\d\d\.\d{3}\x1b\[0m node \S+ listening on UDP 127\.0\.0\.1:\d+$/);
  assert.match(lines[1]!, /received 0 messages: 0 plain, 0 duplicates, 0 rejected, 0 invalid$/);
});

test('on a terminal with NO_COLOR (any value), and on a pipe: no colour at all', async () => {
  const { text } = await onTerminal(nodeArgs, { NO_COLOR: '' });
  assert.doesNotMatch(text, /\x1b/);
  assert.match(text, /^\d\d:\d\d:\d\d\.\d{3} node /);
  const piped = await runWirelab(nodeArgs, { env: { NO_COLOR: undefined } });
  assert.doesNotMatch(piped.stdout, /\x1b/);
  for (const line of piped.stdout.split('\n')) assert.match(line, STAMP);
});

test('times are local by TZ, or UTC with --utc', async () => {
  const clockIn = (timeZone: string, ms: number): number => {
    const [h, m, s] = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(ms).split(':').map(Number);
    return h! * 3600 + m! * 60 + s!;
  };
  const shown = (line: string): number => {
    const [h, m, s] = line.slice(0, 8).split(':').map(Number);
    return h! * 3600 + m! * 60 + s!;
  };
  const near = (a: number, b: number): boolean => Math.min(Math.abs(a - b), 86_400 - Math.abs(a - b)) <= 10;
  for (const [zone, extra, expectZone] of [['Asia/Kolkata', [], 'Asia/Kolkata'], ['Asia/Kolkata', ['--utc'], 'UTC'], ['America/St_Johns', [], 'America/St_Johns']] as const) {
    const before = Date.now();
    const result = await runWirelab([...nodeArgs, ...extra], { env: { TZ: zone } });
    assert.equal(result.code, 0, result.stderr);
    const first = result.stdout.split('\n')[0]!;
    assert.ok(near(shown(first), clockIn(expectZone, before)), `${zone} ${extra.join(' ')}: '${first}' vs ${expectZone}`);
  }
});

test('master and node on a pipe: each event printed once, round trip labelled, min/median/max under 20 samples', async (t) => {
  const port = await freePort('udp');
  const node = WirelabProcess.start(['broadcast', 'node', '--port', String(port), '--name', 'n1']);
  t.after(() => node.stop());
  await waitForOutput(node, /listening/);
  const master = await runWirelab(['broadcast', 'master', '--port', String(port), '--to', '127.255.255.255', '--count', '2', '--interval', '50ms', '--expect', '1', '--ack-wait', '2s']);
  assert.equal(master.code, 0, master.stderr);
  assert.equal(master.stderr, '', 'nothing on stderr: logs are not output');
  const lines = master.stdout.split('\n');
  for (const line of lines) assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} |^ {13}/, 'every line timestamped (or a continuation)');
  assert.equal(lines.filter((l) => /-> message 1 to 127\.255\.255\.255:\d+ \(\d+ bytes\)$/.test(l)).length, 1);
  assert.equal(lines.filter((l) => / message 1 delivered to 1 node \(n1\); round trip min [\d.]+ \/ median [\d.]+ \/ max [\d.]+ ms$/.test(l)).length, 1);
  assert.equal(lines.filter((l) => /n1 \(127\.0\.0\.1:\d+\) acknowledged message 1, [\d.]+ ms round trip$/.test(l)).length, 1);
  assert.doesNotMatch(master.stdout, /p99|INFO|\{"/);
  assert.match(master.stdout, /roster: 1 node heard\n {15}n1 127\.0\.0\.1:\d+, 2 acks$/);
});

test('--json: one object per line, each with event and time as epoch seconds', async () => {
  const before = Date.now() / 1000;
  const result = await runWirelab([...nodeArgs, '--json']);
  const after = Date.now() / 1000;
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.events.map((e) => e.event), ['listening', 'summary']);
  for (const e of result.events) {
    assert.equal(typeof e.time, 'number');
    assert.ok((e.time as number) >= before - 1 && (e.time as number) <= after + 1);
  }
  assert.equal(result.stdout.split('\n').length, 2, 'nothing but the events');
});

test('wire text is escaped on the terminal; JSON carries it raw', async (t) => {
  const [humanPort, jsonPort] = [await freePort('udp'), await freePort('udp')];
  const human = WirelabProcess.start(['broadcast', 'node', '--port', String(humanPort), '--host', '127.0.0.1']);
  const json = WirelabProcess.start(['broadcast', 'node', '--port', String(jsonPort), '--host', '127.0.0.1', '--json']);
  t.after(() => Promise.all([human.stop(), json.stop()]));
  await json.waitFor((e) => e.event === 'listening');
  await waitForOutput(human, /listening/);
  // the node takes CR, LF and C1 controls (U+009B is CSI, ESC [ to a terminal) as text
  const hostile = 'hi\rover\n00:00:00.000 fake line \u009b2J';
  const socket = createSocket('udp4');
  t.after(() => socket.close());
  for (const port of [humanPort, jsonPort]) {
    await new Promise<void>((resolve, reject) => socket.send(hostile, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }
  const event = await json.waitFor((e) => e.event === 'message');
  await waitForOutput(human, /plain text from/);
  assert.equal(event.text, hostile);
  await human.stop('SIGTERM');
  const text = human.stdoutLines.join('\n');
  assert.doesNotMatch(text, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  assert.equal(human.stdoutLines.length, 3, 'listening, the message, the summary: one line each');
  assert.match(human.stdoutLines[1]!, /<- plain text from 127\.0\.0\.1:\d+: hi\\x0dover\\x0a00:00:00\.000 fake line \\x9b2J$/);
});
