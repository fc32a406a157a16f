/**
 * Live capture through a capture tool as a child process (DESIGN.md: privileges stay in the capture
 * process, exact timestamps and original lengths, kernel drop counts): `tcpdump -U -w -` writes a pcap
 * stream, or Wireshark's `dumpcap -w -` a pcapng stream, that our own reader parses (it knows both by
 * their magic). The same component reads a file through tcpdump when a BPF filter must be applied to
 * it (`tcpdump -r FILE -w - FILTER`; dumpcap reads no files).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EventEmitter } from 'node:events';
import { WirelabError, isWirelabError } from '../common/errors.js';
import { systemClock, type Clock } from '../common/lifecycle.js';
import { silentLogger, type Logger } from '../common/log.js';
import type { RawPacket } from './types.js';
import { LIVE_BUFFER_KIB, LIVE_DRAIN_MS, LIVE_START_TIMEOUT_MS, LIVE_STOP_TIMEOUT_MS } from './constants.js';
import { CaptureReader, defaultLimits, type ReaderLimits } from './reader.js';

export interface LiveCaptureOptions {
  /** interface to capture on (exactly one of `interface` and `readFile`) */
  interface?: string;
  /** a capture file for tcpdump to read and filter instead */
  readFile?: string;
  /** BPF filter expression (pcap-filter(7)) */
  filter?: string;
  /** bytes kept of each packet; default tcpdump's (262144) */
  snaplen?: number;
  /** which capture tool runs (default 'tcpdump'; see {@link chooseEngine}) */
  engine?: CaptureEngine;
  /** the capture program's path; default the engine's name, from PATH */
  tool?: string;
  /** kernel capture buffer, KiB (dumpcap takes whole MiB: rounded up) */
  bufferKiB?: number;
  /**
   * tcpdump only: hand over each packet the moment it arrives (libpcap's immediate mode) instead of
   * in blocks at most 1 s old. Lower latency, but one wake-up per packet: on this machine it drops
   * about 15% at 100k packets/s where the block mode drops nothing. Default false.
   */
  immediate?: boolean;
  limits?: ReaderLimits;
}

/** The capture tools LiveCapture can run. */
export type CaptureEngine = 'tcpdump' | 'dumpcap';

/** Debian packages that hold each engine, for the "not installed" message. */
const ENGINE_PACKAGE: Record<CaptureEngine, string> = { tcpdump: 'tcpdump', dumpcap: 'wireshark-common' };

function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, name), fsConstants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * The engine for 'auto': tcpdump when it is installed, else dumpcap when that is, else tcpdump (whose
 * start then fails with the message saying how to install it). tcpdump comes first: it is the
 * smaller tool, says when its capture is open (dumpcap announces itself before), and is the engine
 * DESIGN.md names; bench/live-capture.ts measures both.
 */
export function chooseEngine(wanted: CaptureEngine | 'auto'): CaptureEngine {
  if (wanted !== 'auto') return wanted;
  if (onPath('tcpdump')) return 'tcpdump';
  return onPath('dumpcap') ? 'dumpcap' : 'tcpdump';
}

export interface LiveCaptureDeps {
  clock?: Clock;
  logger?: Logger;
}

export interface LiveCaptureEvents {
  packet: [packet: RawPacket];
  /** the stream broke or tcpdump failed after starting */
  error: [error: WirelabError];
  /** tcpdump exited (on its own or after close()); stats() is final */
  end: [];
}

export interface LiveCaptureStats {
  /** packets delivered by our reader */
  packets: number;
  /** captured bytes delivered */
  bytes: number;
  /** the tool's "packets captured" (after it exits) */
  captured: number | undefined;
  /** tcpdump's "packets received by filter", dumpcap's "received" */
  receivedByFilter: number | undefined;
  /** tcpdump's "packets dropped by kernel", dumpcap's "pcap" drops (both libpcap's ps_drop) */
  droppedByKernel: number | undefined;
}

/** Keep this much of tcpdump's stderr, characters (its messages are short; the tail is what counts). */
const STDERR_KEEP = 16_384;

/** Parse tcpdump's exit statistics lines from its stderr. */
export function parseTcpdumpStats(stderr: string): Pick<LiveCaptureStats, 'captured' | 'receivedByFilter' | 'droppedByKernel'> {
  const grab = (pattern: RegExp): number | undefined => {
    const match = pattern.exec(stderr);
    return match ? Number(match[1]) : undefined;
  };
  return {
    captured: grab(/^(\d+) packets? captured$/m),
    receivedByFilter: grab(/^(\d+) packets? received by filter$/m),
    droppedByKernel: grab(/^(\d+) packets? dropped by kernel$/m),
  };
}

