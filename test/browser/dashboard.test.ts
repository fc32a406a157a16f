/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard page in a real browser (Debian's Chromium through playwright-core) against a real
 * server: it loads, its charts draw the data, a filter changes every view and the URL and survives a
 * reload, wire text is shown as text, the download is a pcapng that `wirelab analyze` reads back
 * with the count the page shows, an upload shows its views (and a bad one says why), and a
 * screenshot is kept in docs/dashboard.png. Live traffic on loopback is in live.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { Dashboard, type DashboardUpdate } from '../../src/dashboard/index.js';
import { repoRoot, runWirelab } from '../helpers/process.js';
import { withDeadline } from '../helpers/deadline.js';
import { HOSTILE_NAME, writeTraffic } from '../integration/dashboard/traffic.js';
import { launch, skipReason } from './browser.js';

const skip = skipReason();

async function text(page: Page, selector: string): Promise<string> {
  return (await page.textContent(selector))?.trim() ?? '';
}

/** Wait until the selector's text is `expected` (the page redraws on each update). */
async function waitText(page: Page, selector: string, expected: string): Promise<void> {
  await page.waitForFunction(([s, e]) => document.querySelector(s!)?.textContent?.trim() === e, [selector, expected], { timeout: 10_000 }).catch(async () => {
    assert.fail(`${selector}: expected '${expected}', the page shows '${await text(page, selector)}'`);
  });
}

test('the page: charts, filter in every view and the URL, reload, escaping, download, upload, screenshot', { skip, timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wirelab-dash-browser-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'traffic.pcap');
  const total = await writeTraffic(file);
  const dashboard = new Dashboard({ read: file, port: 0, updates: { intervalMs: 200 }, detector: { baselinePackets: 600, baselineFlows: 60, warmup: 0 } });
  t.after(() => dashboard.close());
  const done = once(dashboard, 'source');
  await dashboard.start();
  await withDeadline(done, 30_000, 'the file was read');
  const api = async (q: string): Promise<DashboardUpdate> => (await (await fetch(new URL(`/api/snapshot?limit=0&${q}`, dashboard.url))).json()) as DashboardUpdate;
  const udp = (await api('protocol=udp')).stats;

  const browser = await launch();
  t.after(() => browser.dispose());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message + ' @ ' + (e.stack ?? '').split('\n').slice(1, 3).join(' | ')));
  await page.goto(dashboard.url);
  await waitText(page, '#total-packets', total.toLocaleString('en-US'));
  for (const id of ['chart-traffic', 'chart-protocols', 'chart-sizes', 'chart-avg']) {
    assert.ok(Number(await page.getAttribute(`#${id}`, 'data-points')) > 0, `${id} has data`);
    assert.equal(await page.locator(`#${id} canvas`).count(), 1, `${id} is drawn`);
  }
  assert.ok((await page.locator('#packets .row').count()) > 10, 'the packets table shows rows');
  assert.ok((await page.locator('#packets .row').count()) < 60, 'and only the rows in sight (virtualised)');
  assert.match(await text(page, '#flows'), /SF/);

  // a filter: every view, and the URL
  await page.fill('input[name=protocol]', 'udp');
  await page.click('#filters button[type=submit]');
  await waitText(page, '#total-packets', udp.packets.toLocaleString('en-US'));
  assert.match(page.url(), /\?protocol=udp$/);
  assert.equal(Number(await page.getAttribute('#chart-protocols', 'data-points')), udp.protocols.length);
  const shown = await page.locator('#packets .row span:nth-child(5)').allTextContents();
  assert.ok(shown.length > 0 && shown.every((p) => p === 'UDP' || p === 'DNS'), `only UDP in the table: ${[...new Set(shown)].join(',')}`);
  assert.doesNotMatch(await text(page, '#flows'), /TCP/);
  assert.doesNotMatch(await text(page, '#talkers'), /10\.0\.0\.100/, 'the web server sent no UDP');
  assert.match((await page.getAttribute('#download', 'href'))!, /protocol=udp/);

  await page.reload();
  await waitText(page, '#total-packets', udp.packets.toLocaleString('en-US'));
  assert.equal(await page.inputValue('input[name=protocol]'), 'udp');

  // wire text is text: the DNS name that is markup (`<img ... onerror=...>`) shows as characters, makes no element
  await page.fill('input[name=protocol]', 'DNS');
  await page.click('#filters button[type=submit]');
  await waitText(page, '#total-packets', '80');
  await page.waitForFunction((name) => [...document.querySelectorAll('#packets .row')].some((r) => r.textContent.includes(name)), HOSTILE_NAME.slice(0, 4), { timeout: 10_000 });
  assert.equal(await page.locator('img').count(), 0);

  // light and dark: the charts are drawn again in the other theme, and it is remembered
  const before = await page.getAttribute('html', 'data-theme');
  await page.click('#theme');
  assert.notEqual(await page.getAttribute('html', 'data-theme'), before);
  assert.equal(await page.locator('#chart-traffic canvas').count(), 1);
  await page.reload();
  assert.notEqual(await page.getAttribute('html', 'data-theme'), before);
  await page.click('#theme');
  assert.equal(await page.getAttribute('html', 'data-theme'), before);
  await waitText(page, '#total-packets', '80');

  // the download: what the page shows, as pcapng that analyze reads back
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const saved = join(dir, 'download.pcapng');
  await download.saveAs(saved);
  const back = await runWirelab(['analyze', '--read', saved, '--stats', '--json']);
  assert.equal(back.code, 0, back.stderr);
  const last = back.events.at(-1);
  const { event, packets, bytes } = last ?? { event: undefined, packets: undefined, bytes: undefined };
  assert.deepEqual({ event, packets, bytes }, { event: 'summary', packets: 80, bytes: (await api('protocol=DNS')).stats.bytes });

  // an upload: a bad file says why; a good one shows its views
  await page.click('#clear');
  await waitText(page, '#total-packets', total.toLocaleString('en-US'));
  const junk = join(dir, 'notes.pcap');
  await writeFile(junk, 'these are not packets');
  await page.setInputFiles('#upload', junk);
  await page.waitForFunction(() => /not a pcap or pcapng file/.test(document.getElementById('message')!.textContent), undefined, { timeout: 10_000 });
  await page.setInputFiles('#upload', join(repoRoot, 'test/fixtures/captures/pcapplusplus/example.pcap'));
  await waitText(page, '#total-packets', '4,631');
  assert.match(await text(page, '#source'), /upload example\.pcap/);
  await waitText(page, '#message', 'example.pcap: 4,631 packets');

  // the screenshot for the README: the generated traffic, with its anomalies
  await page.setInputFiles('#upload', file);
  await waitText(page, '#total-packets', total.toLocaleString('en-US'));
  await page.waitForFunction((last) => document.body.dataset.drawnSeq === last && /done/.test(document.getElementById('source')!.textContent) && document.querySelector('#anomalies table') !== null, String(total - 1), { timeout: 15_000 });
  await page.screenshot({ path: join(repoRoot, 'docs/dashboard.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no script errors');
});
