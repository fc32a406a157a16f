/**
 * `wirelab gossip seeds|peer --protocol whispernet` as real processes, with the original's files: a
 * config.txt naming `localhost`, the event log in Python logging's time format, freqtrack.log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/common/net.js';
import { WirelabProcess, runWirelab } from '../../helpers/process.js';
import { PythonProcess, noPython, quickPeerArgs } from './whispernet-helpers.js';
import { untilTrue } from './helpers.js';

const PYTHON_LOG_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}:/;

test('CLI: seeds and a peer in WhisperNet mode with an original-protocol peer, and the original files', { skip: noPython }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-whispernet-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'config.txt');
  await writeFile(config, `localhost:${await freePort('tcp')}\nlocalhost:${await freePort('tcp')}\n`);
  const seedLog = join(dir, 'seeds-outputfile.log');
  const seeds = WirelabProcess.start(['gossip', 'seeds', '--protocol', 'whispernet', '--config', config, '--json', '--event-log', seedLog]);
  t.after(() => seeds.stop());
  await seeds.waitForCount((e) => e.event === 'listening' && e.protocol === 'whispernet', 2, 30_000);

  const pyFreq = join(dir, 'py-freqtrack.log');
  const python = PythonProcess.start(t, 'peer.py', quickPeerArgs(config, ['--max-links', '8', '--interval', '1', '--freqtrack', pyFreq]));
  const pyPort = (await python.waitFor((e) => e.event === 'listening', 10_000, 'listening')).port as number;
  await python.waitFor((e) => e.event === 'peers', 10_000, 'its peer list');

  const eventLog = join(dir, 'outputfile.log');
  const degreeLog = join(dir, 'freqtrack.log');
  const peer = WirelabProcess.start([
    'gossip', 'peer', '--protocol', 'whispernet', '--config', config, '--json', '--messages', '2', '--gossip-interval', '200ms',
    '--liveness-interval', '500ms', '--event-log', eventLog, '--degree-log', degreeLog,
  ]);
  t.after(() => peer.stop());
  const joined = await peer.waitFor((e) => e.event === 'joined', 30_000, 'joined');
  assert.equal(joined.protocol, 'whispernet');
  assert.equal((joined.seeds as string[]).length, 2, 'a quorum of two seeds is both');
  await peer.waitFor((e) => e.event === 'gossip' && e.text === `message 1 from py${pyPort}`, 15_000, "the Python peer's message");
  await python.waitFor((e) => e.event === 'gossip' && e.text === `message 2 from ${joined.peer as string}`.replace(/:(\d+)$/, '#$1'), 15_000, 'our message at the Python peer');
  await seeds.waitFor((e) => e.event === 'registered' && e.peer === `127.0.0.1:${pyPort}`, 1, 'the Python peer registered');
  await peer.stop();
  await seeds.stop();

  const events = (await readFile(eventLog, 'utf8')).trim().split('\n');
  assert.ok(events.every((line) => PYTHON_LOG_LINE.test(line)), events.join('\n'));
  assert.ok(events.some((line) => line.includes(`Connection with Peer 127.0.0.1:${pyPort}`)), events.join('\n'));
  const seedLines = (await readFile(seedLog, 'utf8')).trim().split('\n');
  assert.ok(seedLines.every((line) => PYTHON_LOG_LINE.test(line)) && seedLines.some((l) => l.includes(`registered 127.0.0.1:${pyPort}`)), seedLines.join('\n'));
  assert.match(await readFile(degreeLog, 'utf8'), new RegExp(`^${(joined.peer as string).replace(/\./g, '\\.')}=>1$`, 'm'));

  // the original's freqtrack.log (`localhost:PORT=>N`) is read by the degree plot
  await untilTrue(() => python.events.some((e) => e.event === 'linked'), 5_000, 'a link at the Python peer');
  assert.match(await readFile(pyFreq, 'utf8'), new RegExp(`^localhost:${pyPort}=>1$`, 'm'));
  const plot = await runWirelab(['gossip', 'degrees', '--input', pyFreq, '--out', join(dir, 'degrees.svg'), '--json']);
  assert.equal(plot.code, 0, plot.stderr);
  assert.equal(plot.events[0]!.peers, 1);

  const wrong = await runWirelab(['gossip', 'peer', '--protocol', 'whispernet', '--policy', 'preferential', '--config', config]);
  assert.equal(wrong.code, 2);
  assert.equal(wrong.stderr, 'wirelab: --policy is not used with --protocol whispernet\n');
});
