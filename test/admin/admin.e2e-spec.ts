import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  AdminUser,
  AuditLogEntry,
  ConnectionCredential,
  CrmConnection,
  hashPassword,
  Tenant,
} from '@pm/domain';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CRM_ORM } from '../../src/crm-integrations';
import { createStandaloneApp } from '../../src/standalone/bootstrap';
import { prepareRuntime } from '../../src/standalone/runtime';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { csrfHeader, launchBrowser, logIn } from './browser';

// AdminJS writes its component bundle into ADMIN_JS_TMP_DIR (default ./.adminjs): one folder per test file, so
// test files bundling at the same time never read each other's half-written bundle.
const bundleDir = mkdtempSync(join(tmpdir(), 'pmcrm-adminjs-'));
process.env.ADMIN_JS_TMP_DIR = bundleDir;

const SUPERADMIN = { email: 'root@example.com', password: 'root-password-1' };
const TENANT_ADMIN = { email: 'acme-admin@example.com', password: 'acme-password-1' };
/** The sealed token blob of a connection: it must never reach a page, whatever screen shows the connection. */
const SEALED_CREDENTIAL = 'SEALED-CREDENTIAL-3b1f0c9e-never-shown';

describe('AdminJS in the standalone service', () => {
  let database: TestDatabase;
  let app: NestExpressApplication;
  let orm: MikroORM;
  let baseUrl: string;
  let browser: Browser;
  let superContext: BrowserContext;
  let superPage: Page;
  let acmeConnectionId: string;
  let betaConnectionId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const runtime = await prepareRuntime({
      DATABASE_URL: database.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pmcrm-admin-test-')),
      LOG_LEVEL: 'silent',
      PORT: '0',
      ADMIN_EMAIL: SUPERADMIN.email,
      ADMIN_PASSWORD: SUPERADMIN.password,
    });
    app = await createStandaloneApp(runtime);
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    orm = app.get<MikroORM>(CRM_ORM);

    const em = orm.em.fork();
    const acme = em.create(Tenant, { id: 'acme', name: 'Acme Inc' });
    const beta = em.create(Tenant, { id: 'beta', name: 'Beta GmbH' });
    const acmeConnection = em.create(CrmConnection, {
      tenant: acme,
      provider: 'hubspot',
      label: 'Acme HubSpot',
    });
    const betaConnection = em.create(CrmConnection, {
      tenant: beta,
      provider: 'salesforce',
      label: 'Beta Salesforce',
    });
    em.create(ConnectionCredential, {
      connection: acmeConnection,
      keyId: 'test-key',
      sealed: SEALED_CREDENTIAL,
    });
    em.create(AdminUser, {
      email: TENANT_ADMIN.email,
      passwordHash: await hashPassword(TENANT_ADMIN.password),
      role: 'tenant_admin',
      tenant: acme,
    });
    await em.flush();
    acmeConnectionId = acmeConnection.id;
    betaConnectionId = betaConnection.id;

    browser = await launchBrowser();
    superContext = await browser.newContext();
    superPage = await superContext.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await database?.drop();
    rmSync(bundleDir, { recursive: true, force: true });
  });

  it('serves the login page at /admin', async () => {
    await superPage.goto(`${baseUrl}/admin`);
    expect(new URL(superPage.url()).pathname).toBe('/admin/login');
    await superPage.locator('input[name="email"]').waitFor();
    expect(await superPage.locator('input[name="password"]').count()).toBe(1);
  });

  it('refuses a wrong password', async () => {
    await logIn(superPage, baseUrl, '/admin', { email: SUPERADMIN.email, password: 'not-the-password' });
    await superPage.getByText('Wrong email and/or password').waitFor();
    expect(new URL(superPage.url()).pathname).toBe('/admin/login');
    const refused = await superPage.request.get(`${baseUrl}/admin/api/resources/CrmConnection/actions/list`, {
      maxRedirects: 0,
    });
    expect(refused.status()).toBe(302);
  });

  it('shows the dashboard with the CRM navigation after logging in', async () => {
    await logIn(superPage, baseUrl, '/admin', SUPERADMIN);
    await superPage.waitForURL(`${baseUrl}/admin`);
    for (const group of ['CRM Integrations', 'Sync', 'Administration']) {
      await superPage.getByText(group, { exact: true }).first().waitFor();
    }
  });

  it('lists the seeded connections without any credential in the page', async () => {
    await superPage.goto(`${baseUrl}/admin/resources/CrmConnection`);
    await superPage.getByText('Acme HubSpot').waitFor();
    await superPage.getByText('Beta Salesforce').waitFor();
    expect(await superPage.content()).not.toContain(SEALED_CREDENTIAL);

    await superPage.goto(`${baseUrl}/admin/resources/CrmConnection/records/${acmeConnectionId}/show`);
    await superPage.getByText('Acme HubSpot').first().waitFor();
    expect(await superPage.content()).not.toContain(SEALED_CREDENTIAL);

    const api = await superPage.request.get(`${baseUrl}/admin/api/resources/CrmConnection/actions/list`);
    expect(await api.text()).not.toContain(SEALED_CREDENTIAL);
  });

  it('never shows a password hash on the admin users screen', async () => {
    await superPage.goto(`${baseUrl}/admin/resources/CrmAdminUser`);
    await superPage.getByText(TENANT_ADMIN.email).waitFor();
    const html = await superPage.content();
    expect(html).not.toContain('scrypt$');
    expect(html).not.toMatch(/passwordHash/);
  });

  describe('as a tenant admin', () => {
    let context: BrowserContext;
    let page: Page;

    beforeAll(async () => {
      context = await browser.newContext();
      page = await context.newPage();
      await logIn(page, baseUrl, '/admin', TENANT_ADMIN);
      await page.waitForURL(`${baseUrl}/admin`);
    });

    afterAll(() => context.close());

    it("sees only its own tenant's connections", async () => {
      await page.goto(`${baseUrl}/admin/resources/CrmConnection`);
      await page.getByText('Acme HubSpot').waitFor();
      expect(await page.content()).not.toContain('Beta Salesforce');

      const other = await page.request.get(
        `${baseUrl}/admin/api/resources/CrmConnection/records/${betaConnectionId}/show`,
      );
      // AdminJS answers a refusal as JSON with an error notice (HTTP 200) and an empty record.
      const body = (await other.json()) as { record?: { params: object }; notice?: { type: string } };
      expect(body.record?.params ?? {}).toEqual({});
      expect(body.notice?.type).toBe('error');
      expect(JSON.stringify(body)).not.toContain('Beta Salesforce');
    });

    it("cannot change another tenant's connection, and its own changes are audited", async () => {
      const refused = await page.request.post(
        `${baseUrl}/admin/api/resources/CrmConnection/records/${betaConnectionId}/edit`,
        { multipart: { label: 'Taken over' }, headers: await csrfHeader(page, baseUrl) },
      );
      expect(((await refused.json()) as { notice?: { type: string } }).notice?.type).toBe('error');
      const em = orm.em.fork();
      expect((await em.findOneOrFail(CrmConnection, betaConnectionId)).label).toBe('Beta Salesforce');

      const edited = await page.request.post(
        `${baseUrl}/admin/api/resources/CrmConnection/records/${acmeConnectionId}/edit`,
        {
          multipart: { label: 'Acme HubSpot (EU)', tenant: 'beta' },
          headers: await csrfHeader(page, baseUrl),
        },
      );
      expect(edited.ok()).toBe(true);
      const connection = await em.fork().findOneOrFail(CrmConnection, acmeConnectionId);
      expect(connection.label).toBe('Acme HubSpot (EU)');
      expect(connection.tenant.id).toBe('acme');

      const audit = await em.fork().findOneOrFail(AuditLogEntry, {
        action: 'admin.CrmConnection.updated',
        targetId: acmeConnectionId,
      });
      expect(audit).toMatchObject({
        actor: `admin:${TENANT_ADMIN.email}`,
        tenantId: 'acme',
        before: expect.objectContaining({ label: 'Acme HubSpot' }),
        after: expect.objectContaining({ label: 'Acme HubSpot (EU)' }),
      });
      expect(JSON.stringify(audit.after)).not.toContain(SEALED_CREDENTIAL);
    });

    it('creates records only in its own tenant', async () => {
      // Connections come only from the OAuth flow; an admin user is a record a tenant admin may create.
      const created = await page.request.post(`${baseUrl}/admin/api/resources/CrmAdminUser/actions/new`, {
        multipart: {
          email: 'sneaky@acme.example',
          password: 'sneaky-password',
          role: 'superadmin',
          tenant: 'beta',
        },
        headers: await csrfHeader(page, baseUrl),
      });
      expect(created.ok()).toBe(true);
      const row = await orm.em.fork().findOneOrFail(AdminUser, { email: 'sneaky@acme.example' });
      expect(row.tenant?.id).toBe('acme');
      expect(row.role).toBe('tenant_admin');
    });
  });
});
