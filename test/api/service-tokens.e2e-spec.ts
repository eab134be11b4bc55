import type { MikroORM } from '@mikro-orm/postgresql';
import request from 'supertest';
import { CRM_ORM, ServiceTokenService } from '../../src/crm-integrations';
import { startTestApp, type TestApp } from '../support/test-app';

describe('Service tokens over the API', () => {
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  // The API's clock: expiry and last-used times follow it, not the wall clock.
  let now = new Date('2026-12-06T09:00:00.000Z');
  const platform = () => ({ Authorization: `Bearer ${testApp.platformToken}` });
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };

  beforeAll(async () => {
    testApp = await startTestApp({}, { clock: () => now });
    http = request(testApp.app.getHttpServer());
    await http.put('/api/v1/tenants/acme').set(platform()).send({ name: 'Acme' }).expect(200);
    await http.put('/api/v1/tenants/globex').set(platform()).send({ name: 'Globex' }).expect(200);
  });

  afterAll(() => testApp.close());

  const auditRows = (targetId: string) =>
    testApp.app
      .get<MikroORM>(CRM_ORM)
      .em.getConnection()
      .execute<
        { actor: string; action: string; tenant_id: string | null }[]
      >(`select actor, action, tenant_id from audit_log_entries where target_id = ? order by id`, [targetId]);

  it('issues a tenant token shown once, stored hashed, that reaches only its tenant; audited', async () => {
    const created = await http
      .post('/api/v1/service-tokens')
      .set(platform())
      .send({ name: 'acme-backend', tenantId: 'acme' })
      .expect(201);
    expect(created.body).toMatchObject({
      name: 'acme-backend',
      tenantId: 'acme',
      status: 'active',
      createdBy: 'service:platform',
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(created.body.token).toMatch(/^pmcrm_/);
    expect(created.body.token.startsWith(created.body.prefix)).toBe(true);
    const rows = await testApp.app
      .get<MikroORM>(CRM_ORM)
      .em.getConnection()
      .execute<
        { token_hash: string }[]
      >(`select token_hash from service_tokens where id = ?`, [created.body.id]);
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].token_hash).not.toContain(created.body.token);

    await http.get('/api/v1/tenants/acme').set(bearer(created.body.token)).expect(200);
    await http.get('/api/v1/tenants/globex').set(bearer(created.body.token)).expect(403);
    // Listed without the token itself.
    const listed = await http
      .get('/api/v1/service-tokens')
      .query({ tenantId: 'acme' })
      .set(platform())
      .expect(200);
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0]).not.toHaveProperty('token');
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token.slice(12));
    expect(await auditRows(created.body.id)).toEqual([
      { actor: 'service:platform', action: 'service_token.created', tenant_id: 'acme' },
    ]);
  });

  it('manages tokens with the platform token only: a tenant token gets a 403 problem+json', async () => {
    const { body } = await http
      .post('/api/v1/service-tokens')
      .set(platform())
      .send({ name: 'acme-2', tenantId: 'acme' })
      .expect(201);
    const forbidden = await http
      .post('/api/v1/service-tokens')
      .set(bearer(body.token))
      .send({ name: 'escalate' })
      .expect(403);
    expect(forbidden.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(forbidden.body.detail).toBe('This route needs the platform token');
    await http.get('/api/v1/service-tokens').set(bearer(body.token)).expect(403);
    await http.delete(`/api/v1/service-tokens/${body.id}`).set(bearer(body.token)).expect(403);
    await http.get('/api/v1/service-tokens').expect(401);
  });

  it('only the platform token registers or renames a tenant: a tenant token renaming its own tenant is a 403', async () => {
    const { body } = await http
      .post('/api/v1/service-tokens')
      .set(platform())
      .send({ name: 'acme-3', tenantId: 'acme' })
      .expect(201);
    const own = await http
      .put('/api/v1/tenants/acme')
      .set(bearer(body.token))
      .send({ name: 'Hijacked' })
      .expect(403);
    expect(own.body).toMatchObject({ status: 403, detail: 'This route needs the platform token' });
    await http.put('/api/v1/tenants/newco').set(bearer(body.token)).send({ name: 'New' }).expect(403);
    const tenant = await http.get('/api/v1/tenants/acme').set(bearer(body.token)).expect(200);
    expect(tenant.body.name).toBe('Acme');
    // A platform-wide database token may, like SERVICE_TOKEN.
    const wide = await http.post('/api/v1/service-tokens').set(platform()).send({ name: 'ops' }).expect(201);
    expect(wide.body.tenantId).toBeNull();
    await http
      .put('/api/v1/tenants/acme')
      .set(bearer(wide.body.token))
      .send({ name: 'Acme Inc.' })
      .expect(200);
  });

  it('refuses an expired token with a 401 problem+json saying when it expired', async () => {
    const expiresAt = new Date(now.getTime() + 60 * 60 * 1000).toISOString();
    const { body } = await http
      .post('/api/v1/service-tokens')
      .set(platform())
      .send({ name: 'short-lived', tenantId: 'globex', expiresAt })
      .expect(201);
    expect(body.expiresAt).toBe(expiresAt);
    await http.get('/api/v1/tenants/globex').set(bearer(body.token)).expect(200);
    advance(60 * 60 * 1000);
    const expired = await http.get('/api/v1/tenants/globex').set(bearer(body.token)).expect(401);
    expect(expired.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(expired.body.detail).toBe(`This service token expired at ${expiresAt}`);
    const shown = await http.get(`/api/v1/service-tokens/${body.id}`).set(platform()).expect(200);
    expect(shown.body.status).toBe('expired');
  });

  it('updates the last-used time at most once a minute', async () => {
    const { body } = await http
      .post('/api/v1/service-tokens')
      .set(platform())
      .send({ name: 'busy', tenantId: 'globex' })
      .expect(201);
    const lastUsed = async () =>
      (await http.get(`/api/v1/service-tokens/${body.id}`).set(platform()).expect(200)).body.lastUsedAt;
    await http.get('/api/v1/tenants/globex').set(bearer(body.token)).expect(200);
    const first = now.toISOString();
    expect(await lastUsed()).toBe(first);
    advance(30_000);
    await http.get('/api/v1/tenants/globex').set(bearer(body.token)).expect(200);
    expect(await lastUsed()).toBe(first);
    advance(31_000);
    await http.get('/api/v1/tenants/globex').set(bearer(body.token)).expect(200);
    expect(await lastUsed()).toBe(now.toISOString());
  });

  it('revokes a token at once (401 next), idempotently, audited', async () => {
    const { body } = await http
      .post('/api/v1/service-tokens')
      .set(platform())
      .send({ name: 'to-revoke', tenantId: 'acme' })
      .expect(201);
    await http.get('/api/v1/tenants/acme').set(bearer(body.token)).expect(200);
    const revoked = await http.delete(`/api/v1/service-tokens/${body.id}`).set(platform()).expect(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', revokedAt: now.toISOString() });
    const refused = await http.get('/api/v1/tenants/acme').set(bearer(body.token)).expect(401);
    expect(refused.body.detail).toBe('Unknown or revoked service token');
    advance(1000);
    const again = await http.delete(`/api/v1/service-tokens/${body.id}`).set(platform()).expect(200);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    expect((await auditRows(body.id)).map((row) => row.action)).toEqual([
      'service_token.created',
      'service_token.revoked',
    ]);
    const active = await http
      .get('/api/v1/service-tokens')
      .query({ tenantId: 'acme' })
      .set(platform())
      .expect(200);
    expect(active.body.map((t: { id: string }) => t.id)).not.toContain(body.id);
    const all = await http
      .get('/api/v1/service-tokens')
      .query({ tenantId: 'acme', includeRevoked: 'true' })
      .set(platform())
      .expect(200);
    expect(all.body.map((t: { id: string }) => t.id)).toContain(body.id);
  });

  it('is managed through ServiceTokenService outside any request too (AdminJS, CLI), the same way', async () => {
    const service = testApp.app.get(ServiceTokenService);
    const issued = await service.create(
      { actor: 'admin@penguinmails.local' },
      { name: 'from-admin', tenantId: 'globex' },
    );
    expect(issued).toMatchObject({
      status: 'active',
      createdBy: 'admin@penguinmails.local',
      tenantId: 'globex',
    });
    await http.get('/api/v1/tenants/globex').set(bearer(issued.token)).expect(200);
    expect((await service.list({ tenantId: 'globex' })).map((token) => token.id)).toContain(issued.id);
    expect(await service.revoke({ actor: 'admin@penguinmails.local' }, issued.id)).toMatchObject({
      status: 'revoked',
    });
    expect((await service.get(issued.id)).status).toBe('revoked');
    await http.get('/api/v1/tenants/globex').set(bearer(issued.token)).expect(401);
    expect((await auditRows(issued.id)).map((row) => row.actor)).toEqual([
      'admin@penguinmails.local',
      'admin@penguinmails.local',
    ]);
  });

  it('names the bad field: unknown tenant, past expiry, bad date, bad id, unknown token', async () => {
    const post = (body: object) => http.post('/api/v1/service-tokens').set(platform()).send(body).expect(400);
    expect((await post({ name: 'x', tenantId: 'nobody' })).body.invalidParams).toEqual([
      { name: 'tenantId', reason: 'tenant "nobody" does not exist' },
    ]);
    expect((await post({ name: 'x', expiresAt: '2020-01-01T00:00:00Z' })).body.invalidParams).toEqual([
      { name: 'expiresAt', reason: 'must be in the future' },
    ]);
    expect((await post({ name: 'x', expiresAt: 'tomorrow' })).body.invalidParams).toEqual([
      { name: 'expiresAt', reason: 'expiresAt must be an ISO 8601 date-time' },
    ]);
    expect((await post({})).body.invalidParams.map((p: { name: string }) => p.name)).toContain('name');
    const badId = await http.delete('/api/v1/service-tokens/not-a-uuid').set(platform()).expect(400);
    expect(badId.body.invalidParams).toEqual([{ name: 'tokenId', reason: 'tokenId must be a UUID' }]);
    await http
      .delete('/api/v1/service-tokens/00000000-0000-4000-8000-000000000000')
      .set(platform())
      .expect(404);
  });
});
