import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import request from 'supertest';
import { AuditLogEntry, Contact, IdempotencyKey } from '@pm/domain';
import { API_CLOCK, CRM_ORM, ServiceTokenService, type ApiClock } from '../../src/crm-integrations';
import { startTestApp, type TestApp } from '../support/test-app';

const BATCH = '/api/v1/tenants/acme/contacts/batch';
const BATCH_DELETE = '/api/v1/tenants/acme/contacts/batch-delete';

/** Batch upsert and delete by e-mail, per-record results, and `Idempotency-Key`, as the PenguinMails backend calls them. */
describe('contacts batch API', () => {
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let orm: MikroORM;
  let acmeToken: string;
  let secondAcmeToken: string;
  let globexToken: string;
  const as = (token: string) => ({ Authorization: `Bearer ${token}` });
  const acme = () => as(acmeToken);

  beforeAll(async () => {
    testApp = await startTestApp();
    http = request(testApp.app.getHttpServer());
    const platform = as(testApp.platformToken);
    await http.put('/api/v1/tenants/acme').set(platform).send({ name: 'Acme' }).expect(200);
    await http.put('/api/v1/tenants/globex').set(platform).send({ name: 'Globex' }).expect(200);
    orm = testApp.app.get<MikroORM>(CRM_ORM);
    const tokens = testApp.app.get(ServiceTokenService);
    await RequestContext.create(orm.em, async () => {
      acmeToken = (await tokens.issue('acme-backend', 'acme')).token;
      secondAcmeToken = (await tokens.issue('acme-backend-2', 'acme')).token;
      globexToken = (await tokens.issue('globex-backend', 'globex')).token;
    });
  });

  afterAll(() => testApp.close());

  const stored = (tenant: string, email: string) =>
    orm.em.fork().findOne(Contact, { tenant, email }, { filters: false });

  it('upserts by e-mail with one result per contact in request order; bad ones are rejected by index, naming the field', async () => {
    await http
      .post('/api/v1/tenants/acme/contacts')
      .set(acme())
      .send({ email: 'old@example.com', firstName: 'Olga' })
      .expect(201);
    const response = await http
      .post(BATCH)
      .set(acme())
      .send({
        contacts: [
          { email: ' New.One@Example.com ', firstName: 'Nia', customFields: { plan: 'pro' } },
          { email: 'OLD@example.com', company: 'Acme' },
          { email: 'not-an-email' },
          'not an object',
          { email: 'new.one@example.com', firstName: 'Twice' },
          { email: 'x@example.com', firstName: 7 },
          { email: 'y@example.com', unknown: 'field' },
        ],
      })
      .expect(207);
    expect(response.body).toMatchObject({ created: 1, updated: 1, deleted: 0, notFound: 0, rejected: 5 });
    const results = response.body.results as {
      index: number;
      status: string;
      email: string;
      reason?: string;
    }[];
    expect(results.map((result) => [result.index, result.status, result.email])).toEqual([
      [0, 'created', 'new.one@example.com'],
      [1, 'updated', 'old@example.com'],
      [2, 'rejected', 'not-an-email'],
      [3, 'rejected', null],
      [4, 'rejected', 'new.one@example.com'],
      [5, 'rejected', 'x@example.com'],
      [6, 'rejected', 'y@example.com'],
    ]);
    expect(results[2].reason).toMatch(/^email/);
    expect(results[3].reason).toMatch(/object/);
    expect(results[4].reason).toMatch(/index 0/);
    expect(results[5].reason).toMatch(/^firstName/);
    expect(results[6].reason).toMatch(/unknown/);
    expect(await stored('acme', 'new.one@example.com')).toMatchObject({
      firstName: 'Nia',
      customFields: { plan: 'pro' },
    });
    expect(await stored('acme', 'old@example.com')).toMatchObject({ firstName: 'Olga', company: 'Acme' });
    expect(await stored('acme', 'x@example.com')).toBeNull();
    const audit = await orm.em.fork().find(AuditLogEntry, { action: 'contacts.batch_upserted' });
    expect(audit).toHaveLength(1);
  });

  it('deletes by e-mail: deleted, not found and rejected per e-mail; a deleted contact comes back as itself', async () => {
    const before = await stored('acme', 'new.one@example.com');
    const response = await http
      .post(BATCH_DELETE)
      .set(acme())
      .send({ emails: ['NEW.ONE@example.com', 'nobody@example.com', 'nope', 42, 'new.one@example.com'] })
      .expect(207);
    expect(response.body).toMatchObject({ deleted: 2, notFound: 1, rejected: 2 });
    expect((response.body.results as { status: string }[]).map((result) => result.status)).toEqual([
      'deleted',
      'not_found',
      'rejected',
      'rejected',
      'deleted',
    ]);
    expect((await stored('acme', 'new.one@example.com'))?.deletedAt).toBeInstanceOf(Date);
    await http
      .get('/api/v1/tenants/acme/contacts')
      .query({ email: 'new.one@example.com' })
      .set(acme())
      .expect(200, {
        data: [],
        nextCursor: null,
      });
    const again = await http
      .post(BATCH_DELETE)
      .set(acme())
      .send({ emails: ['new.one@example.com'] })
      .expect(207);
    expect(again.body.results[0].status).toBe('not_found');

    const revived = await http
      .post(BATCH)
      .set(acme())
      .send({ contacts: [{ email: 'new.one@example.com', lastName: 'Back' }] })
      .expect(207);
    expect(revived.body.results[0]).toMatchObject({ status: 'created', id: before!.id });
  });

  it('takes 1,000 contacts in one call and refuses 1,001 whole with 413 naming the limit', async () => {
    const contacts = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ email: `bulk${i}@example.com`, firstName: `Bulk ${i}` }));
    const ok = await http
      .post(BATCH)
      .set(acme())
      .send({ contacts: contacts(1000) })
      .expect(207);
    expect(ok.body.created).toBe(1000);
    const tooMany = await http
      .post(BATCH)
      .set(acme())
      .send({ contacts: contacts(1001) })
      .expect(413);
    expect(tooMany.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(tooMany.body.invalidParams).toEqual([
      { name: 'contacts', reason: 'at most 1000 contacts per request' },
    ]);
    const tooManyDeletes = await http
      .post(BATCH_DELETE)
      .set(acme())
      .send({ emails: Array.from({ length: 1001 }, (_, i) => `bulk${i}@example.com`) })
      .expect(413);
    expect(tooManyDeletes.body.invalidParams[0].name).toBe('emails');
  });

  it('answers 400 naming the field for a body without the array, and 403 for another tenant’s token', async () => {
    const missing = await http.post(BATCH).set(acme()).send({ contact: [] }).expect(400);
    expect(missing.body.invalidParams.map((param: { name: string }) => param.name)).toContain('contacts');
    const notArray = await http.post(BATCH_DELETE).set(acme()).send({ emails: 'a@b.c' }).expect(400);
    expect(notArray.body.invalidParams.map((param: { name: string }) => param.name)).toContain('emails');
    await http
      .post(BATCH)
      .set(as(globexToken))
      .send({ contacts: [{ email: 'spy@example.com' }] })
      .expect(403);
    await http
      .post('/api/v1/tenants/nowhere/contacts/batch')
      .set(as(testApp.platformToken))
      .send({ contacts: [] })
      .expect(404);
  });

  describe('Idempotency-Key', () => {
    const body = { contacts: [{ email: 'idem@example.com', firstName: 'Ida' }] };

    it('answers a repeated request from the store (same status and body) without writing again', async () => {
      const first = await http.post(BATCH).set(acme()).set('Idempotency-Key', 'key-1').send(body).expect(207);
      expect(first.body.created).toBe(1);
      // Changed since: a second run would now say "updated"; the replay still says what the first call did.
      await http
        .post('/api/v1/tenants/acme/contacts')
        .set(acme())
        .send({ email: 'idem@example.com', firstName: 'Changed' })
        .expect(200);
      const replay = await http
        .post(BATCH)
        .set(acme())
        .set('Idempotency-Key', 'key-1')
        .send({ contacts: [{ firstName: 'Ida', email: 'idem@example.com' }] })
        .expect(207);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect(await stored('acme', 'idem@example.com')).toMatchObject({ firstName: 'Changed' });

      const single = await http
        .post('/api/v1/tenants/acme/contacts')
        .set(acme())
        .set('Idempotency-Key', 'key-single')
        .send({ email: 'single@example.com' })
        .expect(201);
      const singleReplay = await http
        .post('/api/v1/tenants/acme/contacts')
        .set(acme())
        .set('Idempotency-Key', 'key-single')
        .send({ email: 'single@example.com' })
        .expect(201);
      expect(singleReplay.body).toEqual(single.body);
    });

    it('answers 422 problem+json naming Idempotency-Key when the key comes back with another body', async () => {
      const conflict = await http
        .post(BATCH)
        .set(acme())
        .set('Idempotency-Key', 'key-1')
        .send({ contacts: [{ email: 'other@example.com' }] })
        .expect(422);
      expect(conflict.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(conflict.body.invalidParams).toEqual([
        { name: 'Idempotency-Key', reason: 'was already used with another request body' },
      ]);
      expect(await stored('acme', 'other@example.com')).toBeNull();
      // The same key on another route is another request too.
      await http
        .post(BATCH_DELETE)
        .set(acme())
        .set('Idempotency-Key', 'key-1')
        .send({ emails: [] })
        .expect(422);
    });

    it('scopes keys per token and tenant, refuses a malformed key, and keeps no answer of a failed request', async () => {
      const other = await http
        .post(BATCH)
        .set(as(secondAcmeToken))
        .set('Idempotency-Key', 'key-1')
        .send({ contacts: [{ email: 'second@example.com' }] })
        .expect(207);
      expect(other.headers['idempotent-replayed']).toBeUndefined();
      expect(other.body.created).toBe(1);

      const bad = await http
        .post(BATCH)
        .set(acme())
        .set('Idempotency-Key', 'has spaces in it')
        .send(body)
        .expect(400);
      expect(bad.body.invalidParams[0].name).toBe('Idempotency-Key');

      await http
        .post(BATCH)
        .set(acme())
        .set('Idempotency-Key', 'key-retry')
        .send({ contact: [] })
        .expect(400);
      const retried = await http
        .post(BATCH)
        .set(acme())
        .set('Idempotency-Key', 'key-retry')
        .send({ contacts: [{ email: 'retry@example.com' }] })
        .expect(207);
      expect(retried.body.created).toBe(1);
    });

    it('forgets a key after 24 hours: the same key then runs a new request', async () => {
      const clock = testApp.app.get<ApiClock>(API_CLOCK);
      const real = clock.now;
      const key = await orm.em.fork().findOneOrFail(
        IdempotencyKey,
        { key: 'key-1', requestHash: { $ne: '' } },
        {
          orderBy: { createdAt: 'asc' },
        },
      );
      try {
        clock.now = () => new Date(key.expiresAt.getTime() + 1);
        const fresh = await http
          .post(BATCH)
          .set(acme())
          .set('Idempotency-Key', 'key-1')
          .send({ contacts: [{ email: 'after-a-day@example.com' }] })
          .expect(207);
        expect(fresh.headers['idempotent-replayed']).toBeUndefined();
        expect(fresh.body.created).toBe(1);
      } finally {
        clock.now = real;
      }
    });
  });
});
