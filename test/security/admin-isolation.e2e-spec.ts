import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  AdminUser,
  AuditLogEntry,
  Company,
  Contact,
  CrmConnection,
  hashPassword,
  ProviderSetting,
  RecordLink,
  ServiceToken,
  SyncCursorState,
  SyncLogEntry,
  SyncRun,
  Tenant,
} from '@pm/domain';
import { CRM_ORM } from '../../src/crm-integrations';
import { createStandaloneApp } from '../../src/standalone/bootstrap';
import { prepareRuntime } from '../../src/standalone/runtime';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const bundleDir = mkdtempSync(join(tmpdir(), 'pmcrm-adminjs-iso-'));
process.env.ADMIN_JS_TMP_DIR = bundleDir;

const SUPERADMIN = { email: 'root@example.com', password: 'root-password-1' };
const ACME_ADMIN = { email: 'acme-admin@example.com', password: 'acme-password-1' };
/** Every text of beta's rows carries it: an answer to acme's admin that holds it leaked beta's data. */
const MARKER = 'betamarker';

interface ActionJson {
  name: string;
  actionType: 'record' | 'resource' | 'bulk';
}
interface ResourceJson {
  id: string;
  actions: ActionJson[];
}

/**
 * Isolation in AdminJS, per resource and action read from AdminJS itself (the resources and actions the page's
 * state lists, so new ones join by themselves): a tenant admin of acme tries every record and bulk action on a
 * record of beta, and every resource action (list, search), and gets none of beta's data and changes none of it.
 */
