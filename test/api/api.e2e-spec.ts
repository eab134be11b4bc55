import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import request from 'supertest';
import { CrmConnection, ConnectionCredential, SecretBox, Tenant } from '@pm/domain';
import { CRM_ORM, ServiceTokenService } from '../../src/crm-integrations';
import { startTestApp, type TestApp } from '../support/test-app';

describe('HTTP API', () => {
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let acmeToken: string;
  let globexToken: string;
  let globexConnectionId: string;
  let acmeConnectionId: string;
  const platform = () => ({ Authorization: `Bearer ${testApp.platformToken}` });

  beforeAll(async () => {
    testApp = await startTestApp();
    http = request(testApp.app.getHttpServer());
    await http.put('/api/v1/tenants/acme').set(platform()).send({ name: 'Acme' }).expect(200);
    await http.put('/api/v1/tenants/globex').set(platform()).send({ name: 'Globex' }).expect(200);

    const orm = testApp.app.get<MikroORM>(CRM_ORM);
    const box = testApp.app.get(SecretBox);
    const em = orm.em.fork();
    const acme = em.create(CrmConnection, {
      tenant: em.getReference(Tenant, 'acme'),
      provider: 'salesforce',
      status: 'connected',
      crmAccountName: 'Acme SF',
    });
    const globex = em.create(CrmConnection, {
      tenant: em.getReference(Tenant, 'globex'),
      provider: 'hubspot',
      status: 'connected',
    });
    const sealed = box.seal(JSON.stringify({ accessToken: 'sf-access-token-SECRET' }), acme.id);
    em.create(ConnectionCredential, { connection: acme, ...sealed });
    await em.flush();
    acmeConnectionId = acme.id;
    globexConnectionId = globex.id;

    const tokens = testApp.app.get(ServiceTokenService);
    // Outside an HTTP request the ORM needs an explicit context, as a CLI or a job gives it.
    await RequestContext.create(orm.em, async () => {
      acmeToken = (await tokens.issue('acme-backend', 'acme')).token;
      globexToken = (await tokens.issue('globex-backend', 'globex')).token;
    });
  });

  afterAll(() => testApp.close());

  it('reports health with the database reachable', async () => {
    const response = await http.get('/health').expect(200);
    expect(response.body).toEqual({ status: 'ok', database: 'up' });
  });

  it('serves the OpenAPI document', async () => {
    const response = await http.get('/api/docs-json').expect(200);
    expect(response.body.openapi).toMatch(/^3\./);
    expect(Object.keys(response.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/tenants/{tenantId}/connections',
        '/api/v1/tenants/{tenantId}/contacts',
        '/api/v1/tenants/{tenantId}/connections/{connectionId}/mappings',
        '/api/v1/tenants/{tenantId}/connections/{connectionId}/fields',
        '/api/v1/tenants/{tenantId}/connections/{connectionId}/mappings/preview',
      ]),
    );
    const saveMapping =
      response.body.paths['/api/v1/tenants/{tenantId}/connections/{connectionId}/mappings'].put;
    expect(saveMapping.responses['400'].content['application/problem+json'].schema).toEqual({
      $ref: '#/components/schemas/ProblemDetailsDto',
    });
    expect(response.body.components.schemas.ProblemDetailsDto.properties.invalidParams).toBeDefined();
    const docs = await http.get('/api/docs').expect(200);
    expect(docs.text).toContain('swagger-ui');
  });

  it('refuses calls without a valid service token, as problem+json', async () => {
    const missing = await http.get('/api/v1/tenants/acme/connections').expect(401);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(missing.body).toMatchObject({ status: 401, title: 'Unauthorized' });
    await http
      .get('/api/v1/tenants/acme/connections')
      .set('Authorization', 'Bearer pmcrm_forged')
      .expect(401);
  });

  it("scopes a tenant's token to its own tenant: tenant A cannot read tenant B", async () => {
    const own = await http
      .get('/api/v1/tenants/acme/connections')
      .set('Authorization', `Bearer ${acmeToken}`)
      .expect(200);
    expect(own.body.map((c: { id: string }) => c.id)).toEqual([acmeConnectionId]);

    const other = await http
      .get('/api/v1/tenants/globex/connections')
      .set('Authorization', `Bearer ${acmeToken}`)
      .expect(403);
    expect(other.body.detail).toBe('This token is not valid for this tenant');
    await http
      .get(`/api/v1/tenants/globex/connections/${globexConnectionId}`)
      .set('Authorization', `Bearer ${acmeToken}`)
      .expect(403);
    // B's connection id under A's own path is simply not found.
    await http
      .get(`/api/v1/tenants/acme/connections/${globexConnectionId}`)
      .set('Authorization', `Bearer ${acmeToken}`)
      .expect(404);
    await http.get('/api/v1/tenants/acme/contacts').set('Authorization', `Bearer ${globexToken}`).expect(403);
    // Only the platform token registers tenants.
    await http
      .put('/api/v1/tenants/acme')
      .set('Authorization', `Bearer ${globexToken}`)
      .send({ name: 'x' })
      .expect(403);
  });

  it('never returns credentials with a connection', async () => {
    const response = await http
      .get(`/api/v1/tenants/acme/connections/${acmeConnectionId}`)
      .set(platform())
      .expect(200);
    expect(response.body).toMatchObject({
      provider: 'salesforce',
      status: 'connected',
      crmAccountName: 'Acme SF',
    });
    expect(JSON.stringify(response.body)).not.toMatch(/SECRET|sealed|credential|token/i);
  });

  it('names the bad field in a problem+json 400 and changes nothing', async () => {
    const bad = await http
      .patch(`/api/v1/tenants/acme/connections/${acmeConnectionId}/settings`)
      .set(platform())
      .send({ direction: 'sideways', frequency: 'hourly' })
      .expect(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.body.invalidParams).toEqual([
      { name: 'direction', reason: expect.stringContaining('direction must be one of') },
    ]);
    const unchanged = await http
      .get(`/api/v1/tenants/acme/connections/${acmeConnectionId}`)
      .set(platform())
      .expect(200);
    expect(unchanged.body.settings.frequency).toBe('every_15_minutes');

    const unknown = await http
      .patch(`/api/v1/tenants/acme/connections/${acmeConnectionId}/settings`)
      .set(platform())
      .send({ color: 'red' })
      .expect(400);
    expect(unknown.body.invalidParams[0].name).toBe('color');

    const notJson = await http
      .post('/api/v1/tenants/acme/contacts')
      .set(platform())
      .set('Content-Type', 'application/json')
      .send('{"email": ')
      .expect(400);
    expect(notJson.headers['content-type']).toMatch(/application\/problem\+json/);

    const badId = await http.get('/api/v1/tenants/acme/connections/not-a-uuid').set(platform()).expect(400);
    expect(badId.body.invalidParams).toEqual([
      { name: 'connectionId', reason: 'connectionId must be a UUID' },
    ]);
  });

  it('updates connection settings and records who changed what in the audit log', async () => {
    const response = await http
      .patch(`/api/v1/tenants/acme/connections/${acmeConnectionId}/settings`)
      .set('Authorization', `Bearer ${acmeToken}`)
      .send({ direction: 'to_crm', conflictPolicy: 'most_recent', objects: ['Contact'] })
      .expect(200);
    expect(response.body.settings).toMatchObject({
      direction: 'to_crm',
      conflictPolicy: 'most_recent',
      objects: ['Contact'],
      activityLogging: true,
    });

    const orm = testApp.app.get<MikroORM>(CRM_ORM);
    const [entry] = await orm.em
      .getConnection()
      .execute(
        `select actor, action, before, after from audit_log_entries where target_id = ? order by id desc limit 1`,
        [acmeConnectionId],
      );
    expect(entry).toMatchObject({ actor: 'service:acme-backend', action: 'connection.settings.updated' });
    expect(entry.before.direction).toBe('bidirectional');
    expect(entry.after.direction).toBe('to_crm');
  });

  it('turns on creating missing contacts for e-mail events: off by default, audited, a non-boolean refused by name', async () => {
    const auth = { Authorization: `Bearer ${acmeToken}` };
    const shown = await http
      .get(`/api/v1/tenants/acme/connections/${acmeConnectionId}`)
      .set(auth)
      .expect(200);
    expect(shown.body.settings.createMissingContacts).toBe(false);

    const bad = await http
      .patch(`/api/v1/tenants/acme/connections/${acmeConnectionId}/settings`)
      .set(auth)
      .send({ createMissingContacts: 'yes' })
      .expect(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.body.invalidParams).toEqual([
      { name: 'createMissingContacts', reason: expect.stringContaining('boolean') },
    ]);

    const response = await http
      .patch(`/api/v1/tenants/acme/connections/${acmeConnectionId}/settings`)
      .set(auth)
      .send({ createMissingContacts: true })
      .expect(200);
    expect(response.body.settings.createMissingContacts).toBe(true);
    const orm = testApp.app.get<MikroORM>(CRM_ORM);
    const [entry] = await orm.em
      .getConnection()
      .execute(
        `select actor, action, before, after from audit_log_entries where target_id = ? order by id desc limit 1`,
        [acmeConnectionId],
      );
    expect(entry).toMatchObject({ actor: 'service:acme-backend', action: 'connection.settings.updated' });
    expect(entry.before.createMissingContacts ?? false).toBe(false);
    expect(entry.after.createMissingContacts).toBe(true);
  });

  it('upserts contacts by normalised e-mail and pages through them', async () => {
    const auth = { Authorization: `Bearer ${acmeToken}` };
    const created = await http
      .post('/api/v1/tenants/acme/contacts')
      .set(auth)
      .send({ email: ' Jane@Example.com', firstName: 'Jane' })
      .expect(201);
    expect(created.body).toMatchObject({ email: 'jane@example.com', firstName: 'Jane', lastName: null });
    const updated = await http
      .post('/api/v1/tenants/acme/contacts')
      .set(auth)
      .send({ email: 'JANE@example.com', company: 'Acme' })
      .expect(200);
    expect(updated.body).toMatchObject({ id: created.body.id, firstName: 'Jane', company: 'Acme' });

    for (let i = 0; i < 5; i++) {
      await http
        .post('/api/v1/tenants/acme/contacts')
        .set(auth)
        .send({ email: `person${i}@example.com` })
        .expect(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await http
        .get('/api/v1/tenants/acme/contacts')
        .query(cursor ? { limit: 2, cursor } : { limit: 2 })
        .set(auth)
        .expect(200);
      seen.push(...page.body.data.map((c: { email: string }) => c.email));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([
      'jane@example.com',
      'person0@example.com',
      'person1@example.com',
      'person2@example.com',
      'person3@example.com',
      'person4@example.com',
    ]);

    // Another tenant does not see them.
    const globex = await http
      .get('/api/v1/tenants/globex/contacts')
      .set('Authorization', `Bearer ${globexToken}`)
      .expect(200);
    expect(globex.body.data).toEqual([]);
    await http
      .get(`/api/v1/tenants/globex/contacts/${created.body.id}`)
      .set('Authorization', `Bearer ${globexToken}`)
      .expect(404);
  });

  it('refuses an e-mail change onto another contact, naming the field', async () => {
    const auth = { Authorization: `Bearer ${acmeToken}` };
    const list = await http
      .get('/api/v1/tenants/acme/contacts')
      .query({ email: 'person0@example.com' })
      .set(auth)
      .expect(200);
    const response = await http
      .patch(`/api/v1/tenants/acme/contacts/${list.body.data[0].id}`)
      .set(auth)
      .send({ email: 'jane@example.com' })
      .expect(400);
    expect(response.body.invalidParams).toEqual([
      { name: 'email', reason: 'another contact of this tenant has this e-mail' },
    ]);
  });

  it('answers 404 for a tenant that does not exist', async () => {
    const response = await http.get('/api/v1/tenants/nobody/connections').set(platform()).expect(404);
    expect(response.body.detail).toBe('Tenant "nobody" does not exist');
  });
});
