import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { WirelabError } from '../../../src/common/errors.js';
import { checkLogPath, createLogger, plainLogLine } from '../../../src/common/log.js';

function sink(): { lines: string[]; write(text: string): void } {
  const lines: string[] = [];
  return { lines, write: (text: string) => void lines.push(text) };
}

test('pino is loaded only once something is logged at an enabled level; a child built before keeps its fields', () => {
  const require = createRequire(import.meta.url);
  const loaded = (): boolean => Object.keys(require.cache).some((path) => /[\\/]node_modules[\\/]pino[\\/]pino\.js$/.test(path));
  assert.equal(loaded(), false, 'nothing has loaded pino yet (this test runs first)');
  const err = sink();
  const logger = createLogger({ name: 'peer', stderr: err });
  const child = logger.child({ peer: 7 });
  logger.info('below the level');
  child.debug('below the level too');
  assert.equal(logger.isLevelEnabled('info'), false);
  assert.equal(logger.level, 'warn');
  assert.equal(loaded(), false, 'disabled levels and child() build nothing');
  child.warn('lost a link');
  assert.equal(loaded(), true, 'the first enabled log builds the logger');
  assert.deepEqual(err.lines, ['wirelab: warning: lost a link (peer=7)\n']);
});

test('by default stderr gets warnings and errors only, one plain line each, never JSON', () => {
  const err = sink();
  const logger = createLogger({ name: 'node', stderr: err });
  logger.info('listening');
  logger.warn({ path: '/x' }, 'cannot write');
  logger.error('port in use');
  assert.deepEqual(err.lines, ['wirelab: warning: cannot write (path=/x)\n', 'wirelab: port in use\n']);
});

test('-v shows info logs as plain lines; -q hides warnings', () => {
  const verbose = sink();
  createLogger({ level: 'info', stderr: verbose }).info({ seq: 3 }, 'message 3 delivered');
  assert.deepEqual(verbose.lines, ['wirelab: info: message 3 delivered (seq=3)\n']);
  const quiet = sink();
  const logger = createLogger({ level: 'error', stderr: quiet });
  logger.warn('hidden');
  logger.error('shown');
  assert.deepEqual(quiet.lines, ['wirelab: shown\n']);
});

test('a plain log line escapes control characters from wire text', () => {
  assert.equal(plainLogLine({ level: 40, msg: 'bad name \x1b[2J', from: 'a\nb' }), 'wirelab: warning: bad name \\x1b[2J (from=a\\x0ab)\n');
});

test('--log FILE gets every info log as JSON lines, whatever stderr shows', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-log-unit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'x.log');
  const err = sink();
  const logger = createLogger({ name: 'master', file, stderr: err });
  logger.info({ seq: 1 }, 'sent');
  logger.warn('careful');
  logger.flush();
  const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => [l.level, l.msg, l.name]), [[30, 'sent', 'master'], [40, 'careful', 'master']]);
  assert.equal(typeof lines[0]!.time, 'number');
  assert.deepEqual(err.lines, ['wirelab: warning: careful\n']);
});

test('a log path in a missing directory, or a directory, is a usage error (no mkdir)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-log-path-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const usage = (pattern: RegExp) => (e: unknown) => e instanceof WirelabError && e.code === 'E_USAGE' && pattern.test(e.message);
  assert.throws(() => checkLogPath(join(dir, 'missing', 'x.log')), usage(/directory .*missing does not exist/));
  assert.throws(() => checkLogPath(dir), usage(/is a directory/));
  assert.throws(() => createLogger({ file: join(dir, 'missing', 'x.log') }), usage(/does not exist/));
  assert.equal(checkLogPath(join(dir, 'ok.log')), join(dir, 'ok.log'));
});
