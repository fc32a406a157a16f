import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../../src/common/lifecycle.js';
import { CausalOrder, MAX_HELD, type Received, type Report, type Sent } from '../../../src/lab/causal-order.js';
import { mulberry32 } from '../../helpers/random.js';

/** A clock whose timers run only when the test says so. */
function manualClock(): Clock & { runAll(): void; pending(): number } {
  let next = 0;
  const timers = new Map<number, () => void>();
  return {
    now: () => 0,
    nowUs: () => 0,
    hrtime: () => 0n,
    setTimeout: (fn) => {
      const id = ++next;
      timers.set(id, fn);
      return id as unknown as NodeJS.Timeout;
    },
    clearTimeout: (handle) => void timers.delete(handle as unknown as number),
    runAll() {
      for (const [id, fn] of [...timers]) {
        timers.delete(id);
        fn();
      }
    },
    pending: () => timers.size,
  };
}

type Line = string;
const NODES = ['n1', 'n2', 'n3'];

function recorder(): { lines: Line[]; order: CausalOrder<Sent, Received, Report>; clock: ReturnType<typeof manualClock> } {
  const lines: Line[] = [];
  const clock = manualClock();
  const order = new CausalOrder<Sent, Received, Report>(
    {
      sent: (e) => lines.push(`sent ${e.seq}`),
      received: (e) => lines.push(`got ${e.seq} ${e.node}`),
      report: (e) => lines.push(`report ${e.seq}`),
    },
    1000,
    clock,
  );
  return { lines, order, clock };
}

/** Every effect after its cause: receipts after their send, reports after the receipts they name. */
function assertCausal(lines: Line[]): void {
  for (const [i, line] of lines.entries()) {
    const [kind, seq] = line.split(' ');
    if (kind === 'got') assert.ok(lines.slice(0, i).includes(`sent ${seq}`), `${line} after sent ${seq}: ${lines.join(', ')}`);
    if (kind === 'report') for (const n of NODES) assert.ok(lines.slice(0, i).includes(`got ${seq} ${n}`), `${line} after got ${seq} ${n}`);
  }
}

test('events arriving in any order on separate pipes come out in causal order, none lost', () => {
  const random = mulberry32(9);
  for (let round = 0; round < 200; round++) {
    const { lines, order, clock } = recorder();
    // per source, events keep their own order (one pipe each); sources interleave at random
    const master: (() => void)[] = [];
    for (let seq = 1; seq <= 3; seq++) master.push(() => order.sent({ seq }));
    for (let seq = 1; seq <= 3; seq++) master.push(() => order.report({ seq, nodes: NODES }));
    const sources = [master, ...NODES.map((node) => [1, 2, 3].map((seq) => () => order.received({ node, seq })))];
    while (sources.some((s) => s.length > 0)) {
      const live = sources.filter((s) => s.length > 0);
      live[Math.floor(random() * live.length)]!.shift()!();
    }
    assert.equal(clock.pending(), 0, 'every held report released by its last receipt, not by the timer');
    assert.equal(lines.length, 3 + 9 + 3);
    assertCausal(lines);
  }
});

test('a report naming a node whose receipt never comes is released after the hold time', () => {
  const { lines, order, clock } = recorder();
  order.sent({ seq: 1 });
  order.received({ node: 'n1', seq: 1 });
  order.report({ seq: 1, nodes: ['n1', 'n2'] });
  assert.deepEqual(lines, ['sent 1', 'got 1 n1']);
  clock.runAll();
  assert.deepEqual(lines, ['sent 1', 'got 1 n1', 'report 1']);
});

test('held receipts are bounded, and flush passes on whatever is left', () => {
  const { lines, order } = recorder();
  for (let i = 0; i < MAX_HELD + 10; i++) order.received({ node: 'n1', seq: 5 });
  assert.equal(lines.length, 10, 'the oldest beyond the bound pass on as they are');
  order.report({ seq: 5, nodes: ['n2'] });
  order.flush();
  assert.equal(lines.length, MAX_HELD + 10 + 1);
  assert.equal(lines.at(-1), 'report 5');
});
