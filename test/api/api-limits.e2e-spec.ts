import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import request from 'supertest';
import { CrmConnection, Tenant } from '@pm/domain';
import { CRM_ORM } from '../../src/crm-integrations';
import { API_LIMITS } from '../../src/crm-integrations/http/limits';
import { startTestApp, type TestApp } from '../support/test-app';

/** Each limit the README names, enforced as it says: 413 for a body, 422 for a page size, problem+json naming it. */
describe('API limits', () => {
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  let connectionId: string;
  const platform = () => ({ Authorization: `Bearer ${testApp.platformToken}` });

  beforeAll(async () => {
    testApp = await startTestApp();
    http = request(testApp.app.getHttpServer());
    await http.put('/api/v1/tenants/acme').set(platform()).send({ name: 'Acme' }).expect(200);
    const em = testApp.app.get<MikroORM>(CRM_ORM).em.fork();
    const connection = em.create(CrmConnection, {
      tenant: em.getReference(Tenant, 'acme'),
      provider: 'hubspot',
      status: 'connected',
    });
    await em.flush();
    connectionId = connection.id;
  });

  afterAll(() => testApp.close());

  const expectLimit = (response: request.Response, status: number, name: string, reason: RegExp) => {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body.invalidParams).toEqual([{ name, reason: expect.stringMatching(reason) }]);
  };

  it.each([
    ['PUT', '/api/v1/tenants/acme'],
    ['PATCH', '/api/v1/tenants/acme/connections/:id/settings'],
    ['POST', '/api/v1/service-tokens'],
  ])('a %s body over 100 kB is a 413 naming the limit', async (method, path) => {
    const url = path.replace(':id', connectionId);
    const body = JSON.stringify({ name: 'x'.repeat(110 * 1024) });
    const call = method === 'PUT' ? http.put(url) : method === 'PATCH' ? http.patch(url) : http.post(url);
    const response = await call.set(platform()).set('Content-Type', 'application/json').send(body);
    expectLimit(response, 413, 'body', /larger than the 100 kB limit/);
  });

  it('an activity ingest body over 5 MB is a 413 naming that limit', async () => {
    const body = JSON.stringify({ events: [{ eventId: 'e', subject: 'x'.repeat(5.2 * 1024 * 1024) }] });
    const response = await http
      .post('/api/v1/tenants/acme/activities')
      .set(platform())
      .set('Content-Type', 'application/json')
      .send(body);
    expectLimit(response, 413, 'body', /larger than the 5 MB limit/);
  });

  it.each([
    ['/api/v1/tenants/acme/contacts'],
    ['/api/v1/tenants/acme/sync-log'],
    ['/api/v1/tenants/acme/connections/:id/sync-log'],
    ['/api/v1/tenants/acme/connections/:id/sync-runs'],
  ])('a page size over 500 on %s is a 422 naming the limit; 500 itself is served', async (path) => {
    const url = path.replace(':id', connectionId);
    const over = await http
      .get(url)
      .query({ limit: API_LIMITS.pageSize + 1 })
      .set(platform());
    expectLimit(over, 422, 'limit', /must not be greater than 500 \(the page size limit\)/);
    expect(over.body.type).toBe('urn:problem:limit-exceeded');
    await http.get(url).query({ limit: API_LIMITS.pageSize }).set(platform()).expect(200);
    // A malformed page size is still a 400: only a limit is a 422.
    const malformed = await http.get(url).query({ limit: 'lots' }).set(platform()).expect(400);
    expect(malformed.body.type).toBe('urn:problem:validation');
  });

  it('the README names the limits the code enforces', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.split('### API limits')[1]?.split('\n## ')[0] ?? '';
    expect(section).toContain(API_LIMITS.bodyBytes);
    expect(section).toContain(API_LIMITS.activityBodyBytes);
    expect(section).toContain(String(API_LIMITS.pageSize));
    expect(section).toContain('1,000');
    expect(section).toMatch(/413/);
    expect(section).toMatch(/422/);
  });
});