/**
 * Parse dumpcap's exit statistics from its stderr: "Packets captured: N" and, per interface,
 * "Packets received/dropped on interface 'lo': R/D (pcap:P/dumpcap:Q/flushed:F/ps_ifdrop:I)".
 * The kernel's drops are libpcap's (P); D adds dumpcap's own and flushed ones.
 */
export function parseDumpcapStats(stderr: string): Pick<LiveCaptureStats, 'captured' | 'receivedByFilter' | 'droppedByKernel'> {
  const captured = /Packets captured: (\d+)/.exec(stderr);
  const perInterface = /Packets received\/dropped on interface .*: (\d+)\/\d+ \(pcap:(\d+)\//.exec(stderr);
  return {
    captured: captured ? Number(captured[1]) : undefined,
    receivedByFilter: perInterface ? Number(perInterface[1]) : undefined,
    droppedByKernel: perInterface ? Number(perInterface[2]) : undefined,
  };
}

/** Turn tcpdump's complaint before it started into one clear WirelabError. */
export function startFailure(stderr: string, what: string): WirelabError {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  // dumpcap explains at length after its one line that matters: the line that names the permission
  const line = lines.find((l) => /do not have permission|not permitted|permission denied/i.test(l))?.replace(/^dumpcap: /, '') ?? lines.pop() ?? 'exited without a message';
  if (/permission|not permitted/i.test(stderr)) {
    return new WirelabError('E_PERMISSION', `no permission to capture on ${what} (${line}): run as root, or grant tcpdump CAP_NET_RAW and CAP_NET_ADMIN with setcap`);
  }
  if (/syntax error|can't parse filter|illegal|expression rejects|invalid capture filter/i.test(stderr)) {
    return new WirelabError('E_USAGE', `bad capture filter: ${line}`);
  }
  return new WirelabError('E_NETWORK', `capture on ${what} failed: ${line}`);
}

/** An IO component: packets from a live interface (or a filtered file) via tcpdump. */
export class LiveCapture extends EventEmitter<LiveCaptureEvents> {
  private child: ChildProcess | undefined;
  private reader: CaptureReader;
  private stderr = '';
  private exited: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly counters: LiveCaptureStats = { packets: 0, bytes: 0, captured: undefined, receivedByFilter: undefined, droppedByKernel: undefined };

  constructor(
    private readonly options: LiveCaptureOptions,
    deps: LiveCaptureDeps = {},
  ) {
    super();
    if ((options.interface === undefined) === (options.readFile === undefined)) {
      throw new WirelabError('E_USAGE', 'LiveCapture needs exactly one of interface and readFile');
    }
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.reader = new CaptureReader(options.limits ?? defaultLimits);
  }

  /** The engine this capture runs (tcpdump whenever a file is read: dumpcap reads none). */
  get engine(): CaptureEngine {
    return this.options.readFile !== undefined ? 'tcpdump' : this.options.engine ?? 'tcpdump';
  }

  /** The capture tool's command line (for logs and tests). */
  args(): string[] {
    const o = this.options;
    const filter = o.filter !== undefined && o.filter.trim() !== '' ? o.filter : undefined;
    const bufferKiB = o.bufferKiB ?? LIVE_BUFFER_KIB;
    if (this.engine === 'dumpcap') {
      // pcapng to stdout; -B is in MiB; -q: no running count on stderr
      const args = ['-i', o.interface!, '-B', String(Math.ceil(bufferKiB / 1024)), '-q', '-w', '-'];
      if (o.snaplen !== undefined) args.push('-s', String(o.snaplen));
      if (filter !== undefined) args.push('-f', filter);
      return args;
    }
    const args = o.readFile !== undefined ? ['-r', o.readFile] : ['-i', o.interface!, '-B', String(bufferKiB), '--time-stamp-precision=nano'];
    if (o.readFile === undefined && o.immediate === true) args.push('--immediate-mode');
    args.push('-U', '-w', '-');
    if (o.snaplen !== undefined) args.push('-s', String(o.snaplen));
    if (filter !== undefined) args.push(filter);
    return args;
  }

  /** Spawn tcpdump; resolves once it reports that it is listening (or reading), rejects with why not. */
  async start(): Promise<void> {
    if (this.child) return;
    const tool = this.options.tool ?? this.engine;
    const child = spawn(tool, this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.logger.debug({ tool, args: this.args() }, 'capture started');
    const spawnFailed = new Promise<never>((_, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => reject(this.spawnError(err, tool)));
    });
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    const announced = this.watchStderr(child);
    // dumpcap says "Capturing on" before it has opened the device; the file header it writes to
    // stdout comes after, so that is when its capture really runs (tcpdump's message comes after)
    const headerSeen = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    // dumpcap announces itself before it opens the device: when it then fails (no permission), its
    // exit before any header is the failure, reported with its own words at once
    const closedFirst = new Promise<never>((_, reject) => {
      child.once('close', () => reject(startFailure(this.stderr, this.options.interface ?? this.options.readFile!)));
    });
    const ready = this.engine === 'dumpcap' ? announced.then(() => Promise.race([headerSeen, closedFirst])) : announced;
    closedFirst.catch(() => undefined);
    child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    announced.catch(() => undefined);
    // the race below observes these; the losers must not become unhandled rejections later
    spawnFailed.catch(() => undefined);
    ready.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(
        () => reject(new WirelabError('E_TIMEOUT', `${tool} did not start within ${LIVE_START_TIMEOUT_MS} ms`)),
        LIVE_START_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([ready, spawnFailed, deadline]);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    } finally {
      if (timer) this.clock.clearTimeout(timer);
    }
    void this.exited.then(() => this.onExit());
  }

  /** Stop reading tcpdump's output (it blocks, and the kernel counts drops) until resume(). */
  pause(): void {
    this.child?.stdout?.pause();
  }

  resume(): void {
    this.child?.stdout?.resume();
  }

  /** Stop tcpdump with SIGINT (so it prints its statistics), SIGKILL after a grace period. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  stats(): LiveCaptureStats {
    return { ...this.counters };
  }

  private async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.exited) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.stdout?.resume();
      await this.drain();
      child.kill('SIGINT');
      const timer = this.clock.setTimeout(() => child.kill('SIGKILL'), LIVE_STOP_TIMEOUT_MS);
      await this.exited;
      this.clock.clearTimeout(timer);
    } else {
      await this.exited;
    }
    Object.assign(this.counters, this.exitStats());
  }

  /**
   * Let the packets captured so far reach us before the engine stops: outside immediate mode the
   * kernel hands them over in blocks (TPACKET_V3) that it closes at the latest after the engine's
   * read timeout (tcpdump's 1000 ms, dumpcap's 250 ms); a block still open when the engine exits is
   * lost, though it counts no drop.
   */
  private async drain(): Promise<void> {
    if (this.options.interface === undefined || this.options.immediate === true) return;
    await new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(resolve, LIVE_DRAIN_MS);
      void this.exited?.then(() => {
        this.clock.clearTimeout(timer);
        resolve();
      });
    });
  }

  private exitStats(): Pick<LiveCaptureStats, 'captured' | 'receivedByFilter' | 'droppedByKernel'> {
    return this.engine === 'dumpcap' ? parseDumpcapStats(this.stderr) : parseTcpdumpStats(this.stderr);
  }

  private watchStderr(child: ChildProcess): Promise<void> {
    child.stderr!.setEncoding('utf8');
    return new Promise((resolve, reject) => {
      let started = false;
      child.stderr!.on('data', (text: string) => {
        this.stderr = (this.stderr + text).slice(-STDERR_KEEP);
        if (!started && /listening on|reading from file|Capturing on/.test(this.stderr)) {
          started = true;
          resolve();
        }
      });
      child.once('close', () => {
        const what = this.options.interface ?? this.options.readFile!;
        if (!started) reject(startFailure(this.stderr, what));
      });
    });
  }

  private onData(chunk: Buffer): void {
    let packets: RawPacket[];
    try {
      packets = this.reader.push(chunk);
    } catch (err) {
      this.failed(err);
      return;
    }
    for (const packet of packets) {
      this.counters.packets++;
      this.counters.bytes += packet.data.length;
      this.emit('packet', packet);
    }
  }

  private onExit(): void {
    Object.assign(this.counters, this.exitStats());
    try {
      if (this.reader.format !== undefined) this.reader.end();
    } catch (err) {
      this.failed(err);
    }
    const code = this.child?.exitCode;
    if (code !== null && code !== undefined && code !== 0 && !this.closing) {
      this.failed(startFailure(this.stderr, this.options.interface ?? this.options.readFile!));
    }
    this.emit('end');
  }

  private failed(err: unknown): void {
    const error = isWirelabError(err) ? err : new WirelabError('E_DECODE', String(err), { cause: err });
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.logger.error({ err: error }, 'capture failed');
  }

  private spawnError(err: NodeJS.ErrnoException, tool: string): WirelabError {
    if (err.code === 'ENOENT') {
      return new WirelabError('E_MISSING_TOOL', `${tool} is not installed (or not on PATH): install it with 'apt-get install ${ENGINE_PACKAGE[this.engine]}'`, { cause: err });
    }
    if (err.code === 'EACCES') {
      return new WirelabError('E_PERMISSION', `cannot run ${tool}: permission denied`, { cause: err });
    }
    return new WirelabError('E_NETWORK', `cannot run ${tool}: ${err.message}`, { cause: err });
  }
}
