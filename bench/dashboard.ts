/**
 * Dashboard benchmark (root: live capture on lo), three parts, each beside its reference or goal:
 *  1. ingest: for each rate step, `wirelab dashboard --interface lo` with TWO browsers (two Chromium
 *     processes) watching, beside `wirelab analyze --interface lo --stats` alone, on the same paced
 *     UDP traffic (bench/support/paced-sender.ts, 64-byte payloads) in the same run. Reported: packets
 *     seen and kernel drops, and each one's highest lossless step, as a ratio (goal >= 0.8).
 *  2. latency from the wire to the page: single datagrams sent one every 250 ms on an otherwise idle
 *     capture, timed from send() to the page's packet count changing (goal p99 < 1.5 s, block mode).
 *  3. memory: the dashboard's resident memory (its /metrics) every 10 s over --minutes of sustained
 *     traffic at --memory-rate with two browsers watching (goal: flat after the first minute).
 * The traffic goes to 127.0.0.1 only, filtered by a port this script picked, so other traffic on lo is
 * not counted. Run: node --import tsx bench/dashboard.ts [--rates 20000,50000,100000] [--seconds 3]
 *                   [--probes 40] [--minutes 2] [--memory-rate 20000] [--watchers 2] [--only memory]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Page } from 'playwright-core';
import { freePort } from '../src/common/net.js';
import { percentile } from '../src/common/percentile.js';
import { launch } from '../test/browser/browser.js';
import { stopChild } from './support/stop-child.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const wirelab = here('../bin/wirelab.js');
const sender = here('./support/paced-sender.ts');
const PAYLOAD_BYTES = 64;

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1]! : fallback;
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** A wirelab command with --json: its events, and the first event of a kind. */
function start(args: string[]): { child: ChildProcess; events: Array<Record<string, unknown>>; first(event: string): Promise<Record<string, unknown>> } {
  const child = spawn(process.execPath, [wirelab, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<[string, (e: Record<string, unknown>) => void]> = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const e = JSON.parse(line) as Record<string, unknown>;
    events.push(e);
    for (const [name, resolve] of waiters) if (name === e.event) resolve(e);
  });
  const first = (event: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const found = events.find((e) => e.event === event);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no '${event}' within 60 s: ${stderr}`)), 60_000);
      waiters.push([event, (e) => (clearTimeout(timer), resolve(e))]);
    });
  return { child, events, first };
}

async function send(rate: number, count: number, port: number): Promise<{ sent: number; rate: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', sender, String(rate), String(count), String(port), String(PAYLOAD_BYTES)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'exit');
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { sent: number; rate: number };
}

interface Row {
  run: string;
  rate: number;
  sent: number;
  seen: number;
  dropped: number | null;
}

/** Browsers watching during the ingest and memory parts (--watchers, default 2; the latency part needs one). */
const WATCHERS = Number(arg('--watchers', '2'));

/** `count` browsers (Chromium processes) on the dashboard's page. */
async function watchers(url: string, count = WATCHERS): Promise<{ pages: Page[]; close(): Promise<void> }> {
  const browsers = await Promise.all(Array.from({ length: count }, () => launch()));
  const pages = await Promise.all(browsers.map((b) => b.newPage()));
  await Promise.all(pages.map((p) => p.goto(url)));
  await Promise.all(pages.map((p) => p.waitForFunction(() => /live on lo/.test(document.getElementById('source')!.textContent), undefined, { timeout: 30_000 })));
  return { pages, close: async () => void (await Promise.all(browsers.map((b) => b.dispose()))) };
}

type Run = 'analyze' | 'dashboard' | 'dashboard --no-anomalies';
const RUNS: readonly Run[] = ['analyze', 'dashboard', 'dashboard --no-anomalies'];
const LABEL: Record<Run, string> = { analyze: 'analyze --stats alone', dashboard: `dashboard + ${WATCHERS} browsers`, 'dashboard --no-anomalies': `dashboard --no-anomalies + ${WATCHERS} browsers` };

async function ingestStep(run: Run, rate: number, seconds: number): Promise<Row> {
  const port = await freePort('udp');
  const filter = `udp and dst port ${port}`;
  const proc = run === 'analyze'
    ? start(['analyze', '--interface', 'lo', '--filter', filter, '--stats', '--stats-interval', '1h'])
    : start(['dashboard', '--interface', 'lo', '--filter', filter, '--port', '0', ...(run === 'dashboard' ? [] : ['--no-anomalies'])]);
  let browsers: Awaited<ReturnType<typeof watchers>> | undefined;
  try {
    if (run === 'analyze') await proc.first('started');
    else browsers = await watchers(String((await proc.first('listening')).url));
    const report = await send(rate, rate * seconds, port);
    await stopChild(proc.child);
    const end = run === 'analyze' ? await proc.first('summary') : await proc.first('stopped');
    return { run, rate, sent: report.sent, seen: Number(end.packets), dropped: (end.droppedByKernel as number | null) ?? null };
  } finally {
    await browsers?.close();
    await stopChild(proc.child);
  }
}

/** ms from send() to the page showing one more packet, for `probes` single datagrams. */
async function latency(probes: number): Promise<number[]> {
  const port = await freePort('udp');
  const proc = start(['dashboard', '--interface', 'lo', '--filter', `udp and dst port ${port}`, '--port', '0', '--no-anomalies']);
  const browsers = await watchers(String((await proc.first('listening')).url), Math.max(1, WATCHERS));
  const socket = createSocket('udp4');
  const samples: number[] = [];
  try {
    const page = browsers.pages[0]!;
    for (let i = 1; i <= probes; i++) {
      const t0 = performance.now();
      socket.send(Buffer.alloc(PAYLOAD_BYTES), port, '127.0.0.1');
      await page.waitForFunction((n) => document.getElementById('total-packets')?.textContent === n, i.toLocaleString('en-US'), { timeout: 10_000, polling: 'raf' });
      samples.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    socket.close();
    await browsers.close();
    await stopChild(proc.child);
  }
  return samples;
}

/** Resident memory (MiB) every 10 s over `minutes` of traffic at `rate`, two browsers watching. */
async function memory(minutes: number, rate: number): Promise<Array<[number, number]>> {
  const port = await freePort('udp');
  const proc = start(['dashboard', '--interface', 'lo', '--filter', `udp and dst port ${port}`, '--port', '0']);
  const url = String((await proc.first('listening')).url);
  const browsers = await watchers(url);
  const points: Array<[number, number]> = [];
  try {
    // the paced sender stops itself after 60 s: one after another, 50 s each, until the end
    const traffic = (async () => {
      const end = performance.now() + minutes * 60_000;
      while (performance.now() < end - 1000) await send(rate, Math.round((rate * Math.min(50_000, end - performance.now())) / 1000), port);
    })();
    const t0 = performance.now();
    for (let s = 10; s <= minutes * 60; s += 10) {
      await new Promise((r) => setTimeout(r, t0 + s * 1000 - performance.now()));
      const text = await (await fetch(new URL('/metrics', url))).text();
      const rss = Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
      points.push([s, rss / 1024 / 1024]);
      process.stderr.write(`memory at ${s} s: ${(rss / 1024 / 1024).toFixed(1)} MiB\n`);
    }
    await traffic;
  } finally {
    await browsers.close();
    await stopChild(proc.child);
  }
  return points;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('this benchmark captures live on lo: run it as root');
  if (arg('--only', '') === 'memory') {
    const minutes = Number(arg('--minutes', '2'));
    const points = await memory(minutes, Number(arg('--memory-rate', '20000')));
    process.stdout.write(`resident memory, MiB, every 10 s over ${minutes} min: ${points.map(([, m]) => m.toFixed(0)).join(' ')}\nload average after memory: ${load()}\n`);
    return;
  }
  const rates = arg('--rates', '20000,50000,100000').split(',').map(Number);
  const seconds = Number(arg('--seconds', '3'));
  process.stdout.write(`load average before: ${load()}\n\n`);
  const rows: Row[] = [];
  for (const rate of rates) {
    for (const run of RUNS) {
      process.stderr.write(`${run} at ${rate}/s\n`);
      rows.push(await ingestStep(run, rate, seconds));
    }
  }
  process.stdout.write('| run | rate asked /s | sent | seen | kernel drops | lossless |\n| --- | --- | --- | --- | --- | --- |\n');
  for (const r of rows) process.stdout.write(`| ${LABEL[r.run as Run]} | ${r.rate} | ${r.sent} | ${r.seen} | ${r.dropped ?? '?'} | ${r.seen === r.sent && r.dropped === 0 ? 'yes' : 'no'} |\n`);
  const best = (run: string): number => Math.max(0, ...rows.filter((r) => r.run === run && r.seen === r.sent && r.dropped === 0).map((r) => r.rate));
  const ref = best('analyze');
  for (const run of RUNS.slice(1)) {
    process.stdout.write(`\nhighest lossless step: ${run} ${best(run)}/s beside analyze --stats ${ref}/s (ratio ${ref > 0 ? (best(run) / ref).toFixed(2) : 'n/a'}; goal >= 0.8)`);
  }
  process.stdout.write('\n');
  process.stdout.write(`load average after ingest: ${load()}\n\n`);

  const samples = await latency(Number(arg('--probes', '40')));
  const sorted = [...samples].sort((a, b) => a - b);
  const ms = (q: number): string => (percentile(sorted, q) ?? NaN).toFixed(0);
  process.stdout.write(`wire-to-page latency over ${samples.length} datagrams: p50 ${ms(0.5)} ms, p99 ${ms(0.99)} ms, max ${Math.max(...samples).toFixed(0)} ms (goal p99 < 1500 ms)\n`);
  process.stdout.write(`load average after latency: ${load()}\n\n`);

  const minutes = Number(arg('--minutes', '2'));
  const points = await memory(minutes, Number(arg('--memory-rate', '20000')));
  process.stdout.write(`resident memory, MiB, every 10 s over ${minutes} min: ${points.map(([, m]) => m.toFixed(0)).join(' ')}\n`);
  process.stdout.write(`load average after memory: ${load()}\n`);
}
await main();
