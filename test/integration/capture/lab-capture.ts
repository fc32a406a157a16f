/**
 * Captures running side by side inside a lab host's namespace (tcpdump, dumpcap, `wirelab analyze`),
 * each writing its own file, started together and stopped together once every one of them has seen
 * the marker datagram that ends the generated traffic.
 */
import { type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { CaptureReader, type RawPacket } from '../../../src/capture/index.js';
import { DecodeError } from '../../../src/common/errors.js';
import type { Lab } from '../../../src/lab/hosts.js';
import { wirelabBin } from '../../helpers/process.js';
import { MARKER } from './traffic-agent.js';
import { withDeadline } from '../../helpers/deadline.js';

export interface CaptureSpec {
  /** a name for messages */
  name: string;
  /** the file the capture writes */
  file: string;
  command: string;
  args: string[];
  /** stderr (or stdout for wirelab --json) text that says the capture is running */
  ready: RegExp;
}

export interface RunningCapture {
  spec: CaptureSpec;
  child: ChildProcess;
  stdout: string;
  stderr: string;
}

const READY_MS = 30_000;
const MARKER_MS = 30_000;
const STOP_MS = 15_000;

/** tcpdump writing `file` (pcap) from `iface`; `extra` e.g. ['-y', 'LINUX_SLL2']. */
export function tcpdumpSpec(name: string, iface: string, file: string, filter: string, extra: string[] = []): CaptureSpec {
  // -Z root: tcpdump would otherwise drop to its own user, who cannot write the test's private dir
  const args = ['-i', iface, '-n', '-U', '-Z', 'root', '--time-stamp-precision=nano', ...extra, '-w', file];
  if (filter !== '') args.push(filter);
  return { name, file, command: 'tcpdump', args, ready: /listening on/ };
}

/** dumpcap writing `file` (pcapng) from `iface`. */
export function dumpcapSpec(name: string, iface: string, file: string, filter: string): CaptureSpec {
  const args = ['-i', iface, '-q', '-w', file];
  if (filter !== '') args.push('-f', filter);
  return { name, file, command: 'dumpcap', args, ready: /Capturing on/ };
}

/** `wirelab analyze --interface IF --write FILE --json` (its packet lines go to stdout). */
export function wirelabSpec(name: string, iface: string, file: string, filter: string, extra: string[] = []): CaptureSpec {
  // --packets: with --write, the lines are printed only when asked (as tcpdump -w prints none)
  const args = [wirelabBin, 'analyze', '--interface', iface, '--filter', filter, '--write', file, '--packets', '--json', ...extra];
  return { name, file, command: process.execPath, args, ready: /"event":"started"/ };
}

const deadline = <T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> => withDeadline(promise, ms, what);

/** Start every capture in `host` and resolve once all say they are running. */
export async function startCaptures(lab: Lab, host: string, specs: CaptureSpec[]): Promise<RunningCapture[]> {
  const running = specs.map((spec) => {
    const child = lab.spawn(host, spec.command, spec.args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const capture: RunningCapture = { spec, child, stdout: '', stderr: '' };
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => (capture.stdout += text));
    child.stderr!.on('data', (text: string) => (capture.stderr = (capture.stderr + text).slice(-8192)));
    return capture;
  });
  await Promise.all(running.map((c) => waitUntil(c, () => c.spec.ready.test(c.stderr) || c.spec.ready.test(c.stdout), READY_MS, 'ready')));
  return running;
}

/** Poll `check` on output arrival (and every 100 ms for files) until true; fails on exit or deadline. */
async function waitUntil(c: RunningCapture, check: () => boolean, ms: number, what: string): Promise<void> {
  if (check()) return;
  const seen = new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => test(), 100);
    const test = (): void => {
      if (check()) finish();
      else if (c.child.exitCode !== null || c.child.signalCode !== null) finish(new Error(`${c.spec.name} exited before ${what}: ${c.stderr.trim()}`));
    };
    const finish = (err?: Error): void => {
      clearInterval(poll);
      c.child.stdout!.off('data', test);
      c.child.stderr!.off('data', test);
      if (err) reject(err);
      else resolve();
    };
    c.child.stdout!.on('data', test);
    c.child.stderr!.on('data', test);
  });
  await deadline(seen, ms, () => `${c.spec.name} ${what}; stderr: ${c.stderr.trim().slice(-500)}`);
}

/** The packets of a capture file as far as it has been written (a cut last record is left out). */
export function readPartial(file: string): RawPacket[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return [];
  }
  const reader = new CaptureReader();
  try {
    return reader.push(bytes);
  } catch (err) {
    if (err instanceof DecodeError) return [];
    throw err;
  }
}

const markerBytes = Buffer.from(MARKER);

export function hasMarker(packets: RawPacket[]): boolean {
  return packets.some((p) => p.data.includes(markerBytes));
}

/** Wait until every capture has the marker (in its file, or for wirelab in its NDJSON), then SIGINT all. */
export async function stopAfterMarker(captures: RunningCapture[], markerLength: number): Promise<void> {
  await Promise.all(
    captures.map((c) => {
      // wirelab buffers its file until it closes; its NDJSON line for the marker says it has it
      const check = c.spec.command === process.execPath ? (): boolean => c.stdout.includes(`"info":"Len=${markerLength}"`) : (): boolean => hasMarker(readPartial(c.spec.file));
      return waitUntil(c, check, MARKER_MS, 'the marker datagram');
    }),
  );
  await stopCaptures(captures);
}

/** SIGINT every capture (they write their statistics and close their files), SIGKILL after a deadline. */
export async function stopCaptures(captures: RunningCapture[]): Promise<void> {
  await Promise.all(
    captures.map(async (c) => {
      if (c.child.exitCode !== null || c.child.signalCode !== null) return;
      const exited = once(c.child, 'exit');
      c.child.kill('SIGINT');
      const timer = setTimeout(() => c.child.kill('SIGKILL'), STOP_MS);
      await exited;
      clearTimeout(timer);
    }),
  );
}
