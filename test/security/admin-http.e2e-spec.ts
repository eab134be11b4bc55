import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AdminUser, CrmConnection, hashPassword, ServiceToken, Tenant } from '@pm/domain';
import type { Browser } from 'playwright-core';
import { CRM_ORM } from '../../src/crm-integrations';
import { createStandaloneApp } from '../../src/standalone/bootstrap';
import { prepareRuntime } from '../../src/standalone/runtime';
import { launchBrowser, logIn } from '../admin/browser';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const bundleDir = mkdtempSync(join(tmpdir(), 'pmcrm-adminjs-sec-'));
process.env.ADMIN_JS_TMP_DIR = bundleDir;

const SUPERADMIN = { email: 'root@example.com', password: 'root-password-1' };
const TENANT_ADMIN = { email: 'acme-admin@example.com', password: 'acme-password-1' };
/** A second admin of the same tenant: the throttling test leaves TENANT_ADMIN in its login backoff. */
const OTHER_TENANT_ADMIN = { email: 'acme-ops@example.com', password: 'acme-password-2' };

/** Issue 14, holes 5, 6, 7 and 9: AdminJS over HTTP, as an attacker and a browser see it. */
describe('AdminJS security over HTTP', () => {
  let database: TestDatabase;
  let app: NestExpressApplication;
  let orm: MikroORM;
  let baseUrl: string;
  let connectionId: string;
  let tokenId: string;
  let browser: Browser | undefined;

  /** Logs in with a plain form POST; returns the session cookie. */
  async function logInOverHttp(
    credentials: { email: string; password: string },
    headers: Record<string, string> = {},
  ): Promise<{ status: number; cookie?: string; setCookie: string; retryAfter: string | null }> {
    const response = await fetch(`${baseUrl}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(credentials).toString(),
    });
    await response.text();
    const setCookie = response.headers.getSetCookie().join('\n');
    const cookie = /pm_crm_admin=[^;]+/.exec(setCookie)?.[0];
    return { status: response.status, cookie, setCookie, retryAfter: response.headers.get('retry-after') };
  }

  async function csrfToken(cookie: string): Promise<string> {
    const script = await (await fetch(`${baseUrl}/admin/csrf.js`, { headers: { Cookie: cookie } })).text();
    return JSON.parse(/var token = ("[^"]*")/.exec(script)![1]) as string;
  }

  const editLabel = (cookie: string, label: string, headers: Record<string, string> = {}) => {
    const form = new FormData();
    form.set('label', label);
    return fetch(`${baseUrl}/admin/api/resources/CrmConnection/records/${connectionId}/edit`, {
      method: 'POST',
      headers: { Cookie: cookie, ...headers },
      body: form,
    });
  };
  const storedLabel = async () => (await orm.em.fork().findOneOrFail(CrmConnection, connectionId)).label;

  beforeAll(async () => {
    database = await createTestDatabase();
    const runtime = await prepareRuntime({
      DATABASE_URL: database.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pmcrm-admin-sec-')),
      LOG_LEVEL: 'silent',
      PORT: '0',
      DEMO_SANDBOXES: 'off',
      RUN_WORKERS: 'false',
      ADMIN_EMAIL: SUPERADMIN.email,
      ADMIN_PASSWORD: SUPERADMIN.password,
    });
    app = await createStandaloneApp(runtime);
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    orm = app.get<MikroORM>(CRM_ORM);
    const em = orm.em.fork();
    const acme = em.create(Tenant, { id: 'acme', name: 'Acme Inc' });
    const connection = em.create(CrmConnection, { tenant: acme, provider: 'hubspot', label: 'Acme HubSpot' });
    const token = em.create(ServiceToken, { tenant: acme, name: 'backend', tokenHash: 'h', prefix: 'pmt_x' });
    em.create(AdminUser, {
      email: TENANT_ADMIN.email,
      passwordHash: await hashPassword(TENANT_ADMIN.password),
      role: 'tenant_admin',
      tenant: acme,
    });
    em.create(AdminUser, {
      email: OTHER_TENANT_ADMIN.email,
      passwordHash: await hashPassword(OTHER_TENANT_ADMIN.password),
      role: 'tenant_admin',
      tenant: acme,
    });
    await em.flush();
    connectionId = connection.id;
    tokenId = token.id;
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await database?.drop();
    rmSync(bundleDir, { recursive: true, force: true });
  });

  describe('hole 5: CSRF, framing and cookies', () => {
    it('sends security headers: no framing, a CSP', async () => {
      const response = await fetch(`${baseUrl}/admin/login`);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('refuses a POST without the CSRF token or from another origin, and accepts the page-issued token', async () => {
      const { cookie } = await logInOverHttp(SUPERADMIN);
      expect(cookie).toBeDefined();
      const token = await csrfToken(cookie!);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

      expect((await editLabel(cookie!, 'no token')).status).toBe(403);
      expect((await editLabel(cookie!, 'wrong token', { 'X-CSRF-Token': 'x'.repeat(43) })).status).toBe(403);
      const foreign = await editLabel(cookie!, 'foreign origin', {
        'X-CSRF-Token': token,
        Origin: 'https://evil.example',
      });
      expect(foreign.status).toBe(403);
      expect(await storedLabel()).toBe('Acme HubSpot');

      const ok = await editLabel(cookie!, 'Acme HubSpot (EU)', { 'X-CSRF-Token': token, Origin: baseUrl });
      expect(ok.status).toBe(200);
      expect(await storedLabel()).toBe('Acme HubSpot (EU)');
      // Another session's token is no good for this one.
      const other = await logInOverHttp(SUPERADMIN);
      expect((await editLabel(other.cookie!, 'cross session', { 'X-CSRF-Token': token })).status).toBe(403);
    });

    it('revokes a service token only on POST, never on a GET', async () => {
      const { cookie } = await logInOverHttp(SUPERADMIN);
      const url = `${baseUrl}/admin/api/resources/CrmServiceToken/records/${tokenId}/revoke`;
      await (await fetch(url, { headers: { Cookie: cookie! } })).text();
      expect((await orm.em.fork().findOneOrFail(ServiceToken, tokenId)).revokedAt ?? null).toBeNull();
      const posted = await fetch(url, {
        method: 'POST',
        headers: { Cookie: cookie!, 'X-CSRF-Token': await csrfToken(cookie!) },
      });
      expect(posted.status).toBe(200);
      expect((await orm.em.fork().findOneOrFail(ServiceToken, tokenId)).revokedAt).toBeInstanceOf(Date);
    });

    it('sets the session cookie Secure when served over https', async () => {
      const plain = await logInOverHttp(SUPERADMIN);
      expect(plain.setCookie).not.toMatch(/;\s*Secure/i);
      const https = await logInOverHttp(SUPERADMIN, { 'X-Forwarded-Proto': 'https' });
      expect(https.setCookie).toMatch(/pm_crm_admin=[^\n]*;\s*Secure/i);
      expect(https.setCookie).toMatch(/HttpOnly/i);
    });

    it('still saves an edit made in the browser (the page sends the token itself)', async () => {
      browser = await launchBrowser();
      const page = await (await browser.newContext()).newPage();
      await logIn(page, baseUrl, '/admin', SUPERADMIN);
      await page.waitForURL(`${baseUrl}/admin`);
      await page.goto(`${baseUrl}/admin/resources/CrmConnection/records/${connectionId}/edit`);
      const label = page.locator('input[name="label"]');
      await label.fill('Edited in the browser');
      await Promise.all([
        page.waitForResponse((r) => r.url().includes('/edit') && r.request().method() === 'POST'),
        page.locator('button[type="submit"]').click(),
      ]);
      await page.getByText('Edited in the browser').first().waitFor();
      expect(await storedLabel()).toBe('Edited in the browser');
    });
  });

  describe('hole 6: login throttling', () => {
    it('throttles an account from an address with 429 and Retry-After, not other accounts, not successes', async () => {
      for (let i = 0; i < 12; i += 1) {
        expect((await logInOverHttp(SUPERADMIN)).status).toBe(302);
      }
      const wrong = { email: TENANT_ADMIN.email, password: 'not-the-password' };
      const statuses: number[] = [];
      for (let i = 0; i < 10; i += 1) statuses.push((await logInOverHttp(wrong)).status);
      expect(statuses.slice(0, 6).every((status) => status === 200)).toBe(true);
      expect(statuses).toContain(429);
      const refused = await logInOverHttp(TENANT_ADMIN);
      expect(refused.status).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      // The superadmin, from the same address, is not locked out.
      expect((await logInOverHttp(SUPERADMIN)).status).toBe(302);
    });
  });

  describe('hole 7: no connection without OAuth', () => {
    it('refuses "new" on a connection: nothing is created, nothing shows as connected', async () => {
      const { cookie } = await logInOverHttp(SUPERADMIN);
      const before = await orm.em.fork().count(CrmConnection, {});
      const form = new FormData();
      form.set('provider', 'salesforce');
      form.set('label', 'Made by hand');
      form.set('status', 'connected');
      const response = await fetch(`${baseUrl}/admin/api/resources/CrmConnection/actions/new`, {
        method: 'POST',
        headers: { Cookie: cookie!, 'X-CSRF-Token': await csrfToken(cookie!) },
        body: form,
      });
      // AdminJS answers a refused action as an error notice (HTTP 200), as it does for every refusal.
      const body = (await response.json()) as { notice?: { type: string }; record?: { params?: object } };
      expect(response.status).toBe(200);
      expect(body.notice?.type).toBe('error');
      expect(await orm.em.fork().count(CrmConnection, {})).toBe(before);
    });
  });

  describe('hole 9: 4xx, never 500', () => {
    const problemStatus = async (response: Response) => {
      await response.text();
      return response.status;
    };

    it('answers 404 for an unknown resource, 404 for a bulk delete of foreign ids, 200 for a non-numeric id filter', async () => {
      const { cookie } = await logInOverHttp(OTHER_TENANT_ADMIN);
      expect(cookie).toBeDefined();
      const token = await csrfToken(cookie!);
      const headers = { Cookie: cookie! };
      expect(
        await problemStatus(
          await fetch(`${baseUrl}/admin/api/resources/NoSuchThing/actions/list`, { headers }),
        ),
      ).toBe(404);
      const em = orm.em.fork();
      const beta = em.create(Tenant, { id: 'beta', name: 'Beta' });
      const foreign = em.create(CrmConnection, {
        tenant: beta,
        provider: 'pipedrive',
        label: 'Beta Pipedrive',
      });
      await em.flush();
      const bulk = await fetch(
        `${baseUrl}/admin/api/resources/CrmConnection/bulk/bulkDelete?recordIds=${foreign.id},not-an-id`,
        { method: 'POST', headers: { ...headers, 'X-CSRF-Token': token } },
      );
      expect(await problemStatus(bulk)).toBe(404);
      expect(await orm.em.fork().count(CrmConnection, { id: foreign.id })).toBe(1);
      for (const resource of ['CrmAuditLogEntry', 'CrmSyncRun', 'CrmConnection']) {
        const filtered = await fetch(
          `${baseUrl}/admin/api/resources/${resource}/actions/list?filters.id=abc&filters.connection=12x`,
          { headers },
        );
        expect({ resource, status: await problemStatus(filtered) }).toEqual({ resource, status: 200 });
      }
    });
  });
});
