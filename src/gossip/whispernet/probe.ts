/**
 * Is a peer alive? A seed's check before it acts on a Dead Node report. The probe connects and sends
 * nothing: a running peer, original or ours, speaks first on a new connection (`Connection with Peer`),
 * or closes it in an orderly way when full; either proves its program runs. A refused connection, a
 * reset, or silence until the timeout (a stalled or vanished host) does not.
 * Sending nothing keeps the probe from being taken for a peer and linked.
 */
import { dialWhisper, type WhisperDialOptions } from './link.js';
import type { WhisperEndpoint } from './codec.js';

export async function probePeer(peer: WhisperEndpoint, options: Omit<WhisperDialOptions, 'vocabulary'>): Promise<boolean> {
  const started = options.clock.now();
  let conn;
  try {
    conn = await dialWhisper(peer, { ...options, vocabulary: 'link' });
  } catch {
    return false;
  }
  const open = conn;
  const left = Math.max(1, options.timeoutMs - (options.clock.now() - started));
  return new Promise<boolean>((resolve) => {
    const done = (alive: boolean): void => {
      options.clock.clearTimeout(timer);
      open.off('close', onClose);
      open.socket.off('data', onData);
      open.close('probe done');
      resolve(alive);
    };
    // bytes, or the other side's orderly close (reason undefined): its program runs
    const onData = (): void => done(true);
    const onClose = (reason: string | undefined): void => done(reason === undefined || open.heard);
    const timer = options.clock.setTimeout(() => done(false), left);
    open.socket.on('data', onData);
    open.on('close', onClose);
    if (open.heard) done(true);
  });
}
