/**
 * A classic BPF interpreter (the filter machine of McCanne and Jacobson, 1993, as libpcap's
 * bpf_filter() and bpf(4) define it): accumulator A, index register X, 16 scratch words, loads of
 * 1/2/4 bytes (big-endian) at absolute or X-relative offsets, ALU, forward-only jumps and return.
 * Programs come from `tcpdump -ddd` (see bpf-compile.ts) and are validated before they run: every
 * jump lands inside the program and forward, the last instruction returns, scratch indices are below
 * 16, no constant division by zero. A validated program therefore ends after at most one pass over
 * its instructions; a load outside the captured bytes, or a division by X = 0, rejects the packet
 * (returns 0), as bpf_filter() does. Nothing here throws while running.
 */
import { WirelabError } from '../common/errors.js';

/** One instruction: opcode, jump offsets if true / if false, constant. */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** BPF_MAXINSNS of linux/filter.h and libpcap */
export const BPF_MAX_INSTRUCTIONS = 4096;
/** BPF_MEMWORDS: scratch memory words */
export const BPF_MEMWORDS = 16;

// instruction classes, sizes, modes, ALU and jump operations, sources (bpf.h)
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, H = 0x08, B = 0x10;
const IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
const SRC_X = 0x08;
const RVAL_A = 0x10, RVAL_X = 0x08;
const TXA = 0x80;

/** Is `code` an opcode libpcap's bpf_validate() accepts? */
function knownOpcode(code: number): boolean {
  const cls = code & 0x07;
  switch (cls) {
    case LD: {
      const size = code & 0x18;
      const mode = code & 0xe0;
      if (mode === IMM || mode === MEM || mode === LEN) return size === W;
      return (mode === ABS || mode === IND) && size !== 0x18;
    }
    case LDX:
      return code === (LDX | W | IMM) || code === (LDX | W | MEM) || code === (LDX | W | LEN) || code === (LDX | B | MSH);
    case ST:
    case STX:
      return (code & 0xf8) === 0;
    case ALU: {
      const op = code & 0xf0;
      if (op === NEG) return (code & 0x08) === 0;
      return op <= XOR && (code & ~0xf8) === ALU;
    }
    case JMP: {
      const op = code & 0xf0;
      if (op === JA) return (code & 0x08) === 0;
      return op <= JSET && (code & ~0xf8) === JMP;
    }
    case RET:
      return (code & 0x18) !== 0x18 && (code & 0xe0) === 0;
    default:
      return code === (MISC | 0) || code === (MISC | TXA);
  }
}

/** Why `program` may not run, or undefined when it may. */
export function validateBpf(program: readonly BpfInstruction[]): string | undefined {
  const n = program.length;
  if (n === 0 || n > BPF_MAX_INSTRUCTIONS) return `a program of ${n} instructions (1..${BPF_MAX_INSTRUCTIONS})`;
  for (let pc = 0; pc < n; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    if (![code, jt, jf, k].every((v) => Number.isInteger(v) && v >= 0) || code > 0xffff || jt > 255 || jf > 255 || k > 0xffffffff) {
      return `instruction ${pc}: a field out of range`;
    }
    if (!knownOpcode(code)) return `instruction ${pc}: unknown opcode 0x${code.toString(16)}`;
    const cls = code & 0x07;
    if ((cls === ST || cls === STX || ((cls === LD || cls === LDX) && (code & 0xe0) === MEM)) && k >= BPF_MEMWORDS) {
      return `instruction ${pc}: scratch word ${k} out of range`;
    }
    if (cls === ALU && ((code & 0xf0) === DIV || (code & 0xf0) === MOD) && (code & SRC_X) === 0 && k === 0) {
      return `instruction ${pc}: division by zero`;
    }
    if (cls === JMP) {
      const far = (code & 0xf0) === JA ? k : Math.max(jt, jf);
      if (pc + 1 + far >= n) return `instruction ${pc}: jump out of the program`;
    }
  }
  if ((program[n - 1]!.code & 0x07) !== RET) return 'the last instruction does not return';
  return undefined;
}

/**
 * A validated program, flattened into one typed array (4 numbers per instruction) for the run loop.
 * `run` returns the number of bytes to keep: 0 rejects the packet, anything else accepts it.
 */
export class BpfProgram {
  private readonly code: Uint32Array;
  private readonly mem = new Uint32Array(BPF_MEMWORDS);

  constructor(readonly instructions: readonly BpfInstruction[]) {
    const why = validateBpf(instructions);
    if (why !== undefined) throw new WirelabError('E_USAGE', `invalid BPF program: ${why}`);
    this.code = new Uint32Array(instructions.length * 4);
    instructions.forEach((ins, i) => this.code.set([ins.code, ins.jt, ins.jf, ins.k], i * 4));
  }

