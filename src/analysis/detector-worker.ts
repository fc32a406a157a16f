/**
 * The worker thread that owns an AnomalyDetector (started by AnomalyWorker, anomaly-worker.ts): it
 * takes column batches of packets in order and answers each with the anomalies found, so scoring
 * runs off the capture's thread. Messages are the WorkerRequest / WorkerReply types of
 * anomaly-worker.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isWirelabError } from '../common/errors.js';
import { AnomalyDetector, type AnomalyDetectorOptions } from './anomaly.js';
import type { WorkerReply, WorkerRequest } from './anomaly-worker.js';
import { readColumns } from './packet-columns.js';

function reply(message: WorkerReply): void {
  parentPort!.postMessage(message);
}

function failure(err: unknown): WorkerReply {
  const code = isWirelabError(err) ? err.code : 'E_CONFIG';
  return { type: 'failed', code, message: err instanceof Error ? err.message : String(err) };
}

function main(): void {
  let detector: AnomalyDetector;
  try {
    detector = new AnomalyDetector((workerData as { options: AnomalyDetectorOptions }).options);
  } catch (err) {
    reply(failure(err));
    return;
  }
  parentPort!.on('message', (m: WorkerRequest) => {
    try {
      if (m.type === 'batch') {
        const anomalies = detector.pushBatch(readColumns(m.packets));
        reply({ type: 'result', seq: m.seq, anomalies, novelties: detector.takeNovelties(), stats: detector.stats() });
      } else {
        const anomalies = detector.flush();
        reply({ type: 'flushed', anomalies, novelties: detector.takeNovelties(), stats: detector.stats() });
      }
    } catch (err) {
      reply(failure(err));
    }
  });
  reply({ type: 'ready' });
}

main();
