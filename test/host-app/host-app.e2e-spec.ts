import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { CrmConnection, Tenant } from '@pm/domain';
import type { Browser, Page } from 'playwright-core';
import { CRM_ORM } from '../../src/crm-integrations';
import { launchBrowser, logIn } from '../admin/browser';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import {
  HOST_ADMIN,
  HOST_ROOT_PATH,
  HOST_SERVICE_TOKEN,
  HostAppModule,
  hostAdminModule,
} from './host-app.module';

// Its own AdminJS bundle folder, so it never races the standalone admin test's bundle.
const bundleDir = mkdtempSync(join(tmpdir(), 'pmcrm-host-adminjs-'));
process.env.ADMIN_JS_TMP_DIR = bundleDir;

describe('a host app embedding the plugin', () => {
  let database: TestDatabase;
  let app: NestExpressApplication;
  let baseUrl: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    database = await createTestDatabase();
    const admin = await hostAdminModule();
    app = await NestFactory.create<NestExpressApplication>(
      HostAppModule.forRoot({ databaseUrl: database.url, admin }),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;

    const em = app.get<MikroORM>(CRM_ORM).em.fork();
    const tenant = em.create(Tenant, { id: 'host-tenant', name: 'Host Tenant' });
    em.create(CrmConnection, { tenant, provider: 'hubspot', label: 'Host HubSpot Portal' });
    await em.flush();

    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    await logIn(page, baseUrl, HOST_ROOT_PATH, HOST_ADMIN);
    await page.waitForURL(`${baseUrl}${HOST_ROOT_PATH}`);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await database?.drop();
    rmSync(bundleDir, { recursive: true, force: true });
  });

  it("serves the plugin's connection list inside the host's own AdminJS", async () => {
    await page.goto(`${baseUrl}${HOST_ROOT_PATH}/resources/CrmConnection`);
    await page.getByText('Host HubSpot Portal').waitFor();
    await page.getByText('CRM Integrations', { exact: true }).first().waitFor();
  });

  it("serves the host's own page beside the plugin's screens", async () => {
    await page.goto(`${baseUrl}${HOST_ROOT_PATH}/pages/hostWelcome`);
    await page.getByText('Host back office').first().waitFor();
    await page.getByText('This page belongs to the host app').waitFor();
  });

  it("keeps the host's own routes and the plugin's API working", async () => {
    const host = await fetch(`${baseUrl}/host/status`);
    expect(await host.json()).toEqual({ host: 'up' });
    const health = await fetch(`${baseUrl}/health`);
    expect(health.status).toBe(200);
    // @adminjs/nestjs moves the JSON body parser behind AdminJS; the plugin's API must still read JSON bodies.
    const saved = await fetch(`${baseUrl}/api/v1/tenants/host-json`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${HOST_SERVICE_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Named over JSON' }),
    });
    expect(await saved.json()).toMatchObject({ id: 'host-json', name: 'Named over JSON' });
    const adminOfStandalone = await fetch(`${baseUrl}/admin`, { redirect: 'manual' });
    expect(adminOfStandalone.status).toBe(404);
  });
});
