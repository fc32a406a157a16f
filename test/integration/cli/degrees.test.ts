/** `wirelab gossip degrees`: --input, the fit printed with its range, points and R², a warning under a decade. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWirelab } from '../../helpers/process.js';

const log = (degrees: number[]): string => degrees.map((d, i) => `127.0.0.1:${7000 + i}=>${d}`).join('\n') + '\n';

test('the fit is printed with its range, number of points and R²; under a decade, a warning', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-degrees-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const narrow = join(dir, 'narrow.log');
  await writeFile(narrow, log([1, 1, 1, 1, 2, 2, 3, 4]));
  const svg = join(dir, 'narrow.svg');
  const result = await runWirelab(['gossip', 'degrees', '--input', narrow, '--out', svg]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^\d\d:\d\d:\d\d\.\d{3} 8 peers, degree average 1\.88, min 1, max 4; gamma \d\.\d\d \(R² 0\.\d\d\) over k 1\.\.4, 4 points -> /);
  assert.equal(result.stderr, 'wirelab: warning: the degrees span less than a decade (1..4): a power-law fit over them says little\n');
  assert.match(await readFile(svg, 'utf8'), /<line class="fit"/);

  const wide = join(dir, 'wide.log');
  await writeFile(wide, log([...Array<number>(40).fill(1), ...Array<number>(10).fill(2), 3, 3, 5, 12, 20]));
  const quiet = await runWirelab(['gossip', 'degrees', '--input', wide, '--out', join(dir, 'wide.png'), '--json']);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr, '', 'over a decade: no warning');
  const fit = quiet.events[0]!.fit as { kMin: number; kMax: number; points: number; r2: number; decades: number };
  assert.deepEqual([fit.kMin, fit.kMax, fit.points], [1, 20, 6]);
  assert.ok(fit.r2 > 0 && fit.r2 <= 1);
  assert.equal(typeof quiet.events[0]!.time, 'number');
});

test('--log is log output only: the degree log is read with --input', async () => {
  const result = await runWirelab(['gossip', 'degrees', '--help']);
  assert.match(result.stdout, /--input <file>\s+degree log/);
  assert.match(result.stdout, /--log <file>\s+write all logs to FILE/);
});
