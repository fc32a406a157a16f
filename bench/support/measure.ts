/** Timing of one command for the benchmarks: wall time, CPU time and peak RSS from /usr/bin/time -v. */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';

export interface Measured {
  seconds: number;
  /** user + system CPU seconds (steadier than wall time on a shared machine) */
  cpuSeconds: number | undefined;
  peakRssMiB: number | undefined;
  code: number | null;
  /** the in-process loops print their own loop time (startup excluded) */
  loopSeconds?: number;
}

/** Run a command with stdout to /dev/null under /usr/bin/time -v when present. */
export async function measure(cmd: string, args: string[]): Promise<Measured> {
  const timeV = existsSync('/usr/bin/time');
  const devNull = openSync('/dev/null', 'w');
  const inner = args.includes('--inner');
  const out = inner ? 'pipe' : devNull;
  const start = process.hrtime.bigint();
  // TZ=UTC for every run: wirelab prints UTC, and the references should not pay for time-zone lookups
  const env = { ...process.env, TZ: 'UTC' };
  const child = timeV
    ? spawn('/usr/bin/time', ['-v', cmd, ...args], { stdio: ['ignore', out, 'pipe'], env })
    : spawn(cmd, args, { stdio: ['ignore', out, 'pipe'], env });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => (stderr = (stderr + t).slice(-8192)));
  let stdout = '';
  if (inner) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (t: string) => (stdout += t));
  }
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  closeSync(devNull);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
  const system = /System time \(seconds\): ([\d.]+)/.exec(stderr);
  const cpuSeconds = user && system ? Number(user[1]) + Number(system[1]) : undefined;
  if (code !== 0) process.stderr.write(`${cmd} exited ${code}: ${stderr.slice(-500)}\n`);
  const loop = /^\d+ \d+ ([\d.]+)$/m.exec(stdout);
  return { seconds, cpuSeconds, peakRssMiB: rss ? Number(rss[1]) / 1024 : undefined, code, loopSeconds: loop ? Number(loop[1]) : undefined };
}

/** Compile src/ into dist/, the form an installed package runs. */
export async function build(root: string): Promise<void> {
  const child = spawn('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`tsc -p tsconfig.build.json exited ${code}`);
}

