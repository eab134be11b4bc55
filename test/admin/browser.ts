import { chromium, type Browser, type Page } from 'playwright-core';

/** The machine's Chromium (`apt-get install -y chromium`); playwright's own browser downloads are never used. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * One headless Chromium per test file. playwright gives every launch a fresh temporary profile (its own
 * --user-data-dir, removed on close), so runs never share cookies or caches.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** AdminJS's login button is not a submit button: Enter in the password field sends the form. */
export async function logIn(
  page: Page,
  baseUrl: string,
  rootPath: string,
  credentials: { email: string; password: string },
): Promise<void> {
  await page.goto(`${baseUrl}${rootPath}/login`);
  await page.locator('input[name="email"]').fill(credentials.email);
  await page.locator('input[name="password"]').fill(credentials.password);
  await Promise.all([page.waitForLoadState('load'), page.locator('input[name="password"]').press('Enter')]);
}

/**
 * The CSRF header AdminJS's own page adds to its POSTs (admin-security.ts), for tests that POST to the AdminJS API
 * directly with the page's session.
 */
export async function csrfHeader(page: Page, baseUrl: string): Promise<Record<string, string>> {
  const script = await (await page.request.get(`${baseUrl}/admin/csrf.js`)).text();
  const token = JSON.parse(/var token = ("[^"]*")/.exec(script)?.[1] ?? '""') as string;
  return { 'X-CSRF-Token': token };
}
