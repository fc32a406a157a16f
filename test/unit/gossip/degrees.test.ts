import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WirelabError } from '../../../src/common/errors.js';
import { parseDegreeLog, renderDegreesSvg, summarizeDegrees } from '../../../src/gossip/degrees.js';
import { parseSeedConfig } from '../../../src/gossip/config.js';

test('degree log: the last line of each peer wins; bad lines name their number', () => {
  const log = '127.0.0.1:1=>1\n127.0.0.1:2=>1\n127.0.0.1:1=>2\n\n127.0.0.1:3=>4\n';
  assert.deepEqual([...parseDegreeLog(log)], [
    ['127.0.0.1:1', 2],
    ['127.0.0.1:2', 1],
    ['127.0.0.1:3', 4],
  ]);
  assert.throws(() => parseDegreeLog('a=>1\nnonsense\n'), (e) => e instanceof WirelabError && /line 2/.test(e.message));
});

test('summary: totals, histogram and the exponent of an exact power law', () => {
  // counts(k) = 64 / k^2 for k = 1, 2, 4, 8: gamma is exactly 2.
  const degrees = [1, 2, 4, 8].flatMap((k) => Array<number>(64 / (k * k)).fill(k));
  const s = summarizeDegrees(degrees);
  assert.equal(s.peers, 64 + 16 + 4 + 1);
  assert.equal(s.max, 8);
  assert.equal(s.min, 1);
  assert.deepEqual(s.histogram, [
    [1, 64],
    [2, 16],
    [4, 4],
    [8, 1],
  ]);
  assert.ok(Math.abs(s.exponent! - 2) < 1e-9);
  assert.equal(summarizeDegrees([3, 3]).exponent, undefined, 'one distinct degree: no fit');
});

test('the SVG carries both panels, the fitted exponent and the totals', () => {
  const svg = renderDegreesSvg(summarizeDegrees([1, 1, 1, 1, 2, 2, 3]));
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /degree distribution/);
  assert.match(svg, /log-log, fitted gamma = \d+\.\d\d/);
  assert.match(svg, /peers 7 {3}average degree 1\.57 {3}max 3 {3}min 1/);
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 1 + 3 + 1, 'frame, three bars, second frame');
});

test('seed config: IP:PORT lines, comments and blanks skipped, mistakes named by line', () => {
  assert.deepEqual(parseSeedConfig('# seeds\n127.0.0.1:8080\n\n127.0.0.1:8081  # second\n'), [
    { host: '127.0.0.1', port: 8080 },
    { host: '127.0.0.1', port: 8081 },
  ]);
  assert.throws(() => parseSeedConfig('127.0.0.1:8080\nlocalhost:1\n'), /line 2/);
  assert.throws(() => parseSeedConfig('127.0.0.1:1\n127.0.0.1:1\n'), /twice/);
  assert.throws(() => parseSeedConfig('\n# none\n'), /no seeds/);
});
