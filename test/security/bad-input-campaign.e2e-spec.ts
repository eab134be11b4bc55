import fc from 'fast-check';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app';

/** Replay a failing run with `FC_SEED=<seed> npx jest test/security/bad-input-campaign`. */
const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.FC_RUNS ?? 40);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A bad-input campaign over the HTTP API: generated malformed requests (bodies, path parameters, query values,
 * raw bytes), each of which must answer 4xx application/problem+json, and the service still serves afterwards.
 */
describe(`bad-input campaign over the HTTP API (seed ${SEED}; replay with FC_SEED=${SEED})`, () => {
  let testApp: TestApp;
  let http: ReturnType<typeof request>;
  const auth = () => ({ Authorization: `Bearer ${testApp.platformToken}` });

  const expectProblem = (response: request.Response, what: string) => {
    const ok =
      response.status >= 400 &&
      response.status < 500 &&
      /^application\/problem\+json/.test(String(response.headers['content-type']));
    if (!ok)
      throw new Error(
        `${what} answered ${response.status} ${response.headers['content-type']}: ${response.text}`,
      );
  };

  beforeAll(async () => {
    testApp = await startTestApp();
    http = request(testApp.app.getHttpServer());
    await http.put('/api/v1/tenants/acme').set(auth()).send({ name: 'Acme' }).expect(200);
  });

  afterAll(() => testApp.close());

  it('answers contact bodies without a valid e-mail with 4xx problem+json', async () => {
    const notAnEmail = fc.oneof(
      fc.constant(undefined),
      fc.jsonValue(),
      fc.string().filter((s) => !s.includes('@')),
    );
    const body = fc.record(
      { email: notAnEmail, firstName: fc.jsonValue(), customFields: fc.jsonValue(), extra: fc.jsonValue() },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        expectProblem(
          await http.post('/api/v1/tenants/acme/contacts').set(auth()).send(value),
          'POST contacts',
        );
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('answers malformed path parameters and query values with 4xx problem+json', async () => {
    const segment = fc
      .string({ minLength: 1, maxLength: 60 })
      .filter((s) => !UUID.test(s) && s.trim() !== '');
    await fc.assert(
      fc.asyncProperty(segment, fc.string({ minLength: 1, maxLength: 80 }), async (id, query) => {
        const encoded = encodeURIComponent(id);
        expectProblem(
          await http.get(`/api/v1/tenants/acme/contacts/${encoded}`).set(auth()),
          `GET contact ${encoded}`,
        );
        expectProblem(
          await http.get(`/api/v1/tenants/acme/connections/${encoded}/sync-runs`).set(auth()),
          `GET sync-runs ${encoded}`,
        );
        expectProblem(
          await http
            .get('/api/v1/tenants/acme/contacts')
            .query({ cursor: query, limit: `${query}x` })
            .set(auth()),
          'GET contacts with a bad cursor',
        );
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('answers raw bytes that are not a JSON object with 4xx problem+json', async () => {
    const bytes = fc.uint8Array({ minLength: 1, maxLength: 300 }).filter((data) => {
      try {
        const parsed: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
        return parsed === null || typeof parsed !== 'object';
      } catch {
        return true;
      }
    });
    await fc.assert(
      fc.asyncProperty(bytes, async (data) => {
        const response = await http
          .post('/api/v1/tenants/acme/contacts')
          .set(auth())
          .set('Content-Type', 'application/json')
          .send(Buffer.from(data));
        expectProblem(response, `POST ${Buffer.from(data).toString('base64')}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('still serves afterwards', async () => {
    await http.get('/health').expect(200);
    await http
      .post('/api/v1/tenants/acme/contacts')
      .set(auth())
      .send({ email: 'still@example.com' })
      .expect(201);
  });
});
