/**
 * The seed project's two log files: the event log (outputfile.log, `timestamp:event_description`)
 * and the degree log (freqtrack.log, `peer=>degree` each time a peer's degree changes).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Peer } from './peer.js';
import type { Seed } from './seed.js';

/** An append-only text log (lines are small; the stream buffers them). */
export class LineLog {
  private readonly stream: WriteStream;
  private closed = false;

  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: 'a' });
    this.stream.on('error', () => undefined);
  }

  write(line: string): void {
    if (!this.closed) this.stream.write(line + '\n');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream.end();
    await once(this.stream, 'close').catch(() => undefined);
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
