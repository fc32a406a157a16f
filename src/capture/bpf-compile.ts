/**
 * A pcap-filter(7) expression applied by wirelab itself, to every source alike (files of any format,
 * pcapng with several link types, stdin): the expression is compiled once per link type by libpcap,
 * through `tcpdump -ddd -r -` reading a header-only pcap file of that link type from stdin, and the
 * program runs in our interpreter (bpf.ts).
 */
import { spawnSync } from 'node:child_process';
import { WirelabError } from '../common/errors.js';
import { BpfProgram, parseBpfDecimal } from './bpf.js';
import { LINKTYPE_ETHERNET } from './constants.js';

/** Snap length of the header handed to tcpdump (its default): the programs return it for a match. */
const COMPILE_SNAPLEN = 262_144;
/** ms allowed for tcpdump to compile one expression */
const COMPILE_TIMEOUT_MS = 10_000;
/** link types compiled at most (a pcapng may name many; each costs one tcpdump run) */
const MAX_LINK_TYPES = 64;

/** A pcap file header (LE, microseconds, version 2.4) for `linkType`, with no records. */
function pcapHeader(linkType: number): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(COMPILE_SNAPLEN, 16);
  header.writeUInt32LE(linkType, 20);
  return header;
}

/** The outcome of compiling for one link type: a program, or why there is none. */
export type CompileResult = { program: BpfProgram } | { error: string; syntax: boolean };

/** Compile `expression` for `linkType` with tcpdump (`tool`, default from PATH). Never throws for a bad expression. */
export function compileFilter(expression: string, linkType: number, tool = 'tcpdump'): CompileResult {
  const result = spawnSync(tool, ['-ddd', '-r', '-', expression], { input: pcapHeader(linkType), encoding: 'utf8', timeout: COMPILE_TIMEOUT_MS });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WirelabError('E_MISSING_TOOL', `${tool} is not installed (or not on PATH): filters are compiled by it; install it with 'apt-get install tcpdump'`);
    throw new WirelabError('E_NETWORK', `cannot run ${tool} to compile the filter: ${result.error.message}`);
  }
  if (result.status !== 0) {
    const line = result.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('reading from')).pop() ?? `exit ${result.status}`;
    return { error: line.replace(/^tcpdump: /, ''), syntax: /syntax error|illegal|unknown|parse/i.test(line) };
  }
  return { program: new BpfProgram(parseBpfDecimal(result.stdout)) };
}

/**
 * One expression, compiled on first use for each link type met. A link type it cannot be compiled
 * for (libpcap does not know it, or the expression makes no sense on it) matches nothing, and
 * `onSkip` is told once per link type.
 */
export class PacketFilter {
  private readonly programs = new Map<number, BpfProgram | null>();

  constructor(
    readonly expression: string,
    private readonly onSkip: (linkType: number, why: string) => void = () => undefined,
    private readonly tool = 'tcpdump',
  ) {}

  /**
   * Compile for Ethernet at once, so that a syntax error is a usage error before anything is read.
   * Throws E_USAGE for a bad expression.
   */
  check(): void {
    const result = compileFilter(this.expression, LINKTYPE_ETHERNET, this.tool);
    if ('program' in result) this.programs.set(LINKTYPE_ETHERNET, result.program);
    else if (result.syntax) throw new WirelabError('E_USAGE', `bad filter '${this.expression}': ${result.error}`);
  }

  /** Does the packet pass? `buf[at, at + capLen)` holds its captured bytes. */
  matches(linkType: number, buf: Uint8Array, at: number, capLen: number, wireLen: number): boolean {
    let program = this.programs.get(linkType);
    if (program === undefined) program = this.compile(linkType);
    return program !== null && program.run(buf, at, capLen, wireLen) !== 0;
  }

  private compile(linkType: number): BpfProgram | null {
    if (this.programs.size >= MAX_LINK_TYPES) return null;
    const result = compileFilter(this.expression, linkType, this.tool);
    const program = 'program' in result ? result.program : null;
    this.programs.set(linkType, program);
    if ('error' in result) this.onSkip(linkType, result.error);
    return program;
  }
}
