/**
 * The original's two log files in WhisperNet mode: the event log (outputfile.log) with Python
 * logging's default time format, `2026-12-01 23:10:14,179:<event>`, and the degree log
 * (freqtrack.log), `ip:port=>degree` on each change, which `wirelab gossip degrees` reads.
 */
import type { LineLog } from '../logs.js';
import { printable, pythonLogTime } from './codec.js';
import type { WhispernetPeer } from './peer.js';
import type { WhispernetSeed } from './seed.js';

export interface WhisperLogOptions {
  /** timestamps in UTC rather than local time (the original writes local time) */
  utc?: boolean;
  /** ms since the epoch (default Date.now) */
  now?: () => number;
}

function stamper(options: WhisperLogOptions): () => string {
  const now = options.now ?? Date.now;
  return () => pythonLogTime(now(), options.utc);
}

/** A peer's events to an event log and its degree changes to a degree log (either optional). */
export function attachWhispernetPeerLogs(peer: WhispernetPeer, events: LineLog | undefined, degrees: LineLog | undefined, options: WhisperLogOptions = {}): void {
  const stamp = stamper(options);
  peer.on('registered', (r) => events?.write(`${stamp()}:${peer.key} registered with seed ${r.seed}`));
  peer.on('gossip', (g) =>
    events?.write(`${stamp()}:${peer.key} ${g.from === null ? 'sent' : 'received'} gossip message '${printable(g.text, 200)}' (origin ${g.origin}${g.from === null ? '' : `, from ${g.from}`})`),
  );
  peer.on('neighbour', (n) => {
    events?.write(`${stamp()}:${peer.key} ${n.change === 'added' ? 'Connection with Peer' : 'lost peer'} ${n.peer} (degree ${n.degree})`);
    degrees?.write(`${peer.key}=>${n.degree}`);
  });
  peer.on('dead-reported', (d) => events?.write(`${stamp()}:${peer.key} reported Dead Node ${d.peer}`));
}

/** A seed's registrations and removals to an event log. */
export function attachWhispernetSeedLog(seed: WhispernetSeed, events: LineLog, options: WhisperLogOptions = {}): void {
  const stamp = stamper(options);
  const self = (): string => `${seed.address().host}:${seed.address().port}`;
  seed.on('registered', (r) => events.write(`${stamp()}:seed ${self()} registered ${r.peer}`));
  seed.on('removed', (r) => events.write(`${stamp()}:seed ${self()} removed Dead Node ${r.peer} reported by ${r.reporter}`));
  seed.on('refused', (r) => events.write(`${stamp()}:seed ${self()} refused Dead Node report about ${r.peer} from ${r.reporter}: it answered`));
}
