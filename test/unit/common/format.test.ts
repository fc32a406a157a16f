import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  colourWanted,
  colours,
  describeLatencies,
  escapeControl,
  formatClock,
  groupDigits,
  plural,
  summarizeLatencies,
} from '../../../src/common/format.js';

test('timestamps: UTC, local time by TZ, ms or µs, truncated like tcpdump', (t) => {
  const previous = process.env.TZ;
  t.after(() => {
    if (previous === undefined) delete process.env.TZ;
    else process.env.TZ = previous;
  });
  const time = Date.UTC(2026, 11, 2, 1, 2, 3, 456) / 1000 + 0.000789; // 01:02:03.456789 UTC
  assert.equal(formatClock(time, { utc: true }), '01:02:03.456');
  assert.equal(formatClock(time, { utc: true, precision: 'us' }), '01:02:03.456789');
  process.env.TZ = 'Asia/Kolkata'; // UTC+05:30, no daylight saving
  assert.equal(formatClock(time), '06:32:03.456');
  assert.equal(formatClock(time, { precision: 'us' }), '06:32:03.456789');
  process.env.TZ = 'America/St_Johns'; // UTC-03:30 in December
  assert.equal(formatClock(time), '21:32:03.456');
  assert.equal(formatClock(1.9996, { utc: true }), '00:00:01.999', 'ms truncated, never rounded up into the next second');
  assert.equal(formatClock(1.999_9996, { utc: true, precision: 'us' }), '00:00:02.000000', 'to the nearest µs first');
  assert.equal(formatClock(1_767_270_896.789_001, { utc: true, precision: 'us' }), '12:34:56.789001', 'today\'s epoch seconds keep their µs');
  assert.equal(formatClock(-0.5, { utc: true }), '23:59:59.500');
});

test('counts read right: plurals and grouped thousands', () => {
  assert.equal(plural(0, 'packet'), '0 packets');
  assert.equal(plural(1, 'packet'), '1 packet');
  assert.equal(plural(2, 'packet'), '2 packets');
  assert.equal(plural(12_345, 'packet'), '12,345 packets');
  assert.equal(plural(3, 'reply', 'replies'), '3 replies');
  assert.equal(groupDigits(1_234_567.5), '1,234,567.5');
  assert.equal(groupDigits(-1000), '-1,000');
  assert.equal(groupDigits(999), '999');
});

test('wire text is escaped: controls, ESC sequences, CR, DEL and C1 become \\xHH; the rest passes', () => {
  assert.equal(escapeControl('\x1b[31mred\x1b[0m'), '\\x1b[31mred\\x1b[0m');
  assert.equal(escapeControl('\x1b]0;title\x07'), '\\x1b]0;title\\x07');
  assert.equal(escapeControl('a\rb\nc\x7fd\x9be'), 'a\\x0db\\x0ac\\x7fd\\x9be');
  assert.equal(escapeControl('tab\tkept, héllo ✓, back\\slash'), 'tab\tkept, héllo ✓, back\\slash');
  for (let c = 0; c < 0xa0; c++) {
    const out = escapeControl(String.fromCharCode(c));
    // eslint-disable-next-line no-control-regex
    if (c !== 9) assert.doesNotMatch(out, /[\x00-\x1f\x7f-\x9f]/, `code ${c}`);
  }
});

test('colour only on a terminal and only without NO_COLOR (any value, even empty)', () => {
  assert.equal(colourWanted({ isTTY: true }, {}), true);
  assert.equal(colourWanted({ isTTY: true }, { NO_COLOR: '' }), false);
  assert.equal(colourWanted({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colourWanted({ isTTY: false }, {}), false);
  assert.equal(colourWanted({}, {}), false);
  assert.equal(colours(false).red('x'), 'x');
  assert.equal(colours(true).red('x'), '\x1b[31mx\x1b[0m');
});

test('latency figures: min / median / max under 20 samples, percentiles from 20 up, labelled', () => {
  assert.equal(describeLatencies(summarizeLatencies([])), undefined);
  assert.equal(describeLatencies(summarizeLatencies([4, 1, 3, 2])), 'round trip min 1.00 / median 2.50 / max 4.00 ms');
  const many = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(describeLatencies(summarizeLatencies(many)), 'round trip p50 50.00 / p99 99.00 / max 100.00 ms (100 samples)');
  assert.match(describeLatencies(summarizeLatencies(many.slice(0, 19)))!, /min .* median .* max/);
  assert.match(describeLatencies(summarizeLatencies(many.slice(0, 20)), 'one way')!, /^one way p50/);
});
