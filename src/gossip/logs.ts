/**
 * The seed project's two log files: the event log (outputfile.log, `timestamp:event_description`)
 * and the degree log (freqtrack.log, `peer=>degree` each time a peer's degree changes).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Peer } from './peer.js';
import type { Seed } from './seed.js';

/** Bytes a log may hold unwritten (a slow disk); lines past it are dropped and counted. */
const MAX_UNWRITTEN_BYTES = 1024 * 1024;

/**
 * An append-only text log. Lines are small and the stream buffers them, but not without bound:
 * past MAX_UNWRITTEN_BYTES lines are dropped and counted. A write error stops the log and is handed
 * to `onError` once (a log must never take its peer or seed down, nor fail silently).
 */
export class LineLog {
  private readonly stream: WriteStream;
  private closed = false;
  private failed = false;
  /** lines dropped because the file could not keep up or failed */
  dropped = 0;

  constructor(path: string, onError: (err: Error) => void = () => undefined) {
    this.stream = createWriteStream(path, { flags: 'a' });
    this.stream.on('error', (err) => {
      if (this.failed) return;
      this.failed = true;
      onError(err);
    });
  }

  write(line: string): void {
    if (this.closed) return;
    if (this.failed || this.stream.writableLength > MAX_UNWRITTEN_BYTES) {
      this.dropped++;
      return;
    }
    this.stream.write(line + '\n');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream.end();
    // finished() also settles for a stream that already closed on an error (once('close') would hang).
    await finished(this.stream).catch(() => undefined);
  }
}

/** Write a peer's events to an event log and its degree changes to a degree log (either optional). */
export function attachPeerLogs(peer: Peer, events: LineLog | undefined, degrees: LineLog | undefined): void {
  const stamp = (): string => (Date.now() / 1000).toFixed(3);
  peer.on('gossip', (g) => events?.write(`${stamp()}:${peer.key} received gossip '${g.text}' from ${g.from ?? 'itself'}`));
  peer.on('neighbour', (n) => {
    events?.write(`${stamp()}:${peer.key} ${n.change === 'added' ? 'linked to' : 'lost'} ${n.peer} (degree ${n.degree})`);
    degrees?.write(`${peer.key}=>${n.degree}`);
  });
  peer.on('dead-reported', (d) => events?.write(`${stamp()}:${peer.key} reported Dead Node ${d.peer}`));
}

/** Write a seed's registrations and removals to an event log. */
export function attachSeedLog(seed: Seed, events: LineLog): void {
  const stamp = (): string => (Date.now() / 1000).toFixed(3);
  const self = (): string => `${seed.address().host}:${seed.address().port}`;
  seed.on('registered', (r) => events.write(`${stamp()}:seed ${self()} registered ${r.peer} as id ${r.id}`));
  seed.on('removed', (r) => events.write(`${stamp()}:seed ${self()} removed dead peer ${r.peer} reported by ${r.reporter}`));
  seed.on('refused', (r) => events.write(`${stamp()}:seed ${self()} refused Dead Node report about ${r.peer} from ${r.reporter}`));
}
