/**
 * A real browser for page tests: Debian's Chromium driven by playwright-core,
 * headless and offline (no browser download, no sandbox in CI containers, no GPU).
 * Screenshots go to test-artifacts/browser/ (gitignored), for a person to look at.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { servicesRequired } from './services.ts';
import { waitFor } from './wait.ts';

/** Where Chromium is: QUARTILE_CHROMIUM, else Debian's package. */
export const CHROMIUM_PATH = process.env['QUARTILE_CHROMIUM'] ?? '/usr/bin/chromium';

const ARTIFACTS = join(new URL('../..', import.meta.url).pathname, 'test-artifacts', 'browser');

/** A skip reason when Chromium is missing; in CI (services required) a missing browser fails instead. */
export function browserSkip(): string | false {
  if (existsSync(CHROMIUM_PATH)) return false;
  const hint = `Chromium is not at ${CHROMIUM_PATH}: install it with \`sudo apt-get install -y chromium\` or set QUARTILE_CHROMIUM.`;
  if (servicesRequired()) throw new Error(hint);
  return hint;
}

/** Launches headless Chromium with flags that work offline and in containers. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-extensions',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--mute-audio',
    ],
  });
}

/** Saves a full-page screenshot as test-artifacts/browser/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Waits until the text of the first element matching `selector` satisfies `check`; returns it. */
export async function waitForText(page: Page, selector: string, check: (text: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
  let text = '';
  await waitFor(`${what} (${selector})`, async () => {
    const element = page.locator(selector).first();
    text = (await element.count()) === 0 ? '' : ((await element.textContent()) ?? '');
    return check(text);
  }, timeoutMs, 100);
  return text;
}

/** The number shown in a cell such as "1,234". */
export function shownNumber(text: string): number {
  return Number(text.replace(/[^0-9.]/g, ''));
}
