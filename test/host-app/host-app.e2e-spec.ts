import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AdminUser, AuditLogEntry, Contact, CrmConnection, hashPassword, Tenant } from '@pm/domain';
import { startHubSpotTestBed, type HubSpotTestBed } from '@pm/connectors/hubspot/testing';
import type { Browser, Page } from 'playwright-core';
import { CRM_ORM } from '../../src/crm-integrations';
import { launchBrowser, logIn } from '../admin/browser';
import {
  changeSettings,
  connectFromConnectPage,
  editMappingWithFormula,
  disconnectAndReconnect,
  freePort,
  pageApi,
  pageUrl,
  syncNow,
  type Screens,
} from '../admin/screens-flow';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import {
  HOST_ADMIN,
  HOST_MAPPED_PASSWORD,
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
  let hubspot: HubSpotTestBed;
  let orm: MikroORM;

  beforeAll(async () => {
    database = await createTestDatabase();
    hubspot = await startHubSpotTestBed();
    hubspot.sandbox.seedContacts(5);
    const admin = await hostAdminModule();
    const port = await freePort();
    app = await NestFactory.create<NestExpressApplication>(
      HostAppModule.forRoot({
        databaseUrl: database.url,
        admin,
        publicUrl: `http://127.0.0.1:${port}`,
        connectors: { hubspot: hubspot.connector },
      }),
      { logger: false },
    );
    await app.listen(port, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;

    orm = app.get<MikroORM>(CRM_ORM);
    const em = orm.em.fork();
    const tenant = em.create(Tenant, { id: 'host-tenant', name: 'Host Tenant' });
    const other = em.create(Tenant, { id: 'other-tenant', name: 'Other Tenant' });
    em.create(CrmConnection, { tenant, provider: 'hubspot', label: 'Host HubSpot Portal' });
    em.create(CrmConnection, {
      tenant: other,
      provider: 'hubspot',
      label: 'Other Portal',
      crmAccountName: 'Other Account',
    });
    em.create(Contact, { tenant, email: 'grace@host.example', firstName: 'Grace' });
    // Host admins can be mapped onto CRM roles: these two log in through the host's login with a CRM role.
    for (const [email, role] of [
      ['viewer@host.example', 'viewer'],
      ['tenant-admin@host.example', 'tenant_admin'],
    ] as const) {
      em.create(AdminUser, { email, passwordHash: await hashPassword('unused-here'), role, tenant });
    }
    await em.flush();

    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    await logIn(page, baseUrl, HOST_ROOT_PATH, HOST_ADMIN);
    await page.waitForURL(`${baseUrl}${HOST_ROOT_PATH}`);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await hubspot?.close();
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

  it('runs the CRM screens in the host: connect, settings, Sync Now, disconnect and reconnect', async () => {
    const screens: Screens = { page, baseUrl, rootPath: HOST_ROOT_PATH };
    await page.goto(`${baseUrl}${HOST_ROOT_PATH}`);
    await page.getByTestId('crm-home').waitFor();
    const connectionId = await connectFromConnectPage(screens, {
      tenantId: 'host-tenant',
      provider: 'hubspot',
      crmName: 'HubSpot',
    });
    await changeSettings(screens, connectionId, ['Contacts']);
    const mapping = await editMappingWithFormula(screens, connectionId, {
      crmName: 'HubSpot',
      crmField: 'city',
      badRowCrmField: 'state',
    });
    expect(mapping.version).toBe(2);
    const { contactsSynced } = await syncNow(screens, connectionId);
    expect(contactsSynced).toBeGreaterThan(0);
    await page.getByText('grace@host.example').first().waitFor();
    const revokes = () => hubspot.sandbox.counters.count('DELETE /oauth/v1/refresh-tokens/:token');
    const before = revokes();
    await disconnectAndReconnect(screens, connectionId, 'HubSpot');
    expect(revokes()).toBe(before + 1);
    const audit = await orm.em.fork().find(AuditLogEntry, { targetId: connectionId });
    expect(audit.map((entry) => entry.actor)).toContain(`admin:${HOST_ADMIN.email}`);
  });

  it("refuses a viewer's change and keeps a tenant admin in its tenant, as the host maps its admins", async () => {
    const login = async (email: string): Promise<Screens> => {
      const other = await (await browser.newContext()).newPage();
      await logIn(other, baseUrl, HOST_ROOT_PATH, { email, password: HOST_MAPPED_PASSWORD });
      await other.getByTestId('crm-home').waitFor();
      return { page: other, baseUrl, rootPath: HOST_ROOT_PATH };
    };
    const viewer = await login('viewer@host.example');
    const refused = await pageApi(viewer, 'crmAdminControls', {
      op: 'frequency',
      body: { connectionId: '00000000-0000-4000-8000-000000000000', frequency: 'daily' },
    });
    expect(refused.error).toBe('A viewer cannot change anything');
    await viewer.page.context().close();

    const tenantAdmin = await login('tenant-admin@host.example');
    await tenantAdmin.page.goto(pageUrl(tenantAdmin, 'crmSyncActivity'));
    await tenantAdmin.page.getByText("Today's Activity").waitFor();
    await tenantAdmin.page.goto(`${baseUrl}${HOST_ROOT_PATH}`);
    await tenantAdmin.page.getByText('Host Tenant (host-tenant)').waitFor();
    expect(await tenantAdmin.page.content()).not.toContain('Other Account');
    const other = await pageApi(tenantAdmin, 'crmConnect', { query: { tenantId: 'other-tenant' } });
    expect(other.error).toBe('That tenant is outside your access');
    await tenantAdmin.page.context().close();
  });
});
