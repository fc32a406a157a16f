/**
 * Debian's Chromium through playwright-core, with DESIGN.md's flags and a fresh profile directory
 * (never a downloaded browser). `skipReason()` says why a browser test cannot run here.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function skipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (Debian package chromium; scripts/setup.sh installs it as root)`;
  if (!existsSync(new URL('../../dist/dashboard/web/index.html', import.meta.url))) return 'the page is not built: run npm run build:web';
  return undefined;
}

/** A browser with a fresh profile; `close()` removes both. */
export async function launch(): Promise<BrowserContext & { dispose(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'wirelab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    acceptDownloads: true,
    viewport: { width: 1440, height: 1800 },
  });
  return Object.assign(context, {
    async dispose(): Promise<void> {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  });
}
