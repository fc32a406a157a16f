/**
 * The classic-BPF interpreter: instruction semantics on hand-written programs, validation, and
 * seeded fuzzing (random programs over random packets must never throw, never loop, and a program
 * the validator refuses must never be built).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfProgram, parseBpfDecimal, validateBpf, type BpfInstruction } from '../../../src/capture/bpf.js';
import { mulberry32 } from '../../helpers/random.js';

const ins = (code: number, jt: number, jf: number, k: number): BpfInstruction => ({ code, jt, jf, k });

/** "ldh [12]; jeq #0x800 jt 0 jf 1; ret #1; ret #0": is it IPv4 over Ethernet? */
const IPV4 = [ins(0x28, 0, 0, 12), ins(0x15, 0, 1, 0x0800), ins(0x06, 0, 0, 1), ins(0x06, 0, 0, 0)];

test('bpf: loads, jumps and return on an Ethernet header', () => {
  const p = new BpfProgram(IPV4);
  const frame = Buffer.alloc(60);
  frame.writeUInt16BE(0x0800, 12);
  assert.equal(p.matches(frame, 0, 60, 60), true);
  frame.writeUInt16BE(0x86dd, 12);
  assert.equal(p.matches(frame, 0, 60, 60), false);
  // a view inside a larger buffer: offsets count from `at`
  const big = Buffer.concat([Buffer.alloc(100, 0xff), frame]);
  big.writeUInt16BE(0x0800, 112);
  assert.equal(p.matches(big, 100, 60, 60), true);
  // reading past the captured bytes rejects, even when the buffer goes on
  assert.equal(p.matches(big, 100, 13, 60), false);
});

test('bpf: ALU, scratch memory, X register, msh, len, division by zero rejects', () => {
  // A = 7; A *= 6; A -= 2; A /= 4 (10); M[3] = A; X = 3; A = X; A <<= 2 (12); A |= M[3]-loaded X... ret A
  const alu = new BpfProgram([
    ins(0x00, 0, 0, 7), ins(0x24, 0, 0, 6), ins(0x14, 0, 0, 2), ins(0x34, 0, 0, 4), ins(0x02, 0, 0, 3),
    ins(0x01, 0, 0, 3), ins(0x87, 0, 0, 0), ins(0x64, 0, 0, 2), ins(0x61, 0, 0, 3), ins(0x4c, 0, 0, 0), ins(0x16, 0, 0, 0),
  ]);
  assert.equal(alu.run(Buffer.alloc(0), 0, 0, 0), 12 | 10);
  // ldxb 4*([0]&0xf): X = IPv4 header length; ldh [x+2]: a port after the header
  const msh = new BpfProgram([ins(0xb1, 0, 0, 0), ins(0x48, 0, 0, 2), ins(0x16, 0, 0, 0)]);
  const ip = Buffer.alloc(40);
  ip[0] = 0x46; // IHL 6: 24 bytes
  ip.writeUInt16BE(53, 26);
  assert.equal(msh.run(ip, 0, 40, 40), 53);
  assert.equal(new BpfProgram([ins(0x80, 0, 0, 0), ins(0x16, 0, 0, 0)]).run(ip, 0, 40, 1514), 1514);
  // div by X = 0 at run time rejects; unsigned wrap-around of sub and neg
  assert.equal(new BpfProgram([ins(0x00, 0, 0, 5), ins(0x3c, 0, 0, 0), ins(0x06, 0, 0, 1)]).run(ip, 0, 40, 40), 0);
  assert.equal(new BpfProgram([ins(0x00, 0, 0, 1), ins(0x14, 0, 0, 2), ins(0x16, 0, 0, 0)]).run(ip, 0, 40, 40), 0xffffffff);
  assert.equal(new BpfProgram([ins(0x00, 0, 0, 1), ins(0x84, 0, 0, 0), ins(0x16, 0, 0, 0)]).run(ip, 0, 40, 40), 0xffffffff);
  // jset and ja
  const jset = new BpfProgram([ins(0x30, 0, 0, 0), ins(0x45, 0, 1, 0x40), ins(0x05, 0, 0, 1), ins(0x06, 0, 0, 0), ins(0x06, 0, 0, 9)]);
  assert.equal(jset.run(ip, 0, 40, 40), 9);
});

test('bpf: the validator refuses what could misbehave', () => {
  assert.match(String(validateBpf([])), /0 instructions/);
  assert.match(String(validateBpf([ins(0x15, 5, 0, 1), ins(0x06, 0, 0, 0)])), /jump out/);
  assert.match(String(validateBpf([ins(0x05, 0, 0, 0xffffffff), ins(0x06, 0, 0, 0)])), /jump out/);
  assert.match(String(validateBpf([ins(0x02, 0, 0, 16), ins(0x06, 0, 0, 0)])), /scratch word 16/);
  assert.match(String(validateBpf([ins(0x34, 0, 0, 0), ins(0x06, 0, 0, 0)])), /division by zero/);
  assert.match(String(validateBpf([ins(0x00, 0, 0, 1)])), /does not return/);
  assert.match(String(validateBpf([ins(0xff, 0, 0, 0), ins(0x06, 0, 0, 0)])), /unknown opcode/);
  assert.throws(() => new BpfProgram([ins(0x00, 0, 0, 1)]), /invalid BPF program/);
  assert.deepEqual(parseBpfDecimal('2\n40 0 0 12\n6 0 0 262144\n'), [ins(40, 0, 0, 12), ins(6, 0, 0, 262144)]);
  assert.throws(() => parseBpfDecimal('3\n40 0 0 12\n'), /not a BPF program listing/);
  assert.throws(() => parseBpfDecimal('1\n40 0 x 12\n'), /is not 'code jt jf k'/);
});

/** Opcodes the validator accepts, to make random programs that mostly validate. */
const OPCODES = [
  0x00, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x60, 0x80, 0x01, 0x61, 0x81, 0xb1, 0x02, 0x03,
  0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac,
  0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x06, 0x0e, 0x16, 0x07, 0x87,
];

test('bpf fuzz: random programs over random packets never throw and always end', () => {
  const rand = mulberry32(0xb9f);
  const int = (n: number): number => Math.floor(rand() * n);
  let built = 0;
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const n = 1 + int(40);
    const program = Array.from({ length: n }, (_, pc) => {
      const code = rand() < 0.05 ? int(0x10000) : OPCODES[int(OPCODES.length)]!;
      const small = rand() < 0.7;
      return ins(code, int(Math.min(256, n - pc + 2)), int(Math.min(256, n - pc + 2)), small ? int(70) : int(0x100000000));
    });
    if (rand() < 0.8) program.push(ins(0x06, 0, 0, int(2)));
    const why = validateBpf(program);
    if (why !== undefined) {
      assert.throws(() => new BpfProgram(program));
      continue;
    }
    const p = new BpfProgram(program);
    built++;
    for (let j = 0; j < 5; j++) {
      const data = Buffer.alloc(int(80));
      for (let b = 0; b < data.length; b++) data[b] = int(256);
      const cap = int(data.length + 1);
      const result = p.run(data, 0, cap, int(2000));
      assert.ok(Number.isInteger(result) && result >= 0 && result <= 0xffffffff);
      if (result !== 0) accepted++;
    }
  }
  assert.ok(built > 1_000, `enough random programs validate (${built})`);
  assert.ok(accepted > 100, `some packets pass (${accepted})`);
});
