/// <reference lib="dom" />
/**
 * Live traffic in the browser: the dashboard captures on the loopback interface (tcpdump, so root)
 * filtered to a UDP port this test bound; datagrams sent during the test appear on the page within
 * 2 s; pause stops the updates (packets sent meanwhile are not counted) and resume starts them again;
 * a BPF expression set on the page restarts the capture with it, and a bad one says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import { Dashboard } from '../../src/dashboard/index.js';
import { withDeadline } from '../helpers/deadline.js';
import { launch, skipReason } from './browser.js';

function liveSkip(): string | undefined {
  if (process.getuid?.() !== 0) return 'live capture on lo needs root';
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'tcpdump is not installed';
  }
  return skipReason();
}

const skip = liveSkip();

/** ms until the page shows `expected` packets. */
async function shows(page: Page, expected: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  await page.waitForFunction((e) => document.getElementById('total-packets')?.textContent === e, expected, { timeout: timeoutMs, polling: 'raf' });
  return performance.now() - t0;
}

/** Resolve once `check()` holds (looked at every 20 ms), or fail after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  await withDeadline(
    (async () => {
      while (!check()) await new Promise((r) => setTimeout(r, 20));
    })(),
    ms,
    what,
  );
}

test('loopback traffic appears within 2 s; pause stops updates; resume starts them', { skip, timeout: 90_000 }, async (t) => {
  const sink = createSocket('udp4');
  t.after(() => sink.close());
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
  const port = sink.address().port;
  const sender = createSocket('udp4');
  t.after(() => sender.close());
  const send = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await new Promise<void>((resolve, reject) => sender.send(Buffer.from(`wirelab dashboard ${i}`), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  };

  const dashboard = new Dashboard({ interface: 'lo', bpf: `udp and dst port ${port}`, port: 0 });
  t.after(() => dashboard.close());
  await dashboard.start();
  const browser = await launch();
  t.after(() => browser.dispose());
  const page = await browser.newPage();
  await page.goto(dashboard.url);
  await page.waitForFunction(() => /live on lo/.test(document.getElementById('source')!.textContent), undefined, { timeout: 10_000 });

  await send(5);
  const latency = await shows(page, '5', 2000);
  t.diagnostic(`5 datagrams on the page after ${latency.toFixed(0)} ms`);

  await page.click('#pause');
  await page.waitForFunction(() => document.getElementById('pause')!.textContent === 'Resume', undefined, { timeout: 5000 });
  const updatesBefore = await page.getAttribute('body', 'data-updates');
  await send(5);
  await until(() => dashboard.ingest.skippedWhilePaused === 5, 5000, 'the capture saw the 5 datagrams sent while paused');
  // an update would go out within 1.25 x 500 ms of a change: give it twice that
  await page.waitForTimeout(1300);
  assert.equal(await page.getAttribute('body', 'data-updates'), updatesBefore, 'no update while paused');
  assert.equal(await page.textContent('#total-packets'), '5');

  await page.click('#pause');
  await page.waitForFunction(() => document.getElementById('pause')!.textContent === 'Pause', undefined, { timeout: 5000 });
  await send(3);
  await shows(page, '8', 2000);
  assert.equal(dashboard.ingest.source.state, 'running');

  // a BPF expression from the page: the capture restarts with it (its data with it), and it is in the URL
  const bpf = `udp and dst port ${port} and greater 100`;
  await page.fill('input[name=bpf]', bpf);
  await page.click('#filters button[type=submit]');
  await page.waitForFunction((b) => document.getElementById('message')!.textContent === `capturing with '${b}'`, bpf, { timeout: 10_000 });
  assert.equal(new URL(page.url()).searchParams.get('bpf'), bpf);
  await shows(page, '0', 2000);
  await send(3); // 62-byte frames: filtered out by the kernel
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve, reject) => sender.send(Buffer.alloc(100), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  await shows(page, '2', 2000); // in order after the small ones, which were not counted
  assert.equal(dashboard.ingest.source.bpf, bpf);

  await page.fill('input[name=bpf]', 'udp and nonsense(');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => /^BPF: bad capture filter/.test(document.getElementById('message')!.textContent), undefined, { timeout: 10_000 });
  assert.equal(dashboard.ingest.source.bpf, bpf, 'the previous filter is back');
  assert.equal(dashboard.ingest.source.state, 'running');
});
