import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { startTestApp, type TestApp } from '../support/test-app';

interface Answer {
  status: number;
  type: string;
  body: string;
  json?: { status?: number; detail?: string; invalidParams?: { name: string; reason: string }[] };
}

const UUID = '3b1f0c9e-4a2b-4c3d-8e5f-0a1b2c3d4e5f';
const cursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/**
 * Issue 14, hole 3: malformed requests of every kind the attack found answer 4xx problem+json naming the field or
 * the limit, never 500, never echoing the body; the service keeps serving.
 */
describe('bad input to the HTTP API', () => {
  let testApp: TestApp;
  let port: number;
  let token: string;

  function send(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: Buffer | string } = {},
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          headers: {
            Authorization: `Bearer ${token}`,
            ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
            ...options.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            const answer: Answer = {
              status: res.statusCode ?? 0,
              type: res.headers['content-type'] ?? '',
              body,
            };
            try {
              answer.json = JSON.parse(body) as Answer['json'];
            } catch {
              // not JSON: the assertions below say so
            }
            resolve(answer);
          });
        },
      );
      req.on('error', reject);
      if (options.body !== undefined) req.end(options.body);
      else req.end();
    });
  }

  const contacts = '/api/v1/tenants/acme/contacts';
  const json = (value: unknown) => JSON.stringify(value);

  function expectProblem(answer: Answer, status: number, named?: string | RegExp): void {
    expect({ status: answer.status, type: answer.type }).toEqual({
      status,
      type: expect.stringMatching(/^application\/problem\+json/),
    });
    expect(answer.json?.status).toBe(status);
    if (named !== undefined) {
      const names = (answer.json?.invalidParams ?? []).map((param) => param.name);
      const text = `${names.join(' ')} ${answer.json?.detail ?? ''}`;
      if (typeof named === 'string') expect(names).toContain(named);
      else expect(text).toMatch(named);
    }
  }

  beforeAll(async () => {
    testApp = await startTestApp();
    token = testApp.platformToken;
    await testApp.app.listen(0, '127.0.0.1');
    port = (testApp.app.getHttpServer().address() as AddressInfo).port;
    expect((await send('PUT', '/api/v1/tenants/acme', { body: json({ name: 'Acme' }) })).status).toBe(200);
  });

  afterAll(() => testApp.close());

  it('refuses a body over 100 kB naming the limit', async () => {
    const big = json({ email: 'big@example.com', customFields: { blob: 'x'.repeat(150_000) } });
    expectProblem(await send('POST', contacts, { body: big }), 413, /100 ?kB/);
  });

  it('refuses an unknown or broken Content-Encoding naming the header', async () => {
    const body = json({ email: 'enc@example.com' });
    expectProblem(
      await send('POST', contacts, { body, headers: { 'Content-Encoding': 'x-unknown' } }),
      415,
      /Content-Encoding/,
    );
    expectProblem(
      await send('POST', contacts, { body: 'not gzip at all', headers: { 'Content-Encoding': 'gzip' } }),
      400,
      /Content-Encoding/,
    );
    const ok = await send('POST', contacts, {
      body: gzipSync(body),
      headers: { 'Content-Encoding': 'gzip' },
    });
    expect(ok.status).toBe(201);
  });

  it('refuses a latin1 or unknown charset naming it', async () => {
    for (const charset of ['latin1', 'x-klingon']) {
      const answer = await send('POST', contacts, {
        body: json({ email: 'charset@example.com' }),
        headers: { 'Content-Type': `application/json; charset=${charset}` },
      });
      expectProblem(answer, 415, /charset/);
    }
  });

  it('refuses a NUL in any string or custom field, naming the field', async () => {
    expectProblem(
      await send('POST', contacts, { body: json({ email: 'nul@example.com', firstName: 'Jo\u0000hn' }) }),
      400,
      'firstName',
    );
    expectProblem(
      await send('POST', contacts, {
        body: json({ email: 'nul@example.com', customFields: { note: 'a\u0000' } }),
      }),
      400,
      'customFields.note',
    );
  });

  it('refuses a lone surrogate in a name, e-mail or custom field, naming the field', async () => {
    const raw = (field: string) =>
      field === 'email'
        ? '{"email":"a\\ud800b@example.com"}'
        : field === 'firstName'
          ? '{"email":"s@example.com","firstName":"x\\udc00"}'
          : '{"email":"s@example.com","customFields":{"nick":"\\ud83d"}}';
    expectProblem(await send('POST', contacts, { body: raw('email') }), 400, 'email');
    expectProblem(await send('POST', contacts, { body: raw('firstName') }), 400, 'firstName');
    expectProblem(await send('POST', contacts, { body: raw('custom') }), 400, 'customFields.nick');
  });

  it('refuses a cursor with a non-UUID id or a date out of range, naming the cursor', async () => {
    for (const bad of [
      cursor('2026-01-01T00:00:00.000Z|not-a-uuid'),
      cursor(`+300000-01-01T00:00:00.000Z|${UUID}`),
      cursor(`-002000-01-01T00:00:00.000Z|${UUID}`),
    ]) {
      expectProblem(await send('GET', `${contacts}?cursor=${bad}`), 400, 'cursor');
    }
  });

  it('refuses custom fields nested 5,000 deep naming the depth limit', async () => {
    const deep = `{"email":"deep@example.com","customFields":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    const answer = await send('POST', contacts, { body: deep });
    expectProblem(answer, 400, /customFields/);
    expect(answer.json?.detail).toMatch(/deep|depth|nest/i);
  });

  it('answers malformed JSON naming the body and the position, without echoing it', async () => {
    const answer = await send('POST', contacts, { body: '{"email": "secret-person@example.com", oops' });
    expectProblem(answer, 400, 'body');
    expect(answer.body).not.toContain('secret-person');
    expect(answer.body).not.toContain('oops');
  });

  it('names the path parameter that fails to decode', async () => {
    expectProblem(await send('GET', '/api/v1/tenants/%E0%A4%A/contacts'), 400, 'tenantId');
    expectProblem(await send('GET', `/api/v1/tenants/acme/contacts/%C0%AF`), 400, 'contactId');
  });

  it('answers headers too large with a problem+json 431', async () => {
    const answer = await send('GET', contacts, { headers: { 'X-Padding': 'p'.repeat(40_000) } });
    expectProblem(answer, 431, /header/i);
  });

  it('refuses __proto__, constructor and prototype keys naming them', async () => {
    expectProblem(
      await send('POST', contacts, { body: '{"email":"proto@example.com","__proto__":{"admin":true}}' }),
      400,
      '__proto__',
    );
    expectProblem(
      await send('POST', contacts, {
        body: json({ email: 'proto@example.com', customFields: { constructor: { prototype: 1 } } }),
      }),
      400,
      'customFields.constructor',
    );
  });

  it('still serves after all of it', async () => {
    const list = await send('GET', contacts);
    expect(list.status).toBe(200);
    const created = await send('POST', contacts, {
      body: json({ email: 'after@example.com', firstName: 'Zoë' }),
    });
    expect(created.status).toBe(201);
  });
});
