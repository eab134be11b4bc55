import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Client } from 'pg';
import { startTestApp, type TestApp } from '../support/test-app';
import { appRoutes, fillPath, type AppRoute } from './route-table';

/** Replay a failing run with `FC_SEED=<seed> npx jest test/security/route-campaign`. */
const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CASES = Number(process.env.FC_CASES ?? 10_000);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;

// 10,000 requests took 50 s here on two cores under a load of 15 (other suites running); leave room for that.
jest.setTimeout(240_000);

interface Answer {
  status: number;
  type: string;
  body: string;
}

/** A case: a route, and what makes the request bad (each kind is refused whatever the rest says). */
type BadPart =
  | { kind: 'token'; value: string }
  | { kind: 'param'; name: string; value: string }
  | { kind: 'body'; value: Buffer }
  | { kind: 'field'; value: Record<string, unknown> };

/** A digest of every row of every table of the service's schema: "nothing stored changed" is an equal digest. */
async function databaseDigest(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      `select quote_ident(table_name) as name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
    );
    const parts: string[] = [];
    for (const { name } of tables.rows) {
      const answer = await client.query<{ digest: string | null }>(
        `select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ${name} t`,
      );
      parts.push(`${name}:${answer.rows[0].digest}`);
    }
    return parts.join('\n');
  } finally {
    await client.end();
  }
}

/**
 * The bad-input campaign over every route the router serves (read from the router, so new routes join by
 * themselves): fast-check picks a route and one part that makes the request bad — a malformed bearer token, a
 * malformed path parameter, a body that is not a JSON object, or a JSON object with a field no DTO has (whatever
 * else it holds) — at least 10,000 cases a run. Every answer to an API route is 4xx problem+json; the browser
 * routes (`/oauth/...`) answer a 4xx page. Nothing stored changes (a digest of every table before and after), and
 * the service still serves.
 */
describe(`bad-input campaign over every route (seed ${SEED}; replay with FC_SEED=${SEED})`, () => {
  let testApp: TestApp;
  let port: number;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let routes: AppRoute[];
  const known = {
    tenantId: 'acme',
    connectionId: '3b1f0c9e-4a2b-4c3d-8e5f-0a1b2c3d4e5f',
    contactId: '',
    provider: 'hubspot',
  } as Record<string, string>;

  function send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed for idleness just as this request went out (a pause longer than its
        // keep-alive timeout on a busy machine): Node's documented case for sending again on a new socket.
        if (req.reusedSocket && error.code === 'ECONNRESET')
          send(method, path, headers, body).then(resolve, reject);
        else reject(error);
      });
      if (body !== undefined) req.end(body);
      else req.end();
    });
  }

  beforeAll(async () => {
    testApp = await startTestApp();
    await testApp.app.listen(0, '127.0.0.1');
    port = (testApp.app.getHttpServer().address() as AddressInfo).port;
    routes = appRoutes(testApp.app);
    const auth = { Authorization: `Bearer ${testApp.platformToken}`, 'Content-Type': 'application/json' };
    await send('PUT', '/api/v1/tenants/acme', auth, Buffer.from('{"name":"Acme"}'));
    const created = await send(
      'POST',
      '/api/v1/tenants/acme/contacts',
      auth,
      Buffer.from('{"email":"kept@example.com","firstName":"Kept"}'),
    );
    known.contactId = (JSON.parse(created.body) as { id: string }).id;
  });

  afterAll(async () => {
    agent.destroy();
    await testApp?.close();
  });

  /** The bad parts a route can be given; a route with none (GET /health) takes no input to get wrong. */
  function badParts(route: AppRoute): fc.Arbitrary<BadPart>[] {
    const parts: fc.Arbitrary<BadPart>[] = [];
    if (route.authenticated)
      parts.push(
        fc
          .oneof(
            fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`),
            fc.string({ maxLength: 80 }),
            fc.constant('Bearer'),
            fc.stringMatching(/^Basic [A-Za-z0-9+/=]{0,40}$/),
          )
          .filter((value) => value !== `Bearer ${testApp.platformToken}` && /^[\t\x20-\x7e]*$/.test(value))
          .map((value) => ({ kind: 'token', value })),
      );
    for (const name of route.params) {
      const valid = name === 'tenantId' ? TENANT_ID : name === 'provider' ? /^[a-z][a-z0-9-]*$/ : UUID;
      parts.push(
        fc
          .string({ minLength: 1, maxLength: 90, unit: 'binary' })
          .filter((value) => !valid.test(value) && value.trim() !== '' && !/^\.\.?$/.test(value))
          .map((value) => ({ kind: 'param', name, value })),
      );
    }
    if (route.body) {
      parts.push(
        fc
          .oneof(
            fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
            fc
              .oneof(fc.array(fc.jsonValue()), fc.string(), fc.integer(), fc.constant(null))
              .map((value) => Buffer.from(JSON.stringify(value))),
          )
          .filter((bytes) => {
            try {
              const parsed: unknown = JSON.parse(bytes.toString('utf8'));
              return parsed === null || typeof parsed !== 'object' || Array.isArray(parsed);
            } catch {
              return true;
            }
          })
          .map((value) => ({ kind: 'body', value })),
        fc
          .tuple(
            fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
            fc.stringMatching(/^[a-z]{1,8}$/),
            fc.jsonValue({ maxDepth: 2 }),
          )
          .map(([fields, key, value]) => ({
            kind: 'field',
            value: { ...fields, [`zzUnknown_${key}`]: value },
          })),
      );
    }
    return parts;
  }

  it(`answers ${CASES} generated bad requests over every route with 4xx, stores nothing, keeps serving`, async () => {
    const covered = routes.filter((route) => badParts(route).length > 0);
    const uncovered = routes.filter((route) => badParts(route).length === 0);
    expect(covered.length).toBeGreaterThanOrEqual(20);
    const before = await databaseDigest(testApp.database.url);
    const perRoute = new Map<string, number>();
    const caseArbitrary = fc.oneof(
      ...covered.map((route) => fc.tuple(fc.constant(route), fc.oneof(...badParts(route)))),
    );

    // The cases come from the seed (fc.sample), and go out eight at a time: the same cases for the same seed, in
    // a fraction of the time one after another would take. The first wrong answer is reported with the seed.
    const one = async ([route, bad]: [AppRoute, BadPart]) => {
      const params = { ...known };
      if (bad.kind === 'param') params[bad.name] = bad.value;
      const headers: Record<string, string> = {
        Authorization: bad.kind === 'token' ? bad.value : `Bearer ${testApp.platformToken}`,
      };
      let body: Buffer | undefined;
      if (route.body) {
        headers['Content-Type'] = 'application/json';
        body =
          bad.kind === 'body'
            ? bad.value
            : Buffer.from(JSON.stringify(bad.kind === 'field' ? bad.value : { zzUnknown: true }));
      }
      const path = fillPath(route, params);
      const answer = await send(route.method, path, headers, body);
      const key = `${route.method} ${route.path}`;
      perRoute.set(key, (perRoute.get(key) ?? 0) + 1);
      const problem = /^application\/problem\+json/.test(answer.type);
      const ok = answer.status >= 400 && answer.status < 500 && (problem || !route.authenticated);
      if (!ok)
        failures.push(
          `${route.method} ${path} (${bad.kind}) answered ${answer.status} ${answer.type}: ${answer.body.slice(0, 300)}`,
        );
    };
    const failures: string[] = [];
    const cases = fc.sample(caseArbitrary, { seed: SEED, numRuns: CASES });
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < cases.length) await one(cases[next++]);
      }),
    );
    expect(cases).toHaveLength(CASES);
    expect(failures.slice(0, 5)).toEqual([]);

    expect(await databaseDigest(testApp.database.url)).toBe(before);
    const health = await send('GET', '/health', {});
    expect(health.status).toBe(200);
    const still = await send('GET', `/api/v1/tenants/acme/contacts/${known.contactId}`, {
      Authorization: `Bearer ${testApp.platformToken}`,
    });
    expect(still.status).toBe(200);
    process.stdout.write(
      `\nbad-input campaign (seed ${SEED}): ${CASES} cases over ${covered.length} routes ` +
        `(${[...perRoute].map(([route, count]) => `${route}: ${count}`).join(', ')}); ` +
        `routes taking no input: ${
          uncovered
            .filter((route) => !route.path.includes('*'))
            .map((route) => `${route.method} ${route.path}`)
            .join(', ') || 'none'
        } ` +
        `and the not-found fallback for ${uncovered.filter((route) => route.path.includes('*')).length} other methods; ` +
        `webhook receivers: ${routes.filter((route) => /webhook/i.test(route.path)).length}\n`,
    );
  });
});
