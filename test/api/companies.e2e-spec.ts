import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import request from 'supertest';
import { CrmConnection, Tenant } from '@pm/domain';
import { CRM_ORM, ServiceTokenService } from '../../src/crm-integrations';
import { startTestApp, type TestApp } from '../support/test-app';

describe('HTTP API: companies', () => {
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let acme: { Authorization: string };
  let globex: { Authorization: string };

  beforeAll(async () => {
    testApp = await startTestApp();
    http = request(testApp.app.getHttpServer());
    const platform = { Authorization: `Bearer ${testApp.platformToken}` };
    await http.put('/api/v1/tenants/acme').set(platform).send({ name: 'Acme' }).expect(200);
    await http.put('/api/v1/tenants/globex').set(platform).send({ name: 'Globex' }).expect(200);
    const orm = testApp.app.get<MikroORM>(CRM_ORM);
    const tokens = testApp.app.get(ServiceTokenService);
    await RequestContext.create(orm.em, async () => {
      acme = { Authorization: `Bearer ${(await tokens.issue('acme-backend', 'acme')).token}` };
      globex = { Authorization: `Bearer ${(await tokens.issue('globex-backend', 'globex')).token}` };
    });
  });

  afterAll(() => testApp.close());

  it('upserts companies by domain, else by name, audits each change, and pages through them', async () => {
    const created = await http
      .post('/api/v1/tenants/acme/companies')
      .set(acme)
      .send({ name: ' Initech ', domain: 'https://www.Initech.example/about' })
      .expect(201);
    expect(created.body).toMatchObject({ name: 'Initech', domain: 'initech.example' });
    // The same domain is the same company: a rename.
    const renamed = await http
      .post('/api/v1/tenants/acme/companies')
      .set(acme)
      .send({ name: 'Initech Labs', domain: 'initech.example' })
      .expect(200);
    expect(renamed.body).toMatchObject({ id: created.body.id, name: 'Initech Labs' });
    // Without a domain, the name is the key; a later domain is added to that company.
    const byName = await http
      .post('/api/v1/tenants/acme/companies')
      .set(acme)
      .send({ name: 'Hooli' })
      .expect(201);
    await http
      .post('/api/v1/tenants/acme/companies')
      .set(acme)
      .send({ name: 'HOOLI', domain: 'hooli.example' })
      .expect(200)
      .expect(({ body }) => expect(body).toMatchObject({ id: byName.body.id, domain: 'hooli.example' }));
    for (let i = 0; i < 3; i++) {
      await http
        .post('/api/v1/tenants/acme/companies')
        .set(acme)
        .send({ name: `Company ${i}` })
        .expect(201);
    }

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await http
        .get('/api/v1/tenants/acme/companies')
        .query(cursor ? { limit: 2, cursor } : { limit: 2 })
        .set(acme)
        .expect(200);
      seen.push(...page.body.data.map((c: { name: string }) => c.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['Company 0', 'Company 1', 'Company 2', 'HOOLI', 'Initech Labs']);

    await http.delete(`/api/v1/tenants/acme/companies/${byName.body.id}`).set(acme).expect(204);
    const after = await http.get('/api/v1/tenants/acme/companies').set(acme).expect(200);
    expect(after.body.data.map((c: { name: string }) => c.name)).not.toContain('HOOLI');

    const orm = testApp.app.get<MikroORM>(CRM_ORM);
    const entries: { action: string }[] = await orm.em
      .getConnection()
      .execute(`select actor, action, before, after from audit_log_entries where target_id = ? order by id`, [
        created.body.id,
      ]);
    expect(entries.map((e) => e.action)).toEqual(['company.created', 'company.updated']);
    expect(entries[1]).toMatchObject({
      actor: 'service:acme-backend',
      before: { name: 'Initech', domain: 'initech.example' },
      after: { name: 'Initech Labs', domain: 'initech.example' },
    });

    // Another tenant sees none of them and cannot delete them.
    const other = await http.get('/api/v1/tenants/globex/companies').set(globex).expect(200);
    expect(other.body.data).toEqual([]);
    await http.delete(`/api/v1/tenants/globex/companies/${created.body.id}`).set(globex).expect(404);
    await http.get('/api/v1/tenants/globex/companies').set(acme).expect(403);
  });

  it('accepts the CRM’s company object in a connection’s objects (Account beside Contact)', async () => {
    const em = testApp.app.get<MikroORM>(CRM_ORM).em.fork();
    const connection = em.create(CrmConnection, {
      tenant: em.getReference(Tenant, 'acme'),
      provider: 'salesforce',
      status: 'connected',
    });
    await em.flush();
    const response = await http
      .patch(`/api/v1/tenants/acme/connections/${connection.id}/settings`)
      .set(acme)
      .send({ objects: ['Contact', 'Account'] })
      .expect(200);
    expect(response.body.settings.objects).toEqual(['Contact', 'Account']);
  });

  it('names the bad field in a problem+json 400', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'X', domain: 'not a domain' }, 'domain'],
      [{ name: 'x'.repeat(301) }, 'name'],
    ];
    for (const [body, field] of cases) {
      const response = await http.post('/api/v1/tenants/acme/companies').set(acme).send(body).expect(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body.invalidParams.map((p: { name: string }) => p.name)).toContain(field);
    }
    const badCursor = await http
      .get('/api/v1/tenants/acme/companies')
      .query({ cursor: 'nope' })
      .set(acme)
      .expect(400);
    expect(badCursor.body.invalidParams[0].name).toBe('cursor');
  });
});
