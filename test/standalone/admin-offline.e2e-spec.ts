import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Browser, BrowserContext } from 'playwright-core';
import { createStandaloneApp } from '../../src/standalone/bootstrap';
import { prepareRuntime, type StandaloneRuntime } from '../../src/standalone/runtime';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { launchBrowser, logIn } from '../admin/browser';

process.env.ADMIN_JS_TMP_DIR = mkdtempSync(join(tmpdir(), 'pmcrm-adminjs-offline-'));
const ADMIN = { email: 'offline@example.com', password: 'offline-password-1' };
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * AdminJS as a newcomer meets it, on a machine without internet: every request the pages make stays on this
 * machine, the screens carry our name, and a restart of the service keeps the admin logged in.
 */
describe('AdminJS offline, branded, with sessions that survive a restart', () => {
  let database: TestDatabase;
  let runtime: StandaloneRuntime;
  let app: NestExpressApplication | undefined;
  let browser: Browser;
  let context: BrowserContext;
  const offMachine: string[] = [];

  async function startApp(): Promise<string> {
    app = await createStandaloneApp(runtime);
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    runtime = await prepareRuntime({
      DATABASE_URL: database.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pmcrm-offline-')),
      LOG_LEVEL: 'silent',
      PORT: '0',
      DEMO_SANDBOXES: 'off',
      RUN_WORKERS: 'false',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
    });
    browser = await launchBrowser();
    context = await browser.newContext();
    // Any request to a host off this machine is recorded and refused, as it would fail offline.
    await context.route('**/*', (route) => {
      const { hostname, protocol } = new URL(route.request().url());
      if (protocol.startsWith('http') && !LOOPBACK.has(hostname)) {
        offMachine.push(route.request().url());
        return route.abort();
      }
      return route.continue();
    });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await app?.close();
    await runtime?.stop();
    await database?.drop();
  });

  it('sends / to the admin, asks nothing off the machine, shows our name, and keeps the login across a restart', async () => {
    let baseUrl = await startApp();
    const root = await fetch(`${baseUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/admin');

    const page = await context.newPage();
    await logIn(page, baseUrl, '/admin', ADMIN);
    await page.waitForLoadState('networkidle');
    expect(new URL(page.url()).pathname).toBe('/admin');
    const text = await page.locator('body').innerText();
    expect(text).toContain('PenguinMails CRM Integrations');
    expect(text).not.toContain('Welcome on Board');
    expect(await page.title()).toBe('PenguinMails CRM Integrations');
    expect(offMachine).toEqual([]);

    // The same browser (same cookie) after the service restarts on the same database: still logged in.
    await app!.close();
    app = undefined;
    baseUrl = await startApp();
    await page.goto(`${baseUrl}/admin`);
    await page.waitForLoadState('networkidle');
    expect(new URL(page.url()).pathname).toBe('/admin');
    expect(offMachine).toEqual([]);
    await page.close();
  }, 180_000);
});
