import { randomUUID } from 'node:crypto';
import { RequestContext, type MikroORM } from '@mikro-orm/postgresql';
import request from 'supertest';
import { CrmConnection, Tenant } from '@pm/domain';
import { CRM_ORM, ServiceTokenService } from '../../src/crm-integrations';
import { startTestApp, type TestApp } from '../support/test-app';
import { appRoutes, fillPath, type AppRoute } from './route-table';

/** A body each write route would accept from its own tenant, so a refusal is the isolation, not validation. */
function bodyFor(route: AppRoute): Record<string, unknown> | undefined {
  if (!route.body) return undefined;
  if (route.path.endsWith('/contacts') || route.path.endsWith('/contacts/'))
    return { email: 'intruder@example.com', firstName: 'Intruder' };
  if (route.path.endsWith('/:contactId')) return { firstName: 'Intruder' };
  if (route.path.endsWith('/settings')) return { direction: 'to_crm' };
  if (/\/connections\/?$/.test(route.path)) return { provider: 'hubspot' };
  if (route.path.endsWith('/activities')) return { activities: [] };
  if (/\/tenants\/:tenantId\/?$/.test(route.path)) return { name: 'Taken over' };
  if (route.path.endsWith('/companies')) return { name: 'Intruder Inc.' };
  if (route.path.endsWith('/mappings')) return { object: 'contacts', fields: [] };
  if (route.path.endsWith('/mappings/preview')) return { object: 'contacts', email: 'intruder@example.com' };
  return {};
}

/**
 * Isolation, one test per tenant route read from the router (new routes join by themselves): tenant A's token on
 * tenant B's path, and on its own path with B's record ids, is refused (403/404 problem+json), returns none of B's
 * data, and changes nothing of B's.
 */
describe('tenant isolation on every API route', () => {
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let orm: MikroORM;
  let acmeToken: string;
  // A webhook delivery id no tenant has: acme's path with it must answer 404 like any other tenant's id.
  const globex = {
    tenantId: 'globex',
    connectionId: '',
    contactId: '',
    companyId: '',
    deliveryId: randomUUID(),
  } as Record<string, string>;
  const tries = { routes: 0, requests: 0, leaks: 0 };
  let globexDigest: () => Promise<string>;

  const apiRoutes = (): AppRoute[] => {
    const probe = testApp;
    return appRoutes(probe.app).filter((route) => route.params.includes('tenantId'));
  };

  beforeAll(async () => {
    testApp = await startTestApp({}, {});
    http = request(testApp.app.getHttpServer());
    orm = testApp.app.get<MikroORM>(CRM_ORM);
    const platform = { Authorization: `Bearer ${testApp.platformToken}` };
    for (const id of ['acme', 'globex'])
      await http.put(`/api/v1/tenants/${id}`).set(platform).send({ name: id }).expect(200);
    const contact = await http
      .post('/api/v1/tenants/globex/contacts')
      .set(platform)
      .send({ email: 'secret.person@globex.example', firstName: 'Secret' })
      .expect(201);
    globex.contactId = (contact.body as { id: string }).id;
    const company = await http
      .post('/api/v1/tenants/globex/companies')
      .set(platform)
      .send({ name: 'Globex Secret Corp', domain: 'globex.example' })
      .expect(201);
    globex.companyId = (company.body as { id: string }).id;
    const em = orm.em.fork();
    const connection = em.create(CrmConnection, {
      tenant: em.getReference(Tenant, 'globex'),
      provider: 'hubspot',
      status: 'connected',
      connectedAt: new Date(),
      crmAccountId: 'globex-portal-42',
    });
    await em.flush();
    globex.connectionId = connection.id;
    await RequestContext.create(orm.em, async () => {
      acmeToken = (await testApp.app.get(ServiceTokenService).issue('acme-backend', 'acme')).token;
    });
    globexDigest = async () =>
      JSON.stringify(
        await orm.em.getConnection().execute(
          `select (select json_agg(c order by c.id) from contacts c where tenant_id = 'globex') as contacts,
                  (select json_agg(x order by x.id) from crm_connections x where tenant_id = 'globex') as connections,
                  (select json_agg(k order by k.id) from companies k where tenant_id = 'globex') as companies,
                  (select row_to_json(t) from tenants t where id = 'globex') as tenant`,
        ),
      );
  });

  afterAll(async () => {
    process.stdout.write(
      `\ntenant isolation: ${tries.routes} tenant routes, ${tries.requests} cross-tenant requests, ${tries.leaks} leaks\n`,
    );
    await testApp?.close();
  });

  it("refuses tenant A's token on every tenant route of tenant B, and B's ids under A's path", async () => {
    const routes = apiRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(15);
    const leaks: string[] = [];
    for (const route of routes) {
      tries.routes++;
      const before = await globexDigest();
      const acmePath = fillPath(route, { ...globex, tenantId: 'acme' });
      // B's own path; and A's path carrying B's record ids, where the route takes a record id.
      const paths = [fillPath(route, globex), ...(route.params.length > 1 ? [acmePath] : [])];
      for (const path of paths) {
        tries.requests++;
        const call = http[route.method.toLowerCase() as 'get'](path).set(
          'Authorization',
          `Bearer ${acmeToken}`,
        );
        const body = bodyFor(route);
        const answer = body === undefined ? await call : await call.send(body);
        const what = `${route.method} ${path} with acme's token`;
        if (![403, 404].includes(answer.status))
          leaks.push(`${what}: ${answer.status} ${answer.text.slice(0, 200)}`);
        if (!/^application\/problem\+json/.test(String(answer.headers['content-type'])))
          leaks.push(`${what}: ${answer.headers['content-type']}`);
        if (/secret\.person@globex\.example|globex-portal-42/.test(answer.text))
          leaks.push(`${what}: returned globex's data`);
      }
      if ((await globexDigest()) !== before)
        leaks.push(`${route.method} ${route.path}: changed globex's rows`);
    }
    tries.leaks = leaks.length;
    expect(leaks).toEqual([]);
  });
});