describe('tenant isolation in every AdminJS resource and action', () => {
  let database: TestDatabase;
  let app: NestExpressApplication;
  let orm: MikroORM;
  let baseUrl: string;
  const counts = { resources: 0, actions: 0, tries: 0 };
  let betaConnectionId: string;
  /** A row of beta's: its text carries the marker, or it belongs to beta or to beta's connection. */
  const isBeta = (params: Record<string, unknown>) =>
    JSON.stringify(params).includes(MARKER) ||
    params.tenant === 'beta' ||
    params.tenantId === 'beta' ||
    params.connection === betaConnectionId;

  async function logIn(credentials: { email: string; password: string }): Promise<string> {
    const response = await fetch(`${baseUrl}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(credentials).toString(),
    });
    await response.text();
    return /pm_crm_admin=[^;]+/.exec(response.headers.getSetCookie().join('\n'))![0];
  }

  async function csrfToken(cookie: string): Promise<string> {
    const script = await (await fetch(`${baseUrl}/admin/csrf.js`, { headers: { Cookie: cookie } })).text();
    return JSON.parse(/var token = ("[^"]*")/.exec(script)![1]) as string;
  }

  /** The resources and their actions as AdminJS hands them to its page. */
  async function resourcesOf(cookie: string): Promise<ResourceJson[]> {
    const html = await (await fetch(`${baseUrl}/admin`, { headers: { Cookie: cookie } })).text();
    const state = /window\.REDUX_STATE = (\{[\s\S]*?\});\n/.exec(html);
    if (!state) throw new Error('No REDUX_STATE on the AdminJS page');
    return (JSON.parse(state[1]) as { resources: ResourceJson[] }).resources;
  }

  /** Every row of every table but the session and throttle bookkeeping, as text. */
  async function digest(): Promise<string> {
    const connection = orm.em.getConnection();
    const tables = await connection.execute<{ name: string }[]>(
      `select quote_ident(table_name) as name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not ilike '%session%'
          and table_name not ilike '%audit%' order by table_name`,
    );
    const parts: string[] = [];
    for (const { name } of tables) {
      const [row] = await connection.execute<{ digest: string }[]>(
        `select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ${name} t`,
      );
      parts.push(`${name}:${row.digest}`);
    }
    return parts.join('\n');
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    const runtime = await prepareRuntime({
      DATABASE_URL: database.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pmcrm-admin-iso-')),
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
    const beta = em.create(Tenant, { id: 'beta', name: `Beta ${MARKER}` });
    em.create(CrmConnection, { tenant: acme, provider: 'hubspot', label: 'Acme HubSpot' });
    const betaConnection = em.create(CrmConnection, {
      tenant: beta,
      provider: 'salesforce',
      label: `Beta ${MARKER}`,
      crmAccountId: `org-${MARKER}`,
    });
    const contact = em.create(Contact, { tenant: beta, email: `${MARKER}@beta.example`, firstName: MARKER });
    const run = em.create(SyncRun, { tenant: beta, connection: betaConnection, trigger: 'manual' });
    em.create(SyncLogEntry, {
      tenant: beta,
      connection: betaConnection,
      run,
      direction: 'to_crm',
      object: 'Contact',
      recordKey: `${MARKER}@beta.example`,
      action: 'created',
      message: `Contact synced: ${MARKER}@beta.example`,
    });
    em.create(RecordLink, {
      connection: betaConnection,
      localObject: 'contacts',
      localId: contact.id,
      crmObject: 'Contact',
      crmId: `003${MARKER}`,
    } as never);
    em.create(SyncCursorState, {
      connection: betaConnection,
      object: `Contact${MARKER}`,
      direction: 'from_crm',
    } as never);
    em.create(Company, { tenant: beta, name: `${MARKER} Corp`, domain: `${MARKER}.example` });
    em.create(ProviderSetting, { tenant: beta, provider: 'pipedrive', enabled: false } as never);
    em.create(AdminUser, {
      email: `${MARKER}-admin@beta.example`,
      passwordHash: await hashPassword('beta-password-1'),
      role: 'tenant_admin',
      tenant: beta,
    });
    em.create(ServiceToken, {
      tenant: beta,
      name: `${MARKER} backend`,
      tokenHash: 'h-beta',
      prefix: 'pmt_b',
    });
    em.create(AuditLogEntry, {
      actor: `admin:${MARKER}`,
      action: 'test.seeded',
      targetType: 'Tenant',
      targetId: 'beta',
      tenantId: 'beta',
    } as never);
    em.create(AdminUser, {
      email: ACME_ADMIN.email,
      passwordHash: await hashPassword(ACME_ADMIN.password),
      role: 'tenant_admin',
      tenant: acme,
    });
    await em.flush();
    betaConnectionId = betaConnection.id;
  });

  afterAll(async () => {
    process.stdout.write(
      `\nAdminJS isolation: ${counts.resources} resources, ${counts.actions} actions, ${counts.tries} ` +
        `cross-tenant tries by a tenant admin, 0 leaks\n`,
    );
    await app?.close();
    await database?.drop();
    rmSync(bundleDir, { recursive: true, force: true });
  });

  it("lets acme's tenant admin neither read nor change beta's records through any resource or action", async () => {
    const superCookie = await logIn(SUPERADMIN);
    const resources = (await resourcesOf(superCookie)).filter((resource) => resource.id.startsWith('Crm'));
    expect(resources.length).toBeGreaterThanOrEqual(10);
    const cookie = await logIn(ACME_ADMIN);
    const csrf = await csrfToken(cookie);
    const leaks: string[] = [];

    for (const resource of resources) {
      counts.resources++;
      // Beta's record of this resource, as the superadmin lists it.
      const listed = (await (
        await fetch(`${baseUrl}/admin/api/resources/${resource.id}/actions/list?perPage=500`, {
          headers: { Cookie: superCookie },
        })
      ).json()) as { records: { id: string; params: Record<string, unknown> }[] };
      const betaRecord = listed.records.find((record) => isBeta(record.params));
      if (!betaRecord) leaks.push(`${resource.id}: no beta record was seeded to try (add one)`);
      const before = await digest();
      for (const action of resource.actions) {
        counts.actions++;
        const base = `${baseUrl}/admin/api/resources/${resource.id}`;
        const tries: { url: string; method: 'GET' | 'POST' }[] = [];
        if (action.actionType === 'record' && betaRecord)
          for (const method of ['GET', 'POST'] as const)
            tries.push({
              url: `${base}/records/${encodeURIComponent(betaRecord.id)}/${action.name}`,
              method,
            });
        else if (action.actionType === 'bulk' && betaRecord)
          for (const method of ['GET', 'POST'] as const)
            tries.push({
              url: `${base}/bulk/${action.name}?recordIds=${encodeURIComponent(betaRecord.id)}`,
              method,
            });
        else if (action.actionType === 'resource' && action.name !== 'new')
          tries.push({ url: `${base}/actions/${action.name}?perPage=500`, method: 'GET' });
        if (action.name === 'search') tries.push({ url: `${base}/search/${MARKER}`, method: 'GET' });
        for (const attempt of tries) {
          counts.tries++;
          const form = new FormData();
          form.set('label', 'taken over');
          form.set('name', 'taken over');
          form.set('enabled', 'true');
          const response = await fetch(attempt.url, {
            method: attempt.method,
            headers: { Cookie: cookie, 'X-CSRF-Token': csrf, Origin: baseUrl },
            body: attempt.method === 'POST' ? form : undefined,
          });
          const text = await response.text();
          if (response.status >= 500) leaks.push(`${attempt.method} ${attempt.url}: ${response.status}`);
          if (text.includes(MARKER))
            leaks.push(`${attempt.method} ${attempt.url}: beta's data in the answer`);
          // A list or search must not name beta's record at all.
          if (action.actionType === 'resource' && betaRecord && text.includes(`"id":"${betaRecord.id}"`))
            leaks.push(`${attempt.method} ${attempt.url}: beta's record listed`);
        }
      }
      if ((await digest()) !== before) leaks.push(`${resource.id}: beta's (or any) rows changed`);
    }
    expect(leaks).toEqual([]);
  });
});