  /** Does the packet `buf[at, at + capLen)` (wireLen bytes on the wire) pass? */
  matches(buf: Uint8Array, at: number, capLen: number, wireLen: number): boolean {
    return this.run(buf, at, capLen, wireLen) !== 0;
  }

  /** Run over the packet; returns the accepted length (0: rejected). Never throws, ends within one pass. */
  run(buf: Uint8Array, at: number, capLen: number, wireLen: number): number {
    const c = this.code;
    const mem = this.mem;
    mem.fill(0);
    let a = 0;
    let x = 0;
    for (let pc = 0; pc < c.length; pc += 4) {
      const op = c[pc]!;
      const k = c[pc + 3]!;
      switch (op & 0x07) {
        case LD:
        case LDX: {
          const v = load(op, k, x, buf, at, capLen, wireLen, mem);
          if (v < 0) return 0;
          if ((op & 0x07) === LD) a = v;
          else x = v;
          break;
        }
        case ST:
          mem[k] = a;
          break;
        case STX:
          mem[k] = x;
          break;
        case ALU: {
          const v = alu(op, a, (op & SRC_X) !== 0 ? x : k);
          if (v < 0) return 0;
          a = v;
          break;
        }
        case JMP: {
          const jop = op & 0xf0;
          if (jop === JA) {
            pc += k * 4;
            break;
          }
          const operand = (op & SRC_X) !== 0 ? x : k;
          const taken = jop === JEQ ? a === operand : jop === JGT ? a > operand : jop === JGE ? a >= operand : (a & operand) !== 0;
          pc += (taken ? c[pc + 1]! : c[pc + 2]!) * 4;
          break;
        }
        case RET:
          return (op & 0x18) === RVAL_A ? a : (op & 0x18) === RVAL_X ? x : k;
        default:
          if ((op & 0xf8) === TXA) a = x;
          else x = a;
      }
    }
    return 0;
  }
}

/** A load's value (unsigned 32-bit), or -1 when it reads outside the captured bytes. */
function load(op: number, k: number, x: number, buf: Uint8Array, at: number, capLen: number, wireLen: number, mem: Uint32Array): number {
  const mode = op & 0xe0;
  switch (mode) {
    case IMM:
      return k;
    case LEN:
      return wireLen >>> 0;
    case MEM:
      return mem[k]!;
    case MSH:
      // X = 4 * (P[k] & 0x0f): the IPv4 header length
      return k < capLen ? (buf[at + k]! & 0x0f) * 4 : -1;
    default: {
      const off = mode === IND ? x + k : k;
      const size = op & 0x18;
      const bytes = size === W ? 4 : size === H ? 2 : 1;
      // off is at most 2 * (2^32 - 1): exact in a double, so this test cannot wrap
      if (off + bytes > capLen) return -1;
      const p = at + off;
      if (bytes === 1) return buf[p]!;
      if (bytes === 2) return (buf[p]! << 8) | buf[p + 1]!;
      return ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
    }
  }
}

/** An ALU result (unsigned 32-bit), or -1 for a division by zero (which rejects the packet). */
function alu(op: number, a: number, v: number): number {
  switch (op & 0xf0) {
    case ADD:
      return (a + v) >>> 0;
    case SUB:
      return (a - v) >>> 0;
    case MUL:
      return Math.imul(a, v) >>> 0;
    case DIV:
      return v === 0 ? -1 : Math.floor(a / v);
    case MOD:
      return v === 0 ? -1 : a % v;
    case OR:
      return (a | v) >>> 0;
    case AND:
      return (a & v) >>> 0;
    case XOR:
      return (a ^ v) >>> 0;
    case LSH:
      return v >= 32 ? 0 : (a << v) >>> 0;
    case RSH:
      return v >= 32 ? 0 : a >>> v;
    default:
      return -a >>> 0;
  }
}

/**
 * Parse `tcpdump -ddd` output: the instruction count, then one "code jt jf k" line per instruction,
 * in decimal. Throws E_USAGE on anything else.
 */
export function parseBpfDecimal(text: string): BpfInstruction[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const count = Number(lines[0]);
  if (!Number.isInteger(count) || count < 1 || count > BPF_MAX_INSTRUCTIONS || lines.length !== count + 1) {
    throw new WirelabError('E_USAGE', `not a BPF program listing (tcpdump -ddd): '${(lines[0] ?? '').slice(0, 40)}'`);
  }
  return lines.slice(1).map((line, i) => {
    const parts = line.split(/\s+/).map(Number);
    if (parts.length !== 4 || !parts.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new WirelabError('E_USAGE', `BPF listing line ${i + 2} is not 'code jt jf k': '${line.slice(0, 40)}'`);
    }
    const [code, jt, jf, k] = parts as [number, number, number, number];
    return { code, jt, jf, k };
  });
}
