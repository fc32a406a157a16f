/**
 * AnomalyWorker: the detector in a real worker thread (started from the .ts sources through tsx, as
 * in a checkout) reports exactly what the detector in this thread does, in the same order; the
 * batches in flight are bounded and what a caller pushes past them is skipped and counted; a
 * partly filled batch goes out after its delay; bad options fail start(); an idle worker left open
 * does not keep its process alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AnomalyDetector, AnomalyWorker, type Anomaly } from '../../../src/analysis/index.js';
import { WirelabError } from '../../../src/common/errors.js';
import { synthesize } from '../../unit/analysis/synth.js';
import { packet } from '../../unit/analysis/packets.js';
import { withDeadline } from '../../helpers/deadline.js';

const DEADLINE_MS = 60_000;

const deadline = <T>(promise: Promise<T>, what: string): Promise<T> => withDeadline(promise, DEADLINE_MS, what);

test('the worker reports what the detector reports in this thread, in order, skipping nothing when the caller waits', async (t) => {
  const traffic = synthesize({ seed: 4, duration: 60, attacks: { scanAt: 40, scanPorts: 300, jumboFrom: 35, jumboTo: 55 } }).map((x) => x.p);
  const options = { baselinePackets: 3_000, baselineFlows: 300, seed: 2, warmup: 5 };
  const local = new AnomalyDetector(options);
  const expected = [...local.pushBatch(traffic), ...local.flush()];
  const worker = new AnomalyWorker({ detector: options, batchSize: 1000, maxInFlight: 2 });
  t.after(() => worker.close());
  const got: Anomaly[] = [];
  worker.on('anomaly', (a) => got.push(a));
  await deadline(worker.start(), 'worker start');
  let waits = 0;
  for (const p of traffic) {
    if (!worker.push(p)) {
      waits++;
      await deadline(worker.drained(), 'drained');
    }
  }
  const stats = await deadline(worker.flush(), 'flush');
  assert.ok(expected.length > 100, `${expected.length} anomalies expected`);
  assert.deepEqual(got, expected);
  assert.deepEqual(stats, local.stats());
  assert.equal(worker.stats().skipped, 0);
  assert.equal(worker.stats().packets, traffic.length);
  assert.ok(waits > 0, 'the caller was asked to wait at least once');
  await worker.close();
  await worker.close(); // idempotent
  await assert.rejects(worker.flush(), WirelabError);
});

test('a caller that does not wait has packets skipped and counted, with memory bounded', async (t) => {
  const worker = new AnomalyWorker({ detector: { flows: false }, batchSize: 100, maxInFlight: 1 });
  t.after(() => worker.close());
  await deadline(worker.start(), 'worker start');
  let refused = 0;
  for (let i = 0; i < 10_000; i++) if (!worker.push(packet({ t: 1_700_000_000 + i / 1000 }))) refused++;
  // one batch in flight, one full batch waiting: everything past them is skipped
  assert.equal(worker.stats().skipped, 10_000 - 200);
  assert.equal(worker.stats().batchesSent, 1);
  assert.ok(refused >= 10_000 - 100);
  await deadline(worker.flush(), 'flush');
  assert.equal(worker.stats().batchesSent, 2);
  assert.equal(worker.stats().detector?.packets, 200);
});

test('a partly filled batch is sent after its delay, without a flush (live capture)', async (t) => {
  const worker = new AnomalyWorker({ detector: { baselinePackets: 50, flows: false, warmup: 0, threshold: 0.6 }, batchDelayMs: 50 });
  t.after(() => worker.close());
  await deadline(worker.start(), 'worker start');
  const found = once(worker, 'anomaly') as Promise<[Anomaly]>;
  for (let i = 0; i < 60; i++) worker.push(packet({ t: 1_700_000_000 + i / 100, length: 100 + (i % 7) }));
  worker.push(packet({ t: 1_700_000_001, length: 9000, index: 424242 }));
  const [a] = await deadline(found, 'an anomaly without flush()');
  assert.equal(a.index, 424242);
  assert.equal(a.features[0]?.name, 'size');
});

test('packets pushed while the thread starts go out after their delay once it is up', async (t) => {
  const worker = new AnomalyWorker({ detector: { flows: false }, batchDelayMs: 10 });
  t.after(() => worker.close());
  const started = worker.start();
  for (let i = 0; i < 5; i++) assert.equal(worker.push(packet({ t: 1_700_000_000 + i })), false, 'not started: wait');
  await deadline(started, 'worker start');
  await deadline(
    new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (worker.stats().detector?.packets !== 5) return;
        clearInterval(poll);
        resolve();
      }, 20);
    }),
    'the early packets reach the detector without more pushes or a flush',
  );
  assert.equal(worker.stats().skipped, 0);
});

test('bad detector options make start() fail with a typed error', async () => {
  const worker = new AnomalyWorker({ detector: { contamination: 2 } });
  await assert.rejects(deadline(worker.start(), 'worker start'), (err: unknown) => err instanceof WirelabError && err.code === 'E_CONFIG');
  await worker.close();
  assert.equal(worker.push(packet()), false);
});

test('a started worker that nobody closed does not keep the process alive while idle', async (t) => {
  const index = fileURLToPath(new URL('../../../src/analysis/index.ts', import.meta.url));
  const script = `const { AnomalyWorker } = await import(${JSON.stringify(index)}); await new AnomalyWorker().start(); console.log('started');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await deadline(once(child, 'exit'), 'the process exits by itself')) as [number | null];
  assert.equal(code, 0, out);
  assert.match(out, /started/);
});
